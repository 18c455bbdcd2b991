"""genkit built-in image generator: a class-conditional GAN for 28x28 grey-scale images.

Entry module: declares the generator and imports nothing heavy (no torch, no numpy).
The model lives in model.py, the data readers in data.py, the metrics in metrics.py.
"""

from genkit import hookimpl
from genkit.spec import GeneratorSpec, Option

__version__ = "0.1.0"


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="image",
            modality="image",
            summary="28x28 grey-scale images from a class-conditional GAN (Fashion-MNIST by default).",
            implementation="genkit_image.generator:ImageGenerator",
            outputs=("png",),
            default_weights="weights/image-fashion.safetensors",
            options=(
                Option("class", "str", None,
                       "Class to draw: a name the weights know (e.g. 'sneaker') or its index. Default: a random class per image."),
                Option("truncation", "float", 1.0,
                       "Shrink the latent toward its mean: lower is more typical, less varied.",
                       min=0, min_open=True, max=1),
            ),
            trainable=True,
            eval_options=("classifier",),  # the train options genkit eval reads
            train_options=(
                Option("arch", "choice", "dcgan",
                       "dcgan: conditional conv GAN (default); mlp: the article's fully connected GAN; "
                       "classifier: the small CNN whose features genkit eval uses.",
                       choices=("dcgan", "mlp", "classifier")),
                Option("classifier", "path", None,
                       "Evaluation classifier weights for genkit eval (default: the shipped Fashion-MNIST one)."),
            ),
        )
    )
