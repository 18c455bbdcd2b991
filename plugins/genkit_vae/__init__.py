"""genkit built-in VAE: samples, reconstructions and latent interpolations of pictures (28x28 digits by default).

Entry module: declares the generator and imports nothing heavy.
"""

from genkit import hookimpl
from genkit.spec import GeneratorSpec, Option

__version__ = "0.1.0"


VAE_OPTIONS = (
    Option(
        "inputs",
        "path",
        None,
        "Images to reconstruct (with --reconstruct), one item each.",
        argument=True,
        multiple=True,
        one_item_each=True,
    ),
    Option("reconstruct", "bool", False, "Write each input image beside its reconstruction."),
    Option("interpolate", "bool", False, "Write the latent path between two points as an animation (-o x.gif)."),
    Option("frames", "int", 16, "Frames of an interpolation.", min=2, max=1000),
    Option("from", "path", None, "Start the interpolation at this image's code (needs --to)."),
    Option("to", "path", None, "End the interpolation at this image's code (needs --from)."),
)

VAE_TRAIN_OPTIONS = (
    Option(
        "size",
        "int",
        None,
        "Picture size in pixels (8, 14, 16, 28, 32, 56, 64, 112 or 128; default: "
        "the data's own, rounded down to one of these).",
        min=1,
        max=4096,
    ),
    Option(
        "mixed-sizes",
        "choice",
        "crop",
        "Images of different sizes or shapes: crop (centre square, then resize) or refuse.",
        choices=("crop", "refuse"),
    ),
    Option(
        "likelihood",
        "choice",
        "auto",
        "auto: Bernoulli over binarized values for grey data, a discretized logistic over 8-bit values for colour.",
        choices=("auto", "bernoulli", "logistic"),
    ),
    Option(
        "decoder",
        "choice",
        "auto",
        "auto: a transposed-convolution decoder for colour, the fully "
        "connected one for grey (the MNIST recipe, fast enough for k = 5000).",
        choices=("auto", "mlp", "conv"),
    ),
    Option(
        "iwae-k",
        "int",
        1,
        "Training objective: 1 is the ELBO; k > 1 the k-sample importance-weighted "
        "bound (IWAE, Burda et al. 2016), tighter, about k decoder passes per image.",
        min=1,
        max=5000,
    ),
    Option(
        "weights",
        "str",
        None,
        "Start from these VAE weights (a shipped name, a file or a run folder): fine-tuning.",
    ),
    Option(
        "eval-k",
        "int",
        None,
        "Importance samples per test image for the NLL estimate (default: 5000 "
        "with the fully connected decoder, 100 with the convolutional one).",
        min=1,
        max=100000,
    ),
    Option(
        "eval-images",
        "int",
        10000,
        "How many test images to measure (all 10,000 by default).",
        min=1,
        max=10000,
    ),
)


# The generator as this plugin declares it; its training task resolves --weights with it (genkit.lookup)
# instead of asking the core's registry for the plugin's own spec.
SPEC = GeneratorSpec(
    name="vae",
    modality="image",
    summary="A variational autoencoder of pictures (28x28 digits by default, colour up to 128 pixels): sample, reconstruct, interpolate.",
    implementation="genkit_vae.generator:VAEGenerator",
    outputs=("png", "gif"),
    default_weights="weights/vae-mnist.safetensors",
    options=VAE_OPTIONS,
    trainable=True,
    eval_options=("eval-k", "eval-images"),  # the train options genkit eval reads
    train_options=VAE_TRAIN_OPTIONS,
    package=__name__,  # its own spec, for its training task to resolve --weights with
)


@hookimpl
def genkit_register_generators(register):
    register(SPEC)
