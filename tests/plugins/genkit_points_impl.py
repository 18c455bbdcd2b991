import math
import random
from dataclasses import dataclass, field

from genkit import Writer, entry, files, item_seed
from genkit.artifacts import Artifact


@dataclass
class Points(Artifact):
    xy: list
    index: int
    seed: int
    info: dict = field(default_factory=dict)


class Dots:
    def __init__(self, device, weights=None):
        pass

    def generate(self, n, seed, options, format):
        for i in range(n):
            rng = random.Random(item_seed(seed, i))
            angles = [rng.uniform(0, 2 * math.pi) for _ in range(options["count"])]
            yield Points([(math.cos(a), math.sin(a)) for a in angles], i, item_seed(seed, i), {"format": format})


class OldDots(Dots):
    def generate(self, n, seed, options):  # no format argument: the old contract
        yield from ()


class XyzWriter(Writer):
    def check(self, items):
        self.refuse_existing(self.sidecar(p) for p in items)

    def write(self, artifact, path, provenance):
        self.expect(artifact, Points)
        digits = self.value("decimals")
        text = "".join(f"{x:.{digits}f} {y:.{digits}f} 0\n" for x, y in artifact.xy)
        files.write_atomic(path, text.encode(), self.run.overwrite)
        import json

        files.write_atomic(self.sidecar(path), json.dumps(provenance).encode(), self.run.overwrite)
        return entry(path, artifact)
