"""The entry module: declares the generator and imports nothing heavy."""

from genkit import hookimpl
from genkit.spec import GeneratorSpec, Option

__version__ = "0.1.0"


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="hello",
            modality="image",
            summary="Smooth colour gradients, one per seed (an example plugin).",
            implementation="genkit_hello.generator:HelloGenerator",
            outputs=("png",),
            uses_torch=False,  # numpy only: genkit need not import torch to run it
            options=(
                Option("size", "int", 32, "Width and height in pixels.", min=4, max=512),
                Option("palette", "choice", "warm", "Colour family.", choices=("warm", "cool", "grey")),
            ),
        )
    )
