"""Light descriptions of generators and their options. Importing this never imports torch.

A plugin hands genkit one ``GeneratorSpec`` per generator. The spec drives everything the
core does before the model loads: the CLI options and their validation, ``--help``,
``genkit models``, and provenance.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field
from typing import Any

OPTION_TYPES = ("int", "float", "str", "bool", "path", "choice")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")

# Options the core gives every generator command; a spec must not reuse them. Writers add their own
# (--grid, --scale, ...), checked when the command is built (genkit.writers.options_for).
RUN_OPTIONS = ("n", "seed", "device", "output", "overwrite", "weights", "json", "quiet")


@dataclass(frozen=True)
class Option:
    """One typed option of a generator, e.g. ``Option("truncation", "float", 1.0, min=0, max=1)``.

    ``argument=True`` makes it positional (``genkit text "ROMEO:"``); ``multiple=True`` with
    ``argument=True`` collects any number of values, and ``one_item_each=True`` makes one item per
    value (``genkit vae --reconstruct a.png b.png`` makes two). ``min_open``/``max_open`` exclude
    the bound. A generator receives its options keyed by ``key`` (the name with ``_`` for ``-``).
    ``validator="module:function"`` names a light function (no torch) that genkit calls with each
    given value before the model loads; it raises ValueError with the reason for a bad value
    (``genkit music --key H`` is refused at once rather than after loading the network).
    """

    name: str
    type: str
    default: Any = None
    help: str = ""
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False
    choices: tuple[str, ...] | None = None
    argument: bool = False
    multiple: bool = False
    one_item_each: bool = False
    validator: str | None = None
    suggestions: tuple[str, ...] | None = None  # values shell completion offers; any valid value is still taken

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"option name {self.name!r} must be lower-case letters, digits, - or _")
        if self.type not in OPTION_TYPES:
            raise ValueError(f"option {self.name!r}: type must be one of {', '.join(OPTION_TYPES)}")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"option {self.name!r}: a choice option needs choices")
        if self.multiple and not self.argument:
            raise ValueError(f"option {self.name!r}: only a positional argument may take several values")
        if self.one_item_each and not self.multiple:
            raise ValueError(f"option {self.name!r}: one_item_each needs multiple=True")
        if self.validator is not None and (not isinstance(self.validator, str) or ":" not in self.validator):
            raise ValueError(f"option {self.name!r}: validator must look like 'module:function'")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def key(self) -> str:
        """The name a generator, provenance and the Python API use: ``top-k`` -> ``top_k``, ``class``."""
        return self.name.replace("-", "_")

    @property
    def dest(self) -> str:
        """The CLI parser's parameter name; a Python keyword such as ``class`` becomes ``class_``."""
        return self.key + "_" if keyword.iskeyword(self.key) else self.key

    def check(self, value: Any) -> Any:
        """Return ``value`` if it is in range, else raise ValueError with a readable reason."""
        if value is None or self.type not in ("int", "float"):
            return value
        if not math.isfinite(value):  # NaN slips through every comparison below
            raise ValueError(f"{self.flag} must be a finite number, got {value}")
        low_bad = self.min is not None and (value <= self.min if self.min_open else value < self.min)
        high_bad = self.max is not None and (value >= self.max if self.max_open else value > self.max)
        if low_bad or high_bad:
            raise ValueError(f"{self.flag} must be in {self.range_text()}, got {value}")
        return value

    def range_text(self) -> str:
        low = "-inf" if self.min is None else f"{self.min:g}"
        high = "inf" if self.max is None else f"{self.max:g}"
        return f"{'(' if self.min_open or self.min is None else '['}{low}, {high}{')' if self.max_open or self.max is None else ']'}"


