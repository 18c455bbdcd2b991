"""The diffusion generator: a diffusers pipeline (or a class-conditioned UNet genkit trained, classes.py)
loaded once, one image per item from the item's seed.

Each item gets its own ``torch.Generator`` seeded with genkit's item seed and is denoised alone, so
item k is the same image whatever ``--n``. The generator lives on the CPU: diffusers then draws the
starting noise there and moves it, so a seed gives the same noise on every device.
"""

from __future__ import annotations

from typing import Any

from genkit import GenkitError, Image, item_seed, precision_for, step_progress
from genkit_diffusers import checks, classes, loading

# The options that decide what is loaded; the others (prompt, steps, ...) only shape each call.
LOADING = ("model", "precision", "image", "scheduler", "offload", "attention_slicing", "vae_tiling")


class DiffusionGenerator:
    def __init__(self, device, weights=None):
        self.device = device
        self.weights = weights  # --weights: genkit's own diffusion weights, as --model NAME would name them
        self.pipe: Any = None  # built by load_model, once for the same loading options
        self.own: Any = None  # or a class-conditioned model genkit trained (classes.ClassModel)
        self.loaded_for: tuple[Any, ...] | None = None
        self.record: Any = None

    def load_model(self, options: dict) -> dict:
        """Load the pipeline ``--model`` names, once for the same loading options (genkit calls this
        before any file is written); returns what was loaded for every file's provenance."""
        key = tuple(bool(options.get(k)) if k == "image" else options.get(k) for k in LOADING)
        if key == self.loaded_for:
            return self.record
        own = checks.own_weights(options.get("model")) or self.weights
        if own is not None:
            precision = precision_for(self.device, options.get("precision") or "auto")
            self.own, self.pipe, self.loaded_for = classes.ClassModel(own, self.device, precision), None, key
            self.own.check(options)
            self.record = self.own.record
            return self.record
        if not options.get("model"):
            raise GenkitError(
                "genkit diffusion needs --model ORG/NAME or a folder (genkit models diffusion lists them)"
            )
        if options.get("offload") and self.device.type != "cuda":
            raise GenkitError(
                f"--offload moves parts between the CPU and a CUDA GPU; this run is on {self.device.type}"
            )
        source = checks.find_pipeline(options["model"])
        precision = precision_for(self.device, options.get("precision") or "auto")
        pipe = loading.load_pipeline(source, precision, img2img=bool(options.get("image")))
        if options.get("scheduler"):
            loading.set_scheduler(pipe, options["scheduler"])
        loading.save_memory(pipe, self.device, options)
        self.pipe, self.loaded_for = pipe, key
        self.record = dict(
            source.record(),
            pipeline=type(pipe).__name__,
            scheduler=type(pipe.scheduler).__name__,
            scheduler_config=loading.plain(dict(pipe.scheduler.config)),
            dtype=precision,
        )
        return self.record

    @classmethod
    def training_task(cls, data, options, config):
        from genkit_diffusers.task import DiffusionTask

        return DiffusionTask(data, options, config)  # type: ignore[abstract]  # its own train_step, no loss()

    def generate(self, n: int, seed: int, options: dict, format: str):
        import torch

        self.load_model(options)  # already loaded by genkit's run; the Python API may change options
        if self.own is not None:
            yield from self.own.generate(n, seed, options)
            return
        if options.get("class") is not None:
            raise GenkitError(
                "--class: a text-to-image pipeline draws what the prompt says; --class is for genkit's models"
            )
        if not options.get("prompt"):
            raise GenkitError("a text-to-image pipeline needs a PROMPT: genkit diffusion 'a red bicycle' --model M")
        arguments = self.call_arguments(options)  # every check of this run's values, before the first image
        for index in range(n):
            s = item_seed(seed, index)
            noise = torch.Generator("cpu").manual_seed(s)
            with step_progress(loading.steps_run(arguments), f"item {index + 1} steps") as advance:

                def on_step_end(pipe, step, timestep, tensors):
                    advance()  # also where Ctrl-C stops the run: at the next step, before any file
                    return tensors

                result = self.pipe(**arguments, generator=noise, callback_on_step_end=on_step_end, output_type="np")
            pixels = (result.images[0] * 255).round().clip(0, 255).astype("uint8")
            yield Image(pixels=pixels, index=index, seed=s, info={})

    def call_arguments(self, options: dict) -> dict:
        """The pipeline call for this run's options, checked; an option left unset keeps the pipeline's default."""
        if options.get("strength") is not None and not options.get("image"):
            raise GenkitError("--strength applies to image-to-image only; give --image PATH too")
        for text in (options.get("prompt"), options.get("negative")):
            loading.check_prompt_length(self.pipe, text or "")
        arguments = {"prompt": options.get("prompt") or ""}
        if options.get("negative"):
            arguments["negative_prompt"] = options["negative"]
        arguments["num_inference_steps"] = options.get("steps") or loading.default_steps(self.pipe)
        if options.get("guidance") is not None:
            arguments["guidance_scale"] = options["guidance"]
        if options.get("image"):
            arguments["image"] = loading.read_image(options["image"], options.get("size"))
            arguments["strength"] = options.get("strength") or 0.8
        elif options.get("size"):
            arguments["width"], arguments["height"] = checks.parse_size(options["size"])
        return arguments
