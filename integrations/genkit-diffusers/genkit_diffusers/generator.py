"""The diffusion generator: a diffusers pipeline loaded once, one image per item from the item's seed.

Each item gets its own ``torch.Generator`` seeded with genkit's item seed and is denoised alone, so
item k is the same image whatever ``--n``. The generator lives on the CPU: diffusers then draws the
starting noise there and moves it, so a seed gives the same noise on every device.
"""

from __future__ import annotations

from genkit import GenkitError, Image, item_seed, precision_for, step_progress
from genkit_diffusers import checks, loading


class DiffusionGenerator:
    def __init__(self, device, weights=None):
        self.device = device
        self.pipe = None

    def load_model(self, options: dict) -> dict:
        """Load the pipeline ``--model`` names (called by genkit before any file is written)."""
        if not options.get("model"):
            raise GenkitError(
                "genkit diffusion needs --model ORG/NAME or a folder (genkit models diffusion lists them)"
            )
        if options.get("strength") is not None and options.get("image") is None:
            raise GenkitError("--strength applies to image-to-image only; give --image PATH too")
        if options.get("offload") and self.device.type != "cuda":
            raise GenkitError(
                f"--offload moves parts between the CPU and a CUDA GPU; this run is on {self.device.type}"
            )
        source = checks.find_pipeline(options["model"])
        self.init_image = loading.read_image(options["image"], options.get("size")) if options.get("image") else None
        precision = precision_for(self.device, options.get("precision") or "auto")
        pipe = loading.load_pipeline(source, precision, img2img=self.init_image is not None)
        if options.get("scheduler"):
            loading.set_scheduler(pipe, options["scheduler"])
        for text in (options.get("prompt"), options.get("negative")):
            loading.check_prompt_length(pipe, text or "")
        loading.save_memory(pipe, self.device, options)
        self.pipe = pipe
        return dict(
            source.record(),
            pipeline=type(pipe).__name__,
            scheduler=type(pipe.scheduler).__name__,
            scheduler_config=loading.plain(dict(pipe.scheduler.config)),
            dtype=precision,
        )

    def generate(self, n: int, seed: int, options: dict, format: str):
        import torch

        if self.pipe is None:  # the Python API builds the generator and calls generate directly
            self.load_model(options)
        arguments = self.call_arguments(options)
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
        """The pipeline call for this run's options; an option left unset keeps the pipeline's default."""
        arguments = {"prompt": options.get("prompt") or ""}
        if options.get("negative"):
            arguments["negative_prompt"] = options["negative"]
        if options.get("steps") is not None:
            arguments["num_inference_steps"] = options["steps"]
        if options.get("guidance") is not None:
            arguments["guidance_scale"] = options["guidance"]
        if self.init_image is not None:
            arguments["image"] = self.init_image
            arguments["strength"] = options.get("strength") or 0.8
        elif options.get("size"):
            arguments["width"], arguments["height"] = checks.parse_size(options["size"])
        if "num_inference_steps" not in arguments:
            arguments["num_inference_steps"] = loading.default_steps(self.pipe)
        return arguments
