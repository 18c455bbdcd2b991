"""The Python API: ``genkit.load(name).generate(n=4, seed=0)`` returns artifacts in memory.

    import genkit
    gen = genkit.load("image", weights="mnist", device="cpu")
    for image in gen.generate(n=4, seed=1, options={"class": "3"}):
        image.save(f"three-{image.index}.png")      # same rules as the CLI: atomic, never clobbers

``gen.stream(prompt="ROMEO:")`` yields a text sample piece by piece; ``genkit.generators()`` lists the
generators and ``genkit.weights_for("image")`` the names ``weights=`` takes (shipped ones and your aliases).

Options are the generator's declared names (``options={"class": "bag"}``); as keyword arguments a
Python keyword takes a trailing underscore (``class_="bag"``), which is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator

from genkit import __version__, lookup
from genkit import device as devices
from genkit import weights as weights_io
from genkit.artifacts import TextChunk, TextSamples
from genkit.errors import GenkitError
from genkit.validation import check_values


class LoadedGenerator:
    """A generator with its model loaded once; ``generate`` may be called many times."""

    def __init__(self, spec, device="auto", weights=None):
        from genkit.run import load_generator

        self.spec = spec
        self.device = devices.device_for(spec, device)
        if weights is not None:
            from genkit.files import check_path_text

            check_path_text(weights, "weights")  # a NUL or a 5000-byte path: one line, as on the command line
        self.weights, self._default_weights = lookup.resolve(spec, str(weights) if weights else None)
        self.weights_sha256 = weights_io.sha256(self.weights) if self.weights else None
        self._weights_arg = str(weights) if weights else None
        self.impl = load_generator(spec, self.device, self.weights)

    def options(self, given: dict) -> dict:
        """Every declared option with its default, the given ones checked like the CLI does."""
        known = {o.key: o for o in self.spec.options}
        given = {k.rstrip("_").replace("-", "_"): v for k, v in given.items()}
        unknown = set(given) - set(known)
        if unknown:
            raise GenkitError(f"{self.spec.name} has no option(s) {', '.join(sorted(unknown))}")
        values = {key: opt.default for key, opt in known.items()}
        values.update(given)
        check_values(self.spec.options, values, self.spec.plugin)
        return values

    def _reproducer(self, values: dict, seed: int):
        """A function of (writer values, writer options, index, path) giving a file's reproduce command."""
        from genkit.run import command_line, reproduce_command

        def command(writer_values, writer_options, index, path):
            run = command_line(
                self.spec, {**values, **writer_values}, seed, self._weights_arg, self._default_weights, writer_options
            )
            return reproduce_command(run, index, path, self.spec.outputs[0])

        return command

    def generate(
        self, n: int = 1, seed: int | None = None, format: str | None = None, options: dict | None = None, **kw
    ) -> list:
        """Return a list of artifacts (a text sample's chunks are joined into one TextChunk)."""
        from genkit.run import command_line

        if not 1 <= n <= self.spec.max_n:
            raise GenkitError(f"n must be between 1 and {self.spec.max_n}, got {n}")
        fmt = format or self.spec.outputs[0]
        if fmt not in self.spec.outputs:
            raise GenkitError(f"{self.spec.name} writes {', '.join(self.spec.outputs)}, not {fmt}")
        seed = devices.new_seed() if seed is None else seed
        values = self.options({**(options or {}), **kw})
        provenance = {
            "genkit": __version__,
            "generator": self.spec.name,
            "plugin": self.spec.plugin,
            "seed": seed,
            "weights": self.weights.name if self.weights else None,
            "weights_sha256": self.weights_sha256,
            "device": self.device.type,
            "options": values,
            "command": command_line(self.spec, values, seed, self._weights_arg, self._default_weights),
        }
        from genkit.provenance import loaded_fields, model_fields

        load_model = getattr(self.impl, "load_model", None)
        if load_model is not None:  # a generator whose options name its model: what it loaded, as the CLI records it
            provenance.update(model_fields(load_model(values)))
        else:
            provenance.update(loaded_fields(self.impl))
        out = []
        for art in _joined(self.impl.generate(n=n, seed=seed, options=values, format=fmt)):
            art.provenance = dict(provenance, command=f"{provenance['command']} --n {art.index + 1}")
            art._reproduce = self._reproducer(values, seed)  # save() completes the command for its file
            out.append(art)
        return out

    def stream(self, seed: int | None = None, options: dict | None = None, **kw) -> Iterator[str]:
        """One text sample as it is made, piece by piece (``for piece in gen.stream(prompt="ROMEO:")``).

        For generators that write text; the pieces joined are the sample ``generate(n=1)`` returns
        for the same seed. Stopping early (``break``) stops the model too.
        """
        if "txt" not in self.spec.outputs:
            raise GenkitError(f"{self.spec.name} writes {', '.join(self.spec.outputs)}, not text; use generate()")
        seed = devices.new_seed() if seed is None else seed
        values = self.options({**(options or {}), **kw})
        for art in self.impl.generate(n=1, seed=seed, options=values, format="txt"):
            if isinstance(art, TextChunk) and art.text:
                yield art.text


def _joined(artifacts):
    """Pass artifacts through, joining each text sample's chunks into one."""
    samples = TextSamples()
    for art in artifacts:
        whole = samples.add(art) if isinstance(art, TextChunk) else art
        if whole is not None:
            yield whole


def load(name: str, device: str = "auto", weights=None) -> LoadedGenerator:
    from genkit.registry import load_registry

    return LoadedGenerator(load_registry().get(name), device=device, weights=weights)


def generators() -> list[dict]:
    """Every generator genkit finds: name, summary, outputs, trainable and plugin (nothing is loaded)."""
    from genkit.registry import load_registry

    return [
        {"name": s.name, "summary": s.summary, "outputs": list(s.outputs), "trainable": s.trainable, "plugin": s.plugin}
        for s in load_registry().generators.values()
    ]


def weights_for(name: str) -> dict[str, str]:
    """The names ``weights=`` takes for generator ``name``: its shipped weights and your aliases -> what each is."""
    from genkit.registry import load_registry

    return lookup.names(load_registry().get(name))
