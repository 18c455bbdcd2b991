"""Writers: one per artifact kind, each owning its CLI options, checks, encoding and provenance.

The run loop knows nothing about images or MIDI: it asks the kind that owns an output's extension
for a writer, lets the writer check every name it will write before any work starts, hands it each
artifact, and merges what ``finish`` returns into the manifest. genkit's own kinds are registered
by ``genkit.writers.builtin`` through the same hook a plugin uses to add one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genkit import files
from genkit.errors import GenkitError, RunError
from genkit.spec import ArtifactKind, GeneratorSpec, Option
from genkit.validation import check_values


@dataclass
class WriteRun:
    """What every writer of one run shares."""

    generator: str
    n: int
    seed: int
    overwrite: bool
    # This writer's option values by Option.key. An option naming extra files (a path: --grid,
    # --piano-roll) reaches only the first output whose kind declares it, so the extras are written once.
    values: dict[str, Any] = field(default_factory=dict)


class Writer:
    """Base class of every writer. Subclasses override ``write`` and, when they need them,
    ``check`` (before any work: refuse names that exist) and ``finish`` (after the last item)."""

    def __init__(self, kind: ArtifactKind, run: WriteRun) -> None:
        self.kind, self.run = kind, run

    def value(self, key: str) -> Any:
        return self.run.values.get(key)

    def check(self, items: list[Path]) -> None:
        """Called once before anything is generated with the path of every item (empty when streaming)."""

    def write(self, artifact: Any, path: Path, provenance: dict[str, Any]) -> dict[str, Any] | None:
        """Write one artifact; return its manifest entry, or None while an item is still incomplete.

        ``path`` is None only for a kind that ``streams`` when no ``-o`` was given; such a writer
        declares ``path: Path | None``.
        """
        raise NotImplementedError

    def finish(self, provenance: dict[str, Any]) -> dict[str, Any]:
        """Write anything made from all items (a contact sheet); return manifest additions."""
        return {}

    def planned(self, items: list[Path]) -> tuple[list[Path], list[Path]]:
        """(files, folders) this writer will write besides ``items``, known after ``check``: sidecars,
        a grid, piano rolls, frame folders. The run checks them against each other before any work."""
        return [], []

    # -- helpers for subclasses
    def expect(self, artifact: object, *types: type) -> None:
        if not isinstance(artifact, types):
            raise RunError(
                f"{self.run.generator} yielded {type(artifact).__name__}, which a {self.kind.name} "
                f"writer cannot write as .{'/.'.join(self.kind.extensions)}"
            )

    def sidecar(self, path: Path) -> Path:
        from genkit.provenance import SIDECAR_SUFFIX

        return path.with_name(path.name + SIDECAR_SUFFIX)

    def refuse_existing(self, paths: Iterable[str | Path]) -> None:
        """Before any work: each extra file's name fits the file system and is free (or --overwrite)."""
        for path in paths:
            files.check_name_length(Path(path))
            if Path(path).exists() and not self.run.overwrite:
                raise GenkitError(f"{path} already exists; pass --overwrite to replace it")


def shapes_the_file(opt: Option) -> bool:
    """A writer option either shapes each file (--scale, --stroke: recorded in its provenance and
    reproduce command) or names extra files (a path: --grid, --piano-roll, written once per run)."""
    return opt.type != "path"


def entry(path: Path | None, artifact: Any, **extra: Any) -> dict[str, Any]:
    """A manifest row: where an item went and what it is."""
    return {
        "path": str(path) if path else None,
        "index": artifact.index,
        "seed": artifact.seed,
        **artifact.info,
        **extra,
    }


# ---------------------------------------------------------------- kinds and their options


def kind_for(extension: str, kinds: list[ArtifactKind]) -> ArtifactKind:
    for kind in kinds:
        if extension in kind.extensions:
            return kind
    raise GenkitError(f"no installed writer writes .{extension} files")


def kinds_for(spec: GeneratorSpec, kinds: list[ArtifactKind]) -> list[ArtifactKind]:
    """The kinds a generator can write, in the order of its outputs, each once."""
    found = []
    for ext in spec.outputs:
        kind = next((k for k in kinds if ext in k.extensions), None)
        if kind is not None and kind not in found:
            found.append(kind)
    return found


def options_for(spec: GeneratorSpec, kinds: list[ArtifactKind]) -> list[Option]:
    """Writer options a generator's command gets; two kinds may share an option only if identical."""
    chosen: dict[str, Option] = {}
    own = {o.key for o in spec.options}
    for kind in kinds_for(spec, kinds):
        for opt in kind.options:
            if opt.key in own:
                raise GenkitError(f"generator {spec.name!r}: option {opt.flag} clashes with the {kind.name} writer's")
            if opt.key in chosen and chosen[opt.key] != opt:
                raise GenkitError(f"writers of {spec.name!r} declare {opt.flag} differently")
            chosen[opt.key] = opt
    return list(chosen.values())


def make_writer(kind: ArtifactKind, run: WriteRun) -> Writer:
    """Import the kind's writer class (this is where its encoders are imported) and build it."""
    from genkit.registry import import_object

    cls = import_object(kind.writer, kind.plugin or "genkit", f"the {kind.name} writer")
    if not (isinstance(cls, type) and issubclass(cls, Writer)):
        raise RunError(f"the {kind.name} writer {kind.writer!r} is not a genkit.writers.Writer")
    return cls(kind, run)


def save_artifact(artifact: Any, path: Path, overwrite: bool = False, **output_options: Any) -> Path:
    """``artifact.save(path)``: the CLI's rules (atomic, never clobber, provenance) for one file.

    ``output_options`` are the writer's options (``scale=4`` for a PNG); the rest take their defaults.
    """
    from genkit.registry import load_registry

    files.check_target(path, overwrite)  # NUL, too long, a folder, taken: the CLI's one-line errors
    ext = path.suffix.lower().lstrip(".")
    kind = kind_for(ext, load_registry().kinds)
    values = {o.key: o.default for o in kind.options}
    unknown = set(output_options) - set(values)
    if unknown:
        raise GenkitError(f"the {kind.name} writer has no option(s) {', '.join(sorted(unknown))}")
    values.update(output_options)
    check_values(kind.options, values)
    shaping = [o for o in kind.options if shapes_the_file(o)]
    provenance = dict(artifact.provenance or {}, output_options={o.key: values[o.key] for o in shaping})
    provenance.update(index=artifact.index, item_seed=artifact.seed, **artifact.info)
    reproduce = getattr(artifact, "_reproduce", None)
    if reproduce is not None:  # from genkit.load(): the command for this file, in this format
        provenance["command"] = reproduce(values, shaping, artifact.index, path)
    writer = make_writer(
        kind,
        WriteRun(
            generator=provenance.get("generator", "?"),
            n=1,
            values=values,
            seed=provenance.get("seed", artifact.seed),
            overwrite=overwrite,
        ),
    )
    writer.check([path])
    extra_files, extra_folders = writer.planned([path])
    companions = [(p, "a companion") for p in extra_files]
    files.check_distinct([(path, "the file"), *companions], [(p, "a companion folder") for p in extra_folders])
    result = writer.write(artifact, path, provenance)
    if result is None:  # a text chunk that is not the last of its sample
        raise GenkitError("only a whole text sample can be saved (the API joins chunks for you)")
    return path
