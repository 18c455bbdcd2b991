"""genkit built-in video generator: looping latent walks through any image generator.

Entry module: declares the generator and imports nothing heavy.
"""

from genkit import hookimpl
from genkit.spec import GeneratorSpec, Option

__version__ = "0.1.0"


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="video",
            modality="video",
            summary="Seamless looping latent-walk animations from any image generator.",
            implementation="genkit_video.walk:LatentWalk",
            outputs=("gif", "webp", "mp4"),
            max_n=64,
            options=(
                Option("source", "str", "image", "Image generator to animate (needs a latent space)."),
                Option("frames", "int", 48, "Frames in the loop.", min=2, max=1000),
                Option("fps", "float", 12.0, "Frames per second.", min=0, min_open=True, max=100),
                Option("keyframes", "int", 4, "Random latent points the loop passes through.", min=2, max=64),
                Option("classes", "str", None, "Comma-separated classes to morph through, e.g. 'sneaker,boot,bag'."),
            ),
        )
    )
