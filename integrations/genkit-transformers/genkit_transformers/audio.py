"""The audio generator: MusicGen (text encoder, token decoder, EnCodec) from transformers, one WAV per item.

Each item seeds torch with its item seed before sampling, so item k is the same clip whatever ``--n``;
each generated audio frame advances genkit's step bar, which is also where Ctrl-C stops the run.
"""

from __future__ import annotations

import math
from typing import Any

from genkit import Audio, GenkitError, item_seed, step_progress
from genkit_transformers import checks, loading


class MusicGenerator:
    def __init__(self, device, weights=None):
        self.device = device
        self.model: Any = None  # built by load_model, once per model and precision
        self.loaded_for: tuple[Any, ...] | None = None
        self.record: Any = None

    def load_model(self, options: dict) -> dict:
        """Load the MusicGen model ``--model`` names, once per model and precision (genkit calls this
        before anything is written); returns what was loaded for every file's provenance."""
        key = (options.get("model"), options.get("precision"))
        if key == self.loaded_for:
            return self.record
        source, precision = loading.open_source(options, "audio", checks.is_musicgen, "MusicGen model", self.device)
        transformers = loading.quiet_libraries()
        self.processor = transformers.AutoProcessor.from_pretrained(
            source.folder, trust_remote_code=False, local_files_only=True
        )
        self.model = loading.load(source, transformers.MusicgenForConditionalGeneration, precision, self.device)
        self.loaded_for = key
        self.record = dict(source.record(), **{"class": type(self.model).__name__, "dtype": precision})
        return self.record

    def check_prompt(self, prompt: str) -> None:
        tokenizer = self.processor.tokenizer
        count = len(tokenizer(prompt).input_ids)
        limit = tokenizer.model_max_length if 0 < tokenizer.model_max_length < 10**9 else None
        if limit is not None and count > limit:
            raise GenkitError(f"the prompt is {count} tokens; this model reads at most {limit} (shorten it)")

    def generate(self, n: int, seed: int, options: dict, format: str):
        import torch

        self.load_model(options)  # already loaded by genkit's run; the Python API may change options
        self.check_prompt(options.get("prompt") or "")
        audio_config = self.model.config.audio_encoder
        rate = audio_config.sampling_rate
        frames = math.ceil(options["seconds"] * audio_config.frame_rate)
        wanted = round(options["seconds"] * rate)
        inputs = self.processor(text=[options.get("prompt") or ""], padding=True, return_tensors="pt").to(self.device)
        for index in range(n):
            s = item_seed(seed, index)
            torch.manual_seed(s)
            with step_progress(frames, f"item {index + 1} frames") as advance, torch.inference_mode():
                values = self.model.generate(
                    **inputs,
                    do_sample=True,
                    guidance_scale=options["guidance"],
                    temperature=options["temperature"],
                    max_new_tokens=frames + self.model.decoder.num_codebooks,
                    streamer=Frames(advance),
                )
            samples = values[0, 0].float().cpu().numpy()[:wanted]
            yield Audio(samples=samples.clip(-1, 1), rate=rate, index=index, seed=s, info={})


class Frames:
    """transformers' streamer interface, used as a progress hook: one advance per generated frame."""

    def __init__(self, advance):
        self.advance, self.started = advance, False

    def put(self, value) -> None:
        if self.started:  # the first call carries the start tokens
            self.advance()
        self.started = True

    def end(self) -> None:
        pass
