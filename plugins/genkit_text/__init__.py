"""genkit built-in text generator: a character-level transformer that streams what it samples.

Entry module: declares the generator and imports nothing heavy (no torch, no numpy).
The model lives in model.py, the corpus reader in data.py, sampling and training in generator.py.
"""

from genkit import hookimpl
from genkit.spec import GeneratorSpec, Option

__version__ = "0.1.0"

MAX_TOKENS = 10_000  # a cap that keeps a typo such as --max-tokens 5000000 from running for hours
# The shipped recipe's rate: at 4x128 on Tiny Shakespeare, 0 memorised (val 1.52) and 0.15 underfit
# (val 1.52) where 0.1 reached 1.4964 (weights/MODEL_CARD.md).
DEFAULT_DROPOUT = 0.1
# Where attention drops (model.py): "output" keeps the CPU's fused attention kernel, 1.3-1.9x faster
# to train (bench/text_dropout.py); "weights" is the placement the 0.1.x weights were trained with.
DROPOUT_PLACES = ("output", "weights")
DEFAULT_DROPOUT_AT = "output"


TEXT_OPTIONS = (
    Option(
        "prompt",
        "str",
        "",
        "Text to continue; '-' reads it from stdin. Empty: start a new line.",
        argument=True,
    ),
    Option(
        "max-tokens",
        "int",
        500,
        f"Characters to generate per sample (at most {MAX_TOKENS}).",
        min=1,
        max=MAX_TOKENS,
    ),
    Option(
        "temperature",
        "float",
        0.8,
        "Divide the logits by this: lower is safer, higher is wilder.",
        min=0,
        min_open=True,
        max=100,
    ),
    Option("top-k", "int", None, "Sample only among the K most likely characters.", min=1),
    Option(
        "top-p",
        "float",
        None,
        "Sample only among the most likely characters whose probability adds up to P (nucleus sampling).",
        min=0,
        min_open=True,
        max=1,
    ),
    Option("stop", "str", None, "Stop a sample when it produces this string (not included)."),
    Option("echo", "bool", False, "Write the prompt before its continuation."),
)

TEXT_TRAIN_OPTIONS = (
    Option("layers", "int", 4, "Transformer blocks (new models only).", min=1, max=48),
    Option("width", "int", 128, "Embedding width; a multiple of --heads (new models only).", min=8, max=4096),
    Option("heads", "int", 4, "Attention heads (new models only).", min=1, max=64),
    Option("block-size", "int", 128, "Context length in characters (new models only).", min=8, max=4096),
    Option("dropout", "float", DEFAULT_DROPOUT, "Dropout while training (new models only).", min=0, max=0.9),
    Option(
        "dropout-at",
        "choice",
        DEFAULT_DROPOUT_AT,
        "Where attention drops: its output (fast, fused kernel) or its weights (the older models' way).",
        choices=DROPOUT_PLACES,
    ),
)


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="text",
            modality="text",
            summary="Character-level transformer that continues a prompt (Tiny Shakespeare by default).",
            implementation="genkit_text.generator:TextGenerator",
            outputs=("txt",),
            default_weights="weights/text-shakespeare.safetensors",
            options=TEXT_OPTIONS,
            trainable=True,
            eval_options=(),  # the train options genkit eval reads
            train_options=TEXT_TRAIN_OPTIONS,
        )
    )
