"""The Python API: ``genkit.load(name).generate(n=4, seed=0)`` returns artifacts in memory."""

from __future__ import annotations

from genkit import device as devices, registry
from genkit.artifacts import TextChunk
from genkit.errors import GenkitError


class LoadedGenerator:
    """A generator with its model loaded once; ``generate`` may be called many times."""

    def __init__(self, spec, device="auto", weights=None):
        from genkit.run import resolve_weights

        self.spec = spec
        self.device = devices.resolve_device(device)
        self.weights, _ = resolve_weights(spec, str(weights) if weights else None)
        self.impl = registry.import_implementation(spec)(device=self.device, weights=self.weights)

    def options(self, **given) -> dict:
        known = {o.dest: o for o in self.spec.options}
        unknown = set(given) - set(known)
        if unknown:
            raise GenkitError(f"{self.spec.name} has no option(s) {', '.join(sorted(unknown))}")
        values = {name: opt.default for name, opt in known.items()}
        values.update(given)
        for name, opt in known.items():
            try:
                opt.check(values[name])
            except ValueError as exc:
                raise GenkitError(str(exc)) from None
        return values

    def generate(self, n: int = 1, seed: int | None = None, **options) -> list:
        """Return a list of artifacts (text samples are joined into one TextChunk each)."""
        if n < 1:
            raise GenkitError(f"n must be at least 1, got {n}")
        seed = devices.new_seed() if seed is None else seed
        out, texts = [], {}
        for art in self.impl.generate(n=n, seed=seed, options=self.options(**options)):
            if isinstance(art, TextChunk):
                texts.setdefault(art.index, []).append(art)
                if art.done:
                    parts = texts.pop(art.index)
                    out.append(TextChunk(text="".join(p.text for p in parts), index=art.index, seed=art.seed,
                                         done=True, info=art.info))
            else:
                out.append(art)
        return out


def load(name: str, device: str = "auto", weights=None) -> LoadedGenerator:
    from genkit.registry import load_registry

    return LoadedGenerator(load_registry().get(name), device=device, weights=weights)
