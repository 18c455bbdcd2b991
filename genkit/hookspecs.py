"""The whole public plugin contract of genkit.

A plugin is any module registered under the ``genkit`` entry-point group. It implements
the hooks below with ``@genkit.hookimpl``. The module must stay light: import torch and
model code only inside the implementation class named by ``GeneratorSpec.implementation``,
which genkit imports when (and only when) that generator runs.
"""

import pluggy

hookspec = pluggy.HookspecMarker("genkit")
hookimpl = pluggy.HookimplMarker("genkit")


@hookspec
def genkit_register_generators(register):
    """Declare generators by calling ``register(GeneratorSpec(...))`` once for each.

    ``register`` raises ``ValueError`` for a malformed spec. A name already taken by another
    plugin is not an error for the caller: genkit keeps the first owner (built-ins, then installed
    third parties alphabetically, then $GENKIT_PLUGINS modules) and reports the conflict.
    """
