"""The heavy part, imported only when `genkit hello` runs (numpy here; torch for real models)."""

import numpy as np

from genkit.artifacts import Image
from genkit.errors import GenkitError
from genkit.runtime import item_seed

_PALETTES = {"warm": (1.0, 0.55, 0.2), "cool": (0.2, 0.6, 1.0), "grey": (0.8, 0.8, 0.8)}


class HelloGenerator:
    def __init__(self, device, weights=None):
        if weights is not None:
            raise GenkitError("hello has no weights to load")
        self.device = device

    def generate(self, n, seed, options):
        size = options["size"]
        tint = np.array(_PALETTES[options["palette"]])
        yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
        for i in range(n):
            s = item_seed(seed, i)
            rng = np.random.default_rng(s)
            a, b, c = rng.uniform(-1, 1, size=3)
            field = 0.5 + 0.5 * np.sin(3 * (a * xx + b * yy) + c * 6)
            pixels = (field[..., None] * tint * 255).round().astype(np.uint8)
            yield Image(pixels=pixels, index=i, seed=s)
