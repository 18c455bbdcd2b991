"""genkit-transformers: ``genkit lm`` (any causal language model) and ``genkit audio`` (MusicGen).

Entry module: it declares the two generators and imports nothing heavy (no torch, no transformers);
the models load in ``lm.py`` and ``audio.py`` when a run starts.
"""

from genkit import GeneratorSpec, Option, hookimpl

__version__ = "0.1.0"

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
MAX_TOKENS = 100_000


def _model(kind: str, listed_by: str, check: str) -> Option:
    return Option(
        "model",
        "str",
        None,
        f"A {kind}: ORG/NAME[@REVISION] from your Hugging Face cache, or a folder save_pretrained wrote "
        f"(genkit models {listed_by} lists those on disk).",
        validator=f"genkit_transformers.checks:{check}",
    )


PRECISION = Option(
    "precision",
    "choice",
    "auto",
    "auto: fp16 (or bf16) on CUDA, bf16 on a CPU where genkit measured it faster, else fp32.",
    choices=PRECISIONS,
)

LM_OPTIONS = (
    Option("prompt", "str", "", "Text to continue ('' starts from the model's first token).", argument=True),
    _model("causal language model", "lm", "check_lm"),
    Option("max-tokens", "int", 200, f"Tokens to generate per sample (at most {MAX_TOKENS}).", min=1, max=MAX_TOKENS),
    Option(
        "temperature", "float", 1.0, "Divide the logits by this; 0 always takes the likeliest token.", min=0, max=100
    ),
    Option("top-k", "int", None, "Sample only among the K likeliest tokens.", min=1),
    Option(
        "top-p",
        "float",
        None,
        "Sample among the likeliest tokens whose probability adds up to P.",
        min=0,
        max=1,
        min_open=True,
    ),
    Option("stop", "str", None, "End a sample when it produces this text (not included)."),
    Option("chat", "bool", False, "Wrap the prompt as a user message in the model's chat template."),
    PRECISION,
)

AUDIO_OPTIONS = (
    Option("prompt", "str", None, "What the music should sound like.", argument=True),
    _model("MusicGen model", "audio", "check_audio"),
    Option("seconds", "float", 5.0, "Length of each clip in seconds.", min=0, min_open=True, max=120),
    Option("guidance", "float", 3.0, "Classifier-free guidance scale (1 turns it off).", min=1, max=100),
    Option("temperature", "float", 1.0, "Sampling temperature of the audio tokens.", min=0, min_open=True, max=100),
    PRECISION,
)


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="lm",
            modality="text",
            summary="Text from any causal language model you have on disk (transformers), streamed.",
            implementation="genkit_transformers.lm:LanguageModel",
            outputs=("txt",),
            options=LM_OPTIONS,
            max_n=10_000,
            catalog="genkit_transformers.checks:local_language_models",
        )
    )
    register(
        GeneratorSpec(
            name="audio",
            modality="audio",
            summary="Music from a text prompt with MusicGen (transformers), as WAV.",
            implementation="genkit_transformers.audio:MusicGenerator",
            outputs=("wav",),
            options=AUDIO_OPTIONS,
            max_n=10_000,
            catalog="genkit_transformers.checks:local_audio_models",
        )
    )
