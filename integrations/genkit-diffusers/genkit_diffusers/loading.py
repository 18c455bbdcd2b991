"""Loading a diffusers pipeline the way genkit loads its own models: checked before memory is taken.

Every part that has weights is first built on the meta device from its config (no memory), and its
parameter count is compared with what its safetensors files hold, so a 2 kB config claiming a
100-billion-parameter UNet is refused in one line before anything is allocated. Then the pipeline
loads from safetensors only, never with remote code, quietly (genkit draws its own progress).
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
from pathlib import Path

from genkit import GenkitError, hub
from genkit_diffusers import checks

DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def quiet_libraries() -> None:
    """Offline unless asked, and no library progress bars or advice on stderr: genkit reports."""
    hub.offline_by_default()
    for name in ("TRANSFORMERS_VERBOSITY", "DIFFUSERS_VERBOSITY"):
        os.environ.setdefault(name, "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"(diffusers|transformers)\.")


def load_pipeline(source: hub.ModelSource, precision: str, img2img: bool = False):
    """The pipeline in ``source.folder`` at ``precision``, bounds-checked first; image-to-image on demand."""
    quiet_libraries()
    import diffusers
    import torch
    import transformers

    for library in (diffusers, transformers):  # their own bars ("Loading pipeline components") and advice
        library.utils.logging.disable_progress_bar()
        library.utils.logging.set_verbosity_error()
    index = checks.pipeline_index(source)
    check_sizes(source, index)
    dtype = getattr(torch, DTYPES[precision])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = diffusers.DiffusionPipeline.from_pretrained(
            source.folder, torch_dtype=dtype, use_safetensors=True, local_files_only=True
        )
        if img2img:
            try:
                pipe = diffusers.AutoPipelineForImage2Image.from_pipe(pipe)
            except (ValueError, KeyError) as exc:
                raise GenkitError(f"--image: {type(pipe).__name__} has no image-to-image form ({exc})") from None
    pipe.set_progress_bar_config(disable=True)
    return pipe


def check_sizes(source: hub.ModelSource, index: dict) -> None:
    """Each part's config, built on the meta device, must not claim more parameters than its weights hold."""
    import torch

    for part, (library, class_name) in checks.parts(index).items():
        folder = source.folder / part
        weights = sorted(folder.glob("*.safetensors"))
        if library is None or not weights or not (folder / "config.json").is_file():
            continue
        cls = getattr(__import__(library), class_name, None)
        if cls is None:
            raise GenkitError(f"--model {source.given}: its {part} names {library}.{class_name}, which does not exist")
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = _from_config(cls, folder, library)
        hub.refuse_oversized(sum(p.numel() for p in model.parameters()), weights, f"--model {source.given} ({part})")


def _from_config(cls, folder: Path, library: str):
    if library == "diffusers":
        return cls.from_config(cls.load_config(folder))
    from transformers import AutoConfig

    return cls(AutoConfig.from_pretrained(folder, trust_remote_code=False))


def set_scheduler(pipe, name: str) -> None:
    """Swap in another scheduler by class name, built from the current one's config."""
    usable = {cls.__name__: cls for cls in pipe.scheduler.compatibles}
    usable[type(pipe.scheduler).__name__] = type(pipe.scheduler)
    if name not in usable:
        raise GenkitError(f"--scheduler {name}: {type(pipe).__name__} can use {', '.join(sorted(usable))}")
    pipe.scheduler = usable[name].from_config(pipe.scheduler.config)


def check_prompt_length(pipe, text: str) -> None:
    """A prompt longer than the text encoder reads is refused, not silently cut."""
    for tokenizer in (getattr(pipe, "tokenizer", None), getattr(pipe, "tokenizer_2", None)):
        if tokenizer is None:
            continue
        count = len(tokenizer(text).input_ids)
        if count > tokenizer.model_max_length:
            raise GenkitError(
                f"the prompt is {count} tokens; this model reads at most {tokenizer.model_max_length} (shorten it)"
            )


def save_memory(pipe, device, options: dict) -> None:
    """Place the pipeline on the device, with the memory savers asked for."""
    if options.get("attention_slicing"):
        pipe.enable_attention_slicing()
    if options.get("vae_tiling"):
        if not hasattr(pipe, "enable_vae_tiling") and not hasattr(getattr(pipe, "vae", None), "enable_tiling"):
            raise GenkitError(f"--vae-tiling: {type(pipe).__name__} has no tiled decoding")
        (pipe.vae.enable_tiling if hasattr(pipe, "vae") else pipe.enable_vae_tiling)()
    if options.get("offload"):
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)


def read_image(path, size: str | None):
    """The --image picture as RGB, resized to --size, else to its own size rounded down to multiples of 8."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            picture = opened.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise GenkitError(f"--image {path}: cannot read it as a picture ({exc})") from None
    if size:
        width, height = checks.parse_size(size)
    else:
        width, height = (max(8, side - side % 8) for side in picture.size)
    return picture if picture.size == (width, height) else picture.resize((width, height))


def default_steps(pipe) -> int:
    """The pipeline's own default number of steps (what its __call__ uses when none is given)."""
    default = inspect.signature(type(pipe).__call__).parameters.get("num_inference_steps")
    return default.default if default is not None and isinstance(default.default, int) else 50


def steps_run(arguments: dict) -> int:
    """How many denoising steps a call runs: image-to-image skips the first (1 - strength) of them."""
    steps = arguments["num_inference_steps"]
    return max(1, min(steps, int(steps * arguments["strength"]))) if "strength" in arguments else steps


def plain(value):
    """A config as JSON values (tuples to lists, numpy scalars and the like to strings)."""
    return json.loads(json.dumps(value, default=str))
