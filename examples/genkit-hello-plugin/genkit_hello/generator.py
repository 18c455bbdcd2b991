"""The heavy part, imported only when `genkit hello` runs (numpy here; torch for real models).

It also offers the optional latent-space part of the contract (sample_latents / decode), so
`genkit video --source hello` can animate it like any real image generator.
"""

import numpy as np

from genkit.artifacts import Image
from genkit.device import item_seed
from genkit.errors import GenkitError

_PALETTES = {"warm": (1.0, 0.55, 0.2), "cool": (0.2, 0.6, 1.0), "grey": (0.8, 0.8, 0.8)}


class HelloGenerator:
    class_names = None  # not class-conditional
    latent_dim = 3

    def __init__(self, device, weights=None):
        if weights is not None:
            raise GenkitError("hello has no weights to load")
        self.device = device

    def sample_latents(self, seeds):
        """One latent per seed: the gradient's direction (a, b) and phase c, each in [-1, 1]."""
        return np.stack([np.random.default_rng(s).uniform(-1, 1, size=3) for s in seeds])

    def decode(self, latents, classes=None, size=32, palette="warm"):
        """Render a batch of latents as uint8 images, shape (k, size, size, 3)."""
        tint = np.array(_PALETTES[palette])
        yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
        latents = np.asarray(latents, dtype=np.float64)
        a, b, c = (latents[:, k, None, None] for k in range(3))
        field = 0.5 + 0.5 * np.sin(3 * (a * xx + b * yy) + c * 6)
        return (field[..., None] * tint * 255).round().astype(np.uint8)

    def generate(self, n, seed, options, format):
        for i in range(n):
            s = item_seed(seed, i)
            pixels = self.decode(self.sample_latents([s]), size=options["size"], palette=options["palette"])[0]
            yield Image(pixels=pixels, index=i, seed=s)
