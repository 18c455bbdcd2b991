"""A generator that fails mid-run (test fixture)."""

import numpy as np

from genkit.artifacts import Image


class Crashy:
    def __init__(self, device, weights=None):
        pass

    def generate(self, n, seed, options, format):
        yield Image(pixels=np.zeros((4, 4), np.uint8), index=0, seed=1)
        raise RuntimeError("the model fell over")