@dataclass(frozen=True)
class GeneratorSpec:
    """A generator as the core sees it before anything heavy is imported.

    implementation: ``"package.module:Class"``, imported only when the generator runs.
    outputs: file extensions it can write, the default first (``("png", "gif")``); each extension
        belongs to an artifact kind whose writer adds its own options (``--grid`` for png, ...).
    default_weights: a weights file name inside the plugin package (``"weights/x.safetensors"``),
        or None for a generator that needs no weights.
    max_n: the largest ``--n`` a run may ask for.
    trainable: the implementation offers ``training_task`` (see docs/training.md); enables train/eval.
    train_options: extra options of `genkit train <name>` and `genkit eval <name>`.
    eval_options: the names of the train_options `genkit eval <name>` uses (None: all of them).
    weights_from: the name of one of ``options`` that names another generator (video's ``source``);
        when a run sets it, ``--weights`` selects that generator's weights (its shipped names, files,
        run folders) and the implementation is handed those.
    uses_torch: False for an implementation that never imports torch (numpy, pure Python): genkit
        then does not import it either (a run starts in about a second, not after torch's import) and builds the
        generator with ``device=genkit.device.HostCPU()``, which has torch.device's ``type`` "cpu".
    shipped: a folder inside the plugin package holding shipped weights ``<name>-X.safetensors`` for a
        generator without ``default_weights`` (a wrapped library's generator that also runs genkit-trained
        models): ``--weights X``, ``genkit eval --weights X`` and `genkit models` name them.
    catalog: ``"module:function"`` of a light function (no torch) returning the models on disk this
        generator can run, as dicts with ``id``, ``revision``, ``bytes`` and ``class``; `genkit models
        NAME` lists them (a wrapped library's generator, whose ``--model`` names one of them).
    """

    name: str
    modality: str
    summary: str
    implementation: str
    outputs: tuple[str, ...]
    options: tuple[Option, ...] = ()
    default_weights: str | None = None
    max_n: int = 100_000
    trainable: bool = False
    train_options: tuple[Option, ...] = ()
    eval_options: tuple[str, ...] | None = None
    weights_from: str | None = None
    uses_torch: bool = True
    catalog: str | None = None
    shipped: str | None = None
    plugin: str = field(default="", compare=False)
    package: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"generator name {self.name!r} must be lower-case letters, digits, - or _")
        if ":" not in self.implementation:
            raise ValueError(f"generator {self.name!r}: implementation must look like 'module:Class'")
        if not self.outputs:
            raise ValueError(f"generator {self.name!r}: outputs must name at least one file extension")
        seen = set()
        for opt in self.options:
            if opt.key in RUN_OPTIONS:
                raise ValueError(f"generator {self.name!r}: option {opt.flag} is reserved by genkit")
            if opt.key in seen:
                raise ValueError(f"generator {self.name!r}: option {opt.flag} declared twice")
            seen.add(opt.key)
        unknown = set(self.eval_options or ()) - {o.name for o in self.train_options}
        if unknown:
            raise ValueError(f"generator {self.name!r}: eval_options names unknown train options {sorted(unknown)}")
        if self.weights_from is not None and self.weights_from not in {o.key for o in self.options}:
            raise ValueError(f"generator {self.name!r}: weights_from names no option {self.weights_from!r}")
        if not isinstance(self.uses_torch, bool):
            raise ValueError(f"generator {self.name!r}: uses_torch must be True or False")
        if self.catalog is not None and (not isinstance(self.catalog, str) or ":" not in self.catalog):
            raise ValueError(f"generator {self.name!r}: catalog must look like 'module:function'")
        if sum(o.one_item_each for o in self.options) > 1:
            raise ValueError(f"generator {self.name!r}: at most one option may set the item count")

    def option(self, name: str) -> Option:
        for opt in self.options:
            if opt.key == name.replace("-", "_").rstrip("_"):
                return opt
        raise KeyError(name)


@dataclass(frozen=True)
class ArtifactKind:
    """An output kind and its writer, e.g. ``ArtifactKind("image", ("png",), "genkit.writers.image:ImageWriter")``.

    extensions: the file extensions this kind's writer encodes (each belongs to one kind).
    writer: ``"module:Class"`` of a ``genkit.writers.Writer`` subclass, imported only when a file is written.
    options: CLI options the writer adds to every generator that can write these extensions.
    streams: with no ``-o``, the writer sends items to stdout instead of files (text does).
    """

    name: str
    extensions: tuple[str, ...]
    writer: str
    options: tuple[Option, ...] = ()
    streams: bool = False
    plugin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"artifact kind {self.name!r} must be lower-case letters, digits, - or _")
        if ":" not in self.writer:
            raise ValueError(f"artifact kind {self.name!r}: writer must look like 'module:Class'")
        if not self.extensions or any(not e.isalnum() or e != e.lower() for e in self.extensions):
            raise ValueError(f"artifact kind {self.name!r}: extensions must be lower-case letters/digits, no dot")
        for opt in self.options:
            if opt.key in RUN_OPTIONS or opt.argument:
                raise ValueError(f"artifact kind {self.name!r}: option {opt.flag} is reserved or positional")
