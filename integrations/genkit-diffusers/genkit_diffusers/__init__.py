"""genkit-diffusers: ``genkit diffusion PROMPT --model M`` runs any diffusers text-to-image pipeline.

Entry module: it declares the generator and imports nothing heavy (no torch, no diffusers, not even
huggingface_hub); the checks its options name are light too, so ``genkit diffusion --help`` starts
as fast as genkit's own generators. The pipeline is loaded by ``generator.py`` when a run starts.
"""

from genkit import GeneratorSpec, Option, hookimpl

__version__ = "0.1.0"

PRECISIONS = ("auto", "fp32", "bf16", "fp16")

DIFFUSION_OPTIONS = (
    Option("prompt", "str", None, "What to draw.", argument=True),
    Option(
        "model",
        "str",
        None,
        "A diffusers pipeline: ORG/NAME[@REVISION] from your Hugging Face cache, or a folder "
        "save_pretrained wrote (genkit models diffusion lists those on disk).",
        validator="genkit_diffusers.checks:check_model",
    ),
    Option("negative", "str", None, "What to steer away from (the negative prompt)."),
    Option("steps", "int", None, "Denoising steps (default: the pipeline's).", min=1, max=1000),
    Option("guidance", "float", None, "Classifier-free guidance scale (default: the pipeline's).", min=0, max=100),
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


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="diffusion",
            modality="image",
            summary="Text-to-image (and image-to-image) with any diffusers pipeline you have on disk.",
            implementation="genkit_diffusers.generator:DiffusionGenerator",
            outputs=("png",),
            options=DIFFUSION_OPTIONS,
            max_n=10_000,
            catalog="genkit_diffusers.checks:local_models",
        )
    )
