"""genkit-diffusers: ``genkit diffusion PROMPT --model M`` runs any diffusers text-to-image pipeline,
and ``genkit train diffusion --data DIR`` trains a class-conditioned diffusers UNet on a picture folder
(``genkit diffusion --model fashion --class shirt`` samples the shipped ones).

Entry module: it declares the generator and imports nothing heavy (no torch, no diffusers, not even
huggingface_hub); the checks its options name are light too, so ``genkit diffusion --help`` starts
as fast as genkit's own generators. The pipeline is loaded by ``generator.py`` when a run starts.
"""

from genkit import GeneratorSpec, Option, hookimpl

__version__ = "0.1.0"

PRECISIONS = ("auto", "fp32", "bf16", "fp16")

DIFFUSION_OPTIONS = (
    Option("prompt", "str", "", "What to draw (text-to-image pipelines; genkit's models take --class).", argument=True),
    Option(
        "model",
        "str",
        None,
        "A diffusers pipeline: ORG/NAME[@REVISION] from your Hugging Face cache or a folder "
        "save_pretrained wrote (genkit models diffusion lists those on disk); or a class-conditioned model "
        "genkit trained: a shipped name (fashion, emoji), a 'genkit train diffusion' run or its weights file.",
        validator="genkit_diffusers.checks:check_model",
    ),
    Option(
        "class",
        "str",
        None,
        "Class-conditioned models: the class to draw, a name the model knows or its index "
        "(default: a random class per picture).",
    ),
    Option("negative", "str", None, "What to steer away from (the negative prompt)."),
    Option("steps", "int", None, "Denoising steps (default: the pipeline's; 16 for genkit's models).", min=1, max=1000),
    Option(
        "guidance",
        "float",
        None,
        "Classifier-free guidance scale (default: the pipeline's; 1, none, for genkit's models).",
        min=0,
        max=100,
    ),
    Option(
        "size",
        "str",
        None,
        "WIDTHxHEIGHT in pixels, each a multiple of 8 from 8 to 4096 (default: the model's).",
        validator="genkit_diffusers.checks:check_size",
    ),
    Option(
        "scheduler",
        "str",
        None,
        "A diffusers scheduler by class name, e.g. EulerDiscreteScheduler (default: the pipeline's; "
        "one the pipeline cannot use is refused naming those it can).",
        validator="genkit_diffusers.checks:check_scheduler_name",
    ),
    Option("image", "path", None, "Start from this picture instead of noise (image-to-image)."),
    Option(
        "strength",
        "float",
        None,
        "With --image: how far it may change, 0 to 1 (default 0.8).",
        min=0,
        max=1,
        min_open=True,
    ),
    Option(
        "precision",
        "choice",
        "auto",
        "auto: fp16 (or bf16) on CUDA, bf16 on a CPU where genkit measured it faster, else fp32.",
        choices=PRECISIONS,
    ),
    Option("offload", "bool", False, "Keep each part on the CPU until it runs (model CPU offload, CUDA only)."),
    Option("attention-slicing", "bool", False, "Compute attention in slices: less memory, a little slower."),
    Option("vae-tiling", "bool", False, "Decode in tiles: large sizes in less memory."),
)


TRAIN_OPTIONS = (
    Option(
        "objective",
        "choice",
        None,
        "What the UNet learns: flow (rectified flow, the default: better at every step count measured) or ddpm (predict the noise).",
        choices=("ddpm", "flow"),
    ),
    Option("size", "int", None, "Picture size (default: the data's, rounded down to 8-128 pixels).", min=8, max=128),
    Option(
        "width", "int", None, "Channels of the UNet's first level (default 32; doubled twice below).", min=8, max=256
    ),
    Option(
        "weights",
        "str",
        None,
        "Start from these diffusion weights (a shipped name, a file or a run folder): fine-tuning.",
    ),
    Option("classifier", "path", None, "Evaluation classifier weights (default: a shipped one that knows the data)."),
    Option("eval-samples", "int", 10_000, "Pictures generated for the metrics.", min=100, max=100_000),
    Option("eval-steps", "int", 16, "Sampling steps for the metrics' pictures.", min=1, max=1000),
    Option("eval-guidance", "float", 1.0, "Classifier-free guidance for the metrics' pictures.", min=0, max=100),
    Option(
        "mixed-sizes",
        "choice",
        "crop",
        "Pictures of several shapes: crop to the centre square (default) or refuse.",
        choices=("crop", "refuse"),
    ),
)

# The generator as this plugin declares it; its training task resolves --weights with it (genkit.lookup).
SPEC = GeneratorSpec(
    name="diffusion",
    modality="image",
    summary="Text-to-image with any diffusers pipeline you have on disk, or genkit's own class-conditioned UNets.",
    implementation="genkit_diffusers.generator:DiffusionGenerator",
    outputs=("png",),
    options=DIFFUSION_OPTIONS,
    max_n=10_000,
    catalog="genkit_diffusers.checks:local_models",
    trainable=True,
    train_options=TRAIN_OPTIONS,
    eval_options=("classifier", "eval-samples", "eval-steps", "eval-guidance", "mixed-sizes"),
    shipped="weights",
    package=__name__,
)


@hookimpl
def genkit_register_generators(register):
    register(SPEC)
