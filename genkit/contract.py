"""The plugin contract: the hooks a plugin implements and the Protocols its classes satisfy.

A plugin is a module registered under the ``genkit`` entry-point group. Its entry module stays
light (no torch): it implements the hooks below with ``@genkit.hookimpl`` and hands genkit plain
descriptions. The heavy classes those descriptions name are imported only when used, and are
checked against the Protocols here at that moment, so a missing member is one readable line.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("genkit")
hookimpl = pluggy.HookimplMarker("genkit")


@hookspec
def genkit_register_generators(register):
    """Declare generators by calling ``register(GeneratorSpec(...))`` once for each.

    ``register`` raises ``ValueError`` for a malformed spec. A name already taken by another
    plugin is not an error for the caller: genkit keeps the first owner (built-ins, then installed
    third parties alphabetically, then $GENKIT_PLUGINS modules) and reports the conflict. Names of
    genkit's own commands are reserved and are reported the same way.
    """
