"""The generators of the hostile test plugin (test fixture)."""

import sys

import numpy as np

from genkit.artifacts import Image

print("the implementation module prints too")


class Quitter:
    def __init__(self, device, weights=None):
        pass

    def generate(self, n, seed, options, format=None):
        for i in range(2):
            yield Image(pixels=np.full((4, 4), 60 * i, np.uint8), index=i, seed=i)
        sys.exit(0)


class Chatty(Quitter):
    def generate(self, n, seed, options, format=None):
        for i in range(n):
            print("chatty writes to stdout")
            yield Image(pixels=np.zeros((4, 4), np.uint8), index=i, seed=i)


class Interrupter(Quitter):
    def generate(self, n, seed, options, format=None):
        yield Image(pixels=np.zeros((4, 4), np.uint8), index=0, seed=0)
        raise KeyboardInterrupt


Plugins = Inspect = Help = Chatty
