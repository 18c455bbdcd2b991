"""A plugin that raises inside its registration hook (test fixture)."""

from genkit.hookspecs import hookimpl


@hookimpl
def genkit_register_generators(register):
    raise ValueError("registration exploded")
