"""genkit built-in video generator: moving digits from a trained next-frames model, and latent walks.

Entry module: declares the generator and imports nothing heavy. The model is motion.py, the data
moving_mnist.py, training task.py, the generator predict.py (it hands --source runs to walk.py).
"""

from genkit import hookimpl
from genkit.spec import GeneratorSpec, Option

__version__ = "0.2.0"


VIDEO_OPTIONS = (
    Option(
        "primer",
        "path",
        None,
        "A clip to continue (GIF, WebP, MP4 or a folder of PNG frames); its last 10 frames are the context.",
    ),
    Option(
        "frames",
        "int",
        None,
        "Frames to write: the model's predictions (default 20, at most 200), or a latent walk's loop (default 48).",
        min=1,
        max=1000,
    ),
    Option(
        "with-context",
        "bool",
        False,
        "Put the 10 context frames (primer or seeded digits) before the predicted ones.",
    ),
    Option(
        "fps",
        "float",
        12.0,
        "Frames per second (0.1-100: a GIF frame lasts at most 655 s).",
        min=0.1,
        max=100,
    ),
    Option("source", "str", None, "Make a latent walk through this image generator instead (e.g. image, vae)."),
    Option(
        "source-weights",
        "str",
        None,
        "Latent walks: the source's weights, a shipped name (e.g. mnist), a file or a run folder (the same as --weights with --source).",
    ),
    Option(
        "keyframes",
        "int",
        None,
        "Latent walks: random latent points the loop passes through (default 4).",
        min=2,
        max=64,
    ),
    Option(
        "classes",
        "str",
        None,
        "Latent walks: comma-separated classes to morph through, e.g. 'sneaker,boot,bag'.",
    ),
)

VIDEO_TRAIN_OPTIONS = (
    Option("channels", "int", 64, "Width of the model at its finest (16x16) grid.", min=8, max=1024),
    Option("blocks", "int", 2, "Residual blocks per U-Net level.", min=1, max=16),
    Option("sequences", "int", 100_000, "Fresh training sequences per epoch.", min=1, max=100_000_000),
    Option(
        "eval-sequences",
        "int",
        10_000,
        "Test sequences genkit eval scores (the fixed set has 10,000).",
        min=1,
        max=10_000,
    ),
)


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="video",
            modality="video",
            summary="64x64 clips of moving digits from a model trained on Moving MNIST; --source walks an image latent space.",
            implementation="genkit_video.predict:VideoGenerator",
            outputs=("gif", "webp", "mp4"),
            default_weights="weights/video-moving-mnist.safetensors",
            weights_from="source",  # --source image --weights emoji: the walked generator's weights
            max_n=64,
            options=VIDEO_OPTIONS,
            trainable=True,
            train_options=VIDEO_TRAIN_OPTIONS,
            eval_options=("eval-sequences",),  # the train options genkit eval reads (the weights hold the rest)
        )
    )
