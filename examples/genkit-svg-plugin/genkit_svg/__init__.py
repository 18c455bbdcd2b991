"""The entry module: declares the `spiro` generator and the `drawing` output kind, imports nothing heavy.

genkit has no idea what an SVG file is. The second hook below teaches it: files ending in .svg
belong to the `drawing` kind and are written by SvgWriter, which brings its own CLI options.
"""

from genkit import ArtifactKind, GeneratorSpec, Option, hookimpl

__version__ = "0.1.0"

PALETTES = ("ink", "rainbow", "sunset", "sea")


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="spiro",
            modality="drawing",
            summary="Spirograph curves as SVG drawings, one per seed (an example plugin).",
            implementation="genkit_svg.generator:SpiroGenerator",
            outputs=("svg",),
            uses_torch=False,  # numpy only: genkit need not import torch to run it
            options=(
                Option("loops", "int", 7, "Lobes of each curve.", min=3, max=24),
                Option("curves", "int", 3, "Curves drawn on top of each other.", min=1, max=8),
                Option("colour", "choice", "ink", "Colours of the curves.", choices=PALETTES),
            ),
        )
    )


@hookimpl
def genkit_register_artifact_kinds(register):
    register(
        ArtifactKind(
            name="drawing",
            extensions=("svg",),
            writer="genkit_svg.writer:SvgWriter",  # imported only when a file is written
            options=(
                Option("stroke", "float", 1.5, "Line width in pixels.", min=0.1, max=20),
                Option(
                    "background",
                    "choice",
                    "none",
                    "Fill behind the curves.",
                    choices=("none", "white", "paper", "black"),
                ),
            ),
        )
    )
