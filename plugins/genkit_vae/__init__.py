"""genkit built-in VAE: samples, reconstructions and latent interpolations of 28x28 digits.

Entry module: declares the generator and imports nothing heavy.
"""

from genkit import hookimpl
from genkit.spec import GeneratorSpec, Option

__version__ = "0.1.0"


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="vae",
            modality="image",
            summary="A variational autoencoder of 28x28 digits: sample, reconstruct, interpolate.",
            implementation="genkit_vae.generator:VAEGenerator",
            outputs=("png", "gif"),
            default_weights="weights/vae-mnist.safetensors",
            options=(
                Option("inputs", "path", None, "Images to reconstruct (with --reconstruct), one item each.", argument=True, multiple=True, one_item_each=True),
                Option("reconstruct", "bool", False, "Write each input image beside its reconstruction."),
                Option("interpolate", "bool", False, "Write the latent path between two points as an animation (-o x.gif)."),
                Option("frames", "int", 16, "Frames of an interpolation.", min=2, max=1000),
                Option("from", "path", None, "Start the interpolation at this image's code (needs --to)."),
                Option("to", "path", None, "End the interpolation at this image's code (needs --from)."),
            ),
            trainable=True,
            train_options=(
                Option("eval-k", "int", 5000, "Importance samples per test image for the NLL estimate.", min=1, max=100000),
                Option("eval-images", "int", 10000, "How many test images to measure (all 10,000 by default).", min=1, max=10000),
            ),
        )
    )
