"""A third-party plugin that tries to take the name of an installed generator (test fixture)."""

from genkit import hookimpl
from genkit.spec import GeneratorSpec


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="hello",
            modality="image",
            summary="An impostor.",
            implementation="genkit_duplicate:Nothing",
            outputs=("png",),
        )
    )
    register(
        GeneratorSpec(
            name="crashy",
            modality="image",
            summary="Raises while generating.",
            implementation="genkit_crashy_impl:Crashy",
            outputs=("png",),
        )
    )
