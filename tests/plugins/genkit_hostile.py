"""A plugin that prints to stdout at import and registers misbehaving generators (test fixture).

- ``quitter`` yields two images, then calls sys.exit(0) in the middle of generate();
- ``chatty`` prints to stdout while generating;
- ``interrupter`` raises KeyboardInterrupt itself (no Ctrl-C was pressed);
- ``plugins`` and ``inspect`` try to take genkit's own command names.
"""

from genkit import hookimpl
from genkit.spec import GeneratorSpec

print("hello from a plugin that prints at import")


@hookimpl
def genkit_register_generators(register):
    for name in ("quitter", "chatty", "interrupter", "plugins", "inspect", "help"):
        register(
            GeneratorSpec(
                name=name,
                modality="image",
                summary=f"Hostile test generator {name}.",
                implementation=f"genkit_hostile_impl:{name.capitalize()}",
                outputs=("png",),
            )
        )
