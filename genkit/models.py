"""One way to load and save a model: a typed config with bounds, checked on the meta device, recorded.

The idea is diffusers' ``ConfigMixin``/``ModelMixin``: a model declares its config once, and one
loader reads, checks, builds, places and records every model the same way. Here the declaration is
data, not a base class (a plugin's model code needs no genkit import): a ``ModelFormat`` names the
generator whose weights these are, the config dataclass and the function that builds the module.

    @dataclass
    class VAEConfig:
        latent: int = bounded(1, 4096, default=50)
        likelihood: str = one_of("bernoulli", "logistic", default="bernoulli")

    VAE_WEIGHTS = ModelFormat("vae", VAEConfig, build=VAE)
    loaded = VAE_WEIGHTS.load(path, device)     # loaded.module, loaded.config, loaded.record
    VAE_WEIGHTS.save(path, tensors, config, metadata={...})

``load`` refuses in one line (GenkitError, exit 2), before any memory is allocated for the model:
a file that is not checked safetensors (genkit.weights), another generator's weights, a config
field missing, of the wrong type or outside its bounds, a config whose network built on the meta
device (shapes only) does not match the file's tensors or exceeds ``max_parameters``, and tensors
holding NaN or infinity. Then it builds the module, loads the tensors, moves it to the device and
dtype, and keeps a provenance ``record`` of what it loaded (file, sha256, class, config, dtype),
which the core writes into every file the run makes (genkit.run).

A library's own models (a diffusers pipeline, a transformers model) keep their own configs and
``from_pretrained``; they use the same steps one by one: ``meta_parameters`` to build from a config
on the meta device and count, ``refuse_over_budget``, ``weights.check_finite`` and a ``record``
of the same shape (``source``, ``files`` with each file's sha256).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any

from genkit import weights, weights_check
from genkit.errors import GenkitError

# A single-file genkit model is a few million parameters; a config claiming more than this is refused
# even when a (huge) file would hold it, since it would not run on the computers genkit is for.
MAX_PARAMETERS = 2_000_000_000
_PLAIN_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}


def bounded(low: float, high: float, default: Any = MISSING) -> Any:
    """A config field holding a number in [low, high]; whole numbers when both bounds are ints."""
    return field(default=default, metadata={"bounds": (low, high)})


def one_of(*choices: Any, default: Any = MISSING) -> Any:
    """A config field holding one of ``choices``."""
    return field(default=default, metadata={"choices": tuple(choices)})


@dataclass(frozen=True)
class Loaded:
    """A model ready to run, with what it was built from and the record provenance keeps of it."""

    module: Any
    config: Any  # the config dataclass, every field checked
    metadata: dict[str, Any]  # the file's whole metadata: the generator's own keys (class names, vocabulary, ...)
    record: dict[str, Any]  # source, files (name -> sha256), class, config, dtype, parameters


@dataclass(frozen=True)
class ModelFormat:
    """How one generator's weights file becomes a module.

    generator: the generator whose ``genkit train`` writes these weights (their ``generator`` metadata).
    config: a dataclass describing the ``config`` table in the file's metadata; fields made with
        ``bounded`` or ``one_of`` are range-checked, the others type-checked by their annotation; keys
        the dataclass does not declare stay in ``Loaded.metadata["config"]`` for the generator.
    build: config -> ``torch.nn.Module`` (the model class itself when it takes its config).
    check: rules across fields (``n_embd`` a multiple of ``n_head``); raise ValueError with the reason.
    max_parameters: the most parameters a config may describe.
    """

    generator: str
    config: type
    build: Callable[[Any], Any]
    check: Callable[[Any], None] | None = None
    max_parameters: int = MAX_PARAMETERS

    def read_config(self, path: Path) -> tuple[Any, dict[str, Any]]:
        """The file's checked config and its whole metadata; nothing is built."""
        path = Path(path)
        meta = weights.metadata(path)
        owner = meta.get("generator")
        if isinstance(owner, str) and owner != self.generator:
            raise GenkitError(
                f"{path} holds {owner} weights, not {self.generator} ones (written by 'genkit train {owner}')"
            )
        table = meta.get("config")
        if not isinstance(table, dict):
            raise GenkitError(
                f"{path} holds no {self.generator} config in its metadata; was it written by 'genkit train {self.generator}'?"
            )
        config = self.config(**{f.name: _field_value(f, table, path, self.generator) for f in _fields(self.config)})
        if self.check is not None:
            try:
                self.check(config)
            except ValueError as exc:
                raise GenkitError(f"{path}: its config {exc}") from None
        return config, meta

    def load(self, path: Path, device: Any = "cpu", dtype: Any = None) -> Loaded:
        """Check everything about ``path`` (see the module's docstring), then build, load and place the model."""
        path = Path(path)
        config, meta = self.read_config(path)
        parameters = weights_check.check_fits(path, self.generator, lambda: self.build(config))
        refuse_over_budget(parameters, self.max_parameters, str(path))
        tensors, _ = weights.load_tensors(path, device)  # refuses NaN and infinity
        module = self.build(config)
        weights.load_into(module, tensors, path)
        module = module.to(device=device, dtype=dtype).eval()
        record = {
            "source": path.name,
            "files": {path.name: weights.sha256(path)},
            "class": type(module).__name__,
            "config": dataclasses.asdict(config),
            "dtype": _dtype_name(module),
            "parameters": parameters,
        }
        return Loaded(module=module, config=config, metadata=meta, record=record)

    def save(
        self, path: Path, tensors: Mapping[str, Any], config: Any, metadata: Mapping[str, Any] | None = None
    ) -> None:
        """Write ``tensors`` with the config (a dataclass or its table) where ``load`` reads it."""
        is_instance = dataclasses.is_dataclass(config) and not isinstance(config, type)
        table = dataclasses.asdict(config) if is_instance else dict(config)
        save_weights(path, tensors, generator=self.generator, config=table, metadata=metadata)


