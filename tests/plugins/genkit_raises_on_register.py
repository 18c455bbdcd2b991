"""A plugin that raises inside its registration hook (test fixture)."""

from genkit import hookimpl


@hookimpl
def genkit_register_generators(register):
    raise ValueError("registration exploded")
