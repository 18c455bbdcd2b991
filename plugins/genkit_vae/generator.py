"""`genkit vae`: samples, reconstructions of the user's images, and latent interpolations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genkit import datasets
from genkit.artifacts import Frames, Image
from genkit.device import item_seed
from genkit.errors import GenkitError
from genkit.models import ModelFormat
from genkit_vae.model import VAE, VAEConfig, mean_picture

# How a VAE's weights file becomes a model: its typed config (bounds in VAEConfig) and the network.
WEIGHTS = ModelFormat("vae", VAEConfig, build=VAE)


def read_input(path: Path, cfg: VAEConfig | None = None) -> np.ndarray:
    """Any image file -> float in [0, 1] at the model's size, (S, S) grey or (S, S, 3) colour.

    The file is read at its real bit depth (genkit.datasets.read_image: 16-bit, palette, alpha over
    white, EXIF orientation), centre-cropped to a square (logistic models; digit models stretch it)
    and resized (Lanczos) to the weights' size,
    turned grey or colour as they were trained. For a Bernoulli (digit) model an image with a light
    background (mean above 0.5) is inverted, so dark-on-light drawings work too.
    """
    cfg = cfg or VAEConfig()
    path = Path(path)
    if not path.exists():
        raise GenkitError(f"input image not found: {path}")
    x = datasets.read_image(path)
    if cfg.likelihood != "bernoulli":  # the digit models have always stretched their input; colour ones crop
        x = datasets.centre_square(x)
    x = datasets.to_colour(x) if cfg.image_channels == 3 else datasets.to_grey(x)
    x = datasets.resize(x, (cfg.size, cfg.size)).astype(np.float32)
    return 1 - x if cfg.likelihood == "bernoulli" and x.mean() > 0.5 else x


def to_uint8(values: torch.Tensor) -> np.ndarray:
    """(B, C, S, S) in [0, 1] -> uint8 (B, S, S) grey or (B, S, S, 3) colour."""
    pixels = (values.clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    return pixels[:, 0].numpy() if pixels.shape[1] == 1 else pixels.permute(0, 2, 3, 1).numpy()


class VAEGenerator:
    class_names = None

    def __init__(self, device, weights):
        self.loaded = WEIGHTS.load(weights, device)  # every check before any memory is used
        self.model = self.loaded.module
        self.device = device
        self.latent_dim = self.model.cfg.latent

    # -- the latent-space contract used by `genkit video`
    def sample_latents(self, seeds) -> torch.Tensor:
        return torch.stack(
            [torch.randn(self.latent_dim, generator=torch.Generator().manual_seed(s)) for s in seeds]
        ).to(self.device)

    @torch.no_grad()
    def decode(self, latents, classes=None) -> np.ndarray:
        out = self.model.decoder(torch.as_tensor(latents, dtype=torch.float32, device=self.device))
        return to_uint8(mean_picture(self.model.cfg, out))

    @torch.no_grad()
    def encode(self, images: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.stack(images)).float()
        x = (x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)).to(self.device)
        mu, _ = self.model.encoder(x)
        return mu

    def generate(self, n, seed, options, format):
        inputs = options.get("inputs") or []
        if options.get("from") and not options.get("to") or options.get("to") and not options.get("from"):
            raise GenkitError("--from and --to go together: give both images, or neither for two random points")
        if options["reconstruct"] and options["interpolate"]:
            raise GenkitError("--reconstruct and --interpolate are separate modes; pick one")
        if inputs and not options["reconstruct"]:
            raise GenkitError("input images are only read with --reconstruct")
        if options["reconstruct"]:
            if not inputs:
                raise GenkitError("--reconstruct needs at least one input image")
            yield from self._reconstruct(inputs, seed)
        elif options["interpolate"] or options.get("from"):
            if format != "gif":
                raise GenkitError("--interpolate writes an animation: give an output such as -o walk.gif")
            yield from self._interpolate(n, seed, options)
        else:
            yield from self._samples(n, seed)

    def _samples(self, n, seed, batch=256):
        for start in range(0, n, batch):
            seeds = [item_seed(seed, i) for i in range(start, min(n, start + batch))]
            for k, pixels in enumerate(self.decode(self.sample_latents(seeds))):
                yield Image(pixels=pixels, index=start + k, seed=seeds[k])

    def _reconstruct(self, inputs, seed):
        for path in inputs:
            if not Path(path).exists():
                raise GenkitError(f"input image not found: {path}")
        # The inputs' budget, from their headers, before any is decoded (each may be within its own limit).
        datasets.check_budget([(Path(p), 0) for p in inputs], True, datasets.MAX_INPUT_PIXELS, "the input images")
        images = [read_input(p, self.model.cfg) for p in inputs]  # read all first: a bad file fails before any write
        recon = self.decode(self.encode(images))
        for i, (x, r) in enumerate(zip(images, recon)):
            side = np.concatenate([(x * 255).round().astype(np.uint8), r], axis=1)  # input | reconstruction
            yield Image(pixels=side, index=i, seed=item_seed(seed, i), info={"input": str(inputs[i])})

    def _interpolate(self, n, seed, options):
        frames = options["frames"]
        for i in range(n):
            s = item_seed(seed, i)
            if options.get("from"):
                ends = self.encode(
                    [read_input(options["from"], self.model.cfg), read_input(options["to"], self.model.cfg)]
                )
            else:
                ends = self.sample_latents([item_seed(s, 0), item_seed(s, 1)])
            t = torch.linspace(0, 1, frames, device=self.device).unsqueeze(1)
            path = (1 - t) * ends[0] + t * ends[1]  # straight line between the two codes
            yield Frames(frames=list(self.decode(path)), fps=8, index=i, seed=s)

    @classmethod
    def training_task(cls, data, options, config):
        from genkit_vae.task import make_task

        return make_task(data, options, config)