def save_weights(
    path: Path,
    tensors: Mapping[str, Any],
    *,
    generator: str,
    config: dict[str, Any],
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """The one layout every genkit weights file has: tensors, and metadata with ``generator`` and ``config``.

    Training runs (genkit.train) and ``ModelFormat.save`` both write through here, atomically.
    """
    weights.save_tensors(dict(tensors), {**dict(metadata or {}), "generator": generator, "config": config}, Path(path))


def meta_parameters(build: Callable[[], Any], what: str) -> int:
    """How many numbers (parameters and buffers) ``build()`` holds, built on the meta device: shapes
    only, no memory. A config that cannot describe a model is one line naming ``what``."""
    return sum(weights_check.meta_shapes(build, "model", what).values(), start=0)


def refuse_over_budget(parameters: int, budget: int, what: str) -> None:
    """One line refusing a model that describes more than ``budget`` parameters."""
    if parameters > budget:
        raise GenkitError(f"{what}: its config describes {parameters:,} parameters, over genkit's limit of {budget:,}")


def _fields(config_class: type) -> tuple[dataclasses.Field[Any], ...]:
    if not dataclasses.is_dataclass(config_class):
        raise TypeError(f"ModelFormat.config must be a dataclass, not {config_class!r}")
    return dataclasses.fields(config_class)


def _field_value(f: dataclasses.Field[Any], table: dict[str, Any], path: Path, generator: str) -> Any:
    """The value of one config field from the file's table, checked against its declaration."""
    if f.name not in table:
        if f.default is not MISSING:
            return f.default
        if f.default_factory is not MISSING:
            return f.default_factory()
        raise GenkitError(
            f"{path}: its {generator} config has no {f.name!r}; was it written by 'genkit train {generator}'?"
        )
    value = table[f.name]
    if "choices" in f.metadata:
        if value not in f.metadata["choices"]:
            shown = ", ".join(map(str, f.metadata["choices"]))
            raise GenkitError(f"{path}: its config says {f.name} = {str(value)[:40]!r}, not one of {shown}")
        return value
    if "bounds" in f.metadata:
        low, high = f.metadata["bounds"]
        whole = isinstance(low, int) and isinstance(high, int)
        number = isinstance(value, int) or (not whole and isinstance(value, float))
        if not number or isinstance(value, bool):
            kind = "whole number" if whole else "number"
            raise GenkitError(
                f"{path}: its {generator} config has no {kind} {f.name!r}; was it written by 'genkit train {generator}'?"
            )
        if not low <= value <= high:
            raise GenkitError(
                f"{path}: its config says {f.name} = {value}, outside [{low}, {high}]; refusing to build it"
            )
        return value
    wanted = _PLAIN_TYPES.get(_annotation_name(f))
    if wanted is not None and (not isinstance(value, wanted) or (wanted is int and isinstance(value, bool))):
        raise GenkitError(f"{path}: its config's {f.name!r} is not a {wanted.__name__}")
    return value


def _annotation_name(f: dataclasses.Field[Any]) -> str:
    """``int``, ``str``, ... of a field's annotation (a string under ``from __future__ import annotations``)."""
    annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    return str(typing.cast(str, annotation)).split("[")[0].strip()


def _dtype_name(module: Any) -> str | None:
    for tensor in module.parameters():
        return str(tensor.dtype).removeprefix("torch.")
    return None
