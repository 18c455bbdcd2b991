"""`genkit diffusion --model fashion --class shirt`: sampling a class-conditioned UNet genkit trained.

``--model`` names one when it is a shipped name or one of your aliases for diffusion weights, a
``.safetensors`` file, or a folder holding ``diffusion.safetensors`` (a `genkit train diffusion`
run); anything else is a diffusers pipeline (generator.py). The weights load through
``genkit.models`` (header, config bounds, a meta-device build against the file's shapes, NaN) before
any memory is taken. Each picture is denoised alone from its item seed, so picture k is the same
whatever ``--n``.
"""

from __future__ import annotations

from pathlib import Path

from genkit import GenkitError, Image, item_seed, step_progress
from genkit.classnames import find_class
from genkit_diffusers import sampling, unet

DEFAULT_STEPS = 16
# Options that only text-to-image pipelines read.
PIPELINE_ONLY = ("prompt", "negative", "image", "strength", "size", "offload", "attention_slicing", "vae_tiling")


class ClassModel:
    """A loaded class-conditioned UNet and how to draw from it."""

    def __init__(self, path: Path, device, precision: str):
        import torch

        from genkit_diffusers.loading import quiet_libraries

        quiet_libraries()  # diffusers' advice about casting a model with .to() is not the user's business
        dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        self.loaded = unet.WEIGHTS.load(path, device, dtype)
        self.config = self.loaded.config
        self.device = device
        self.record = dict(self.loaded.record, objective=self.config.objective, dtype=precision)

    def check(self, options: dict) -> None:
        given = [name for name in PIPELINE_ONLY if options.get(name) not in (None, False, "")]
        if given:
            flag = "--" + given[0].replace("_", "-")
            what = "a prompt" if given[0] == "prompt" else flag
            raise GenkitError(
                f"{what}: this is a class-conditioned model ({self.loaded.record['source']}); use --class"
            )
        if options.get("class") is not None:
            if not self.config.num_classes:
                raise GenkitError("--class: this model was trained on one class and draws only that")
            find_class(str(options["class"]), self.config.class_names)
        unet.sampling_scheduler(self.config.objective, options.get("scheduler"))

    def generate(self, n: int, seed: int, options: dict):
        import torch

        self.check(options)
        steps = options.get("steps") or DEFAULT_STEPS
        guidance = options.get("guidance")
        guidance = 1.0 if guidance is None else float(guidance)
        if guidance != 1.0 and not self.config.num_classes:
            raise GenkitError("--guidance: this model has no classes to be guided towards")
        fixed = find_class(str(options["class"]), self.config.class_names) if options.get("class") is not None else None
        shape = (1, self.config.channels, self.config.size, self.config.size)
        for index in range(n):
            s = item_seed(seed, index)
            g = torch.Generator("cpu").manual_seed(s)
            noise = torch.randn(shape, generator=g).to(self.device)
            drawn = None
            if self.config.num_classes:
                drawn = fixed if fixed is not None else int(torch.randint(self.config.num_classes, (1,), generator=g))
            labels = None if drawn is None else torch.tensor([drawn], device=self.device)
            scheduler = unet.sampling_scheduler(self.config.objective, options.get("scheduler"))
            with torch.no_grad(), step_progress(steps, f"item {index + 1} steps") as advance:
                picture = sampling.denoise(self.loaded.module, scheduler, noise, labels, steps, guidance, advance)
            pixels = ((picture[0] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
            info = {"class": self.config.class_names[drawn]} if drawn is not None else {}
            yield Image(pixels=pixels[..., 0] if pixels.shape[2] == 1 else pixels, index=index, seed=s, info=info)
