"""The `spiro` generator: hypotrochoids, the curves a spirograph pen draws.

A wheel of radius r rolls inside a ring of radius R; a pen at distance d from the wheel's centre
traces

    x = (R - r) cos t + d cos((R - r) / r * t)
    y = (R - r) sin t - d sin((R - r) / r * t)

With R = loops and r = p coprime to it, the curve has exactly `loops` lobes and closes after the
wheel has gone round p times (t = 2 pi p). The seed picks p, d, a rotation and the colours, so
nothing here needs numpy: the standard library's random and math are enough, and exact.
"""

from __future__ import annotations

import colorsys
import math
import random

from genkit import GenkitError, item_seed
from genkit_svg.drawing import Drawing, Stroke

SIZE = 512  # drawing units; SVG scales losslessly, so one size is enough
_FIXED = {
    "ink": ["#1b2a49"],
    "sunset": ["#f8b24a", "#ef6f4c", "#c33c6a", "#6a2c70"],
    "sea": ["#0b3c5d", "#1d7a8c", "#46b3a8", "#a7e0c5"],
}


class SpiroGenerator:
    def __init__(self, device, weights=None):
        if weights is not None:
            raise GenkitError("spiro draws with geometry; it has no weights to load")

    def generate(self, n, seed, options, format):
        for i in range(n):
            s = item_seed(seed, i)  # item i looks the same whatever --n is
            yield self.draw(random.Random(s), options, index=i, seed=s)

    def draw(self, rng: random.Random, options: dict, index: int, seed: int) -> Drawing:
        loops, count = options["loops"], options["curves"]
        colours = _colours(rng, options["colour"], count)
        strokes, turns = [], []
        for colour in colours:
            p = rng.choice([k for k in range(1, loops) if math.gcd(k, loops) == 1])
            points = _hypotrochoid(loops, p, d=rng.uniform(0.3, 1.2) * p, turn=rng.uniform(0, 2 * math.pi))
            strokes.append(Stroke(points=points, colour=colour))
            turns.append(p)
        return Drawing(strokes=strokes, size=SIZE, index=index, seed=seed, info={"wheels": turns})


def _hypotrochoid(R: int, r: int, d: float, turn: float) -> list[tuple[float, float]]:
    """The closed curve as points in a SIZE x SIZE box, scaled so its farthest point nearly touches the edge."""
    steps = 48 * (R + r)  # about 48 points per lobe and per turn of the wheel: smooth at any size
    k = (R - r) / r
    raw = []
    for j in range(steps):
        t = 2 * math.pi * r * j / steps
        raw.append(((R - r) * math.cos(t) + d * math.cos(k * t), (R - r) * math.sin(t) - d * math.sin(k * t)))
    scale = 0.45 * SIZE / max(math.hypot(x, y) for x, y in raw)
    c, s, half = math.cos(turn), math.sin(turn), SIZE / 2
    return [(round(half + scale * (c * x - s * y), 2), round(half + scale * (s * x + c * y), 2)) for x, y in raw]


def _colours(rng: random.Random, palette: str, count: int) -> list[str]:
    if palette == "rainbow":  # evenly spaced hues from a random start
        start = rng.random()
        rgb = [colorsys.hsv_to_rgb((start + i / count) % 1.0, 0.75, 0.85) for i in range(count)]
        return ["#" + "".join(f"{round(255 * v):02x}" for v in c) for c in rgb]
    fixed = _FIXED[palette]
    offset = rng.randrange(len(fixed))
    return [fixed[(offset + i) % len(fixed)] for i in range(count)]
