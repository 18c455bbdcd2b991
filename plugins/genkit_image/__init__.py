"""genkit built-in image generator: a class-conditional GAN for grey or colour images (8 to 128 pixels).

Entry module: declares the generator and imports nothing heavy (no torch, no numpy).
The model lives in model.py, the data readers in data.py, the metrics in metrics.py.
"""

from genkit import hookimpl
from genkit.spec import GeneratorSpec, Option

__version__ = "0.1.0"


# Training options, a module constant so that task.py can read their declared defaults.
TRAIN_OPTIONS = (
    Option(
        "arch",
        "choice",
        "dcgan",
        "dcgan: conditional conv GAN (default); mlp: the article's fully connected GAN; "
        "classifier: the small CNN whose features genkit eval uses.",
        choices=("dcgan", "mlp", "classifier"),
    ),
    Option(
        "classifier",
        "path",
        None,
        "Evaluation classifier weights for genkit eval (default: a shipped one that knows the data's "
        "classes, else one eval trains on the data's train split and caches).",
    ),
    Option(
        "size",
        "int",
        None,
        "Picture size in pixels (8, 14, 16, 28, 32, 56, 64, 112 or 128; default: the data's own, "
        "rounded down to one of these). The mlp arch is 28 only.",
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
        "diffaugment",
        "bool",
        False,
        "dcgan: show D randomly shifted, cut out and colour-jittered "
        "pictures, real and fake alike (DiffAugment; for small datasets).",
    ),
    Option(
        "class-loss",
        "float",
        0.0,
        "dcgan: weight of an auxiliary class loss (AC-GAN): D also "
        "classifies real pictures, G is rewarded when its pictures read as their class (0: off).",
        min=0,
        max=100,
    ),
    Option(
        "lr-schedule",
        "choice",
        "constant",
        "GANs: the learning rate of G and D over the run: constant, or cosine (from --lr down to a tenth of it "
        "at the last step).",
        choices=("constant", "cosine"),
    ),
    Option("width", "int", 64, "dcgan channel width (64; smaller trains faster, for tests).", min=2, max=1024),
    Option(
        "weights",
        "str",
        None,
        "Start from these weights (a shipped name, a file or a run folder): fine-tuning; the class "
        "embedding follows the data's classes.",
    ),
)


# The generator as this plugin declares it; its training task resolves --weights with it (genkit.lookup)
# instead of asking the core's registry for the plugin's own spec.
SPEC = GeneratorSpec(
    name="image",
    modality="image",
    summary="Images from a class-conditional GAN, grey or colour, 8 to 128 pixels (Fashion-MNIST 28x28 by default).",
    implementation="genkit_image.generator:ImageGenerator",
    outputs=("png",),
    default_weights="weights/image-fashion.safetensors",
    options=(
        Option(
            "class",
            "str",
            None,
            "Class to draw: a name the weights know (e.g. 'sneaker') or its index. Default: a random class per image.",
        ),
        Option(
            "truncation",
            "float",
            1.0,
            "Shrink the latent toward its mean: lower is more typical, less varied.",
            min=0,
            min_open=True,
            max=1,
        ),
    ),
    trainable=True,
    eval_options=("classifier", "mixed-sizes"),  # the train options genkit eval reads
    train_options=TRAIN_OPTIONS,
    package=__name__,  # its own spec, for its training task to resolve --weights with
)


@hookimpl
def genkit_register_generators(register):
    register(SPEC)
