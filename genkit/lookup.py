"""``--weights NAME|PATH|RUN_FOLDER`` to a checked weights file: the one place that reads the value.

A bare word is a name: weights shipped beside a generator's default (``emoji`` for
image-emoji.safetensors) or one of the user's aliases (genkit.aliases). A path says it is one (a
slash, ``./emoji``, or a ``.safetensors`` file name), so a folder called ``emoji/`` in the current
directory never hides the shipped ``emoji``. A bare word that is no name but is a file or folder
here is still taken as that path. A name both shipped and aliased is refused in one line naming both.
"""

from __future__ import annotations

import os
from pathlib import Path

from genkit import aliases
from genkit.errors import GenkitError, RunError
from genkit.spec import GeneratorSpec
from genkit.weights import default_weights_path, read_header, shipped_weights


def is_path(given: str) -> bool:
    """True when ``--weights`` names a path rather than a name."""
    separators = [os.sep] + ([os.altsep] if os.altsep else [])
    return (
        any(s in given for s in separators)
        or given.startswith(("~", "."))
        or given.endswith(".safetensors")
        or Path(given).is_absolute()
    )


def names(spec: GeneratorSpec) -> dict[str, str]:
    """Every name ``--weights`` takes for ``spec``: shipped names, then the user's aliases -> what it is."""
    found = dict.fromkeys(shipped_weights(spec), "shipped")
    for alias in aliases.table().values():
        if alias.generator == spec.name and alias.name not in found:
            found[alias.name] = f"alias for {alias.path}"
    return found


def resolve(spec: GeneratorSpec, given: str | None) -> tuple[Path | None, bool]:
    """The weights file ``--weights`` means for ``spec`` (nothing: the shipped default), header checked.

    Returns (path or None for a generator without weights, is_default). Nothing is loaded.
    """
    if not given:
        return _default(spec), True
    path = None if is_path(given) else _named(spec, given)
    if path is None:
        path = _on_disk(spec, given)
    read_header(path)
    return path, False


def _default(spec: GeneratorSpec) -> Path | None:
    path = default_weights_path(spec)
    if path is not None and not path.exists():
        raise RunError(
            f"{spec.name}: the shipped weights {path.name} are missing; train some with "
            f"'genkit train {spec.name}' and pass --weights"
        )
    if path is not None:
        read_header(path)
    return path


def _named(spec: GeneratorSpec, given: str) -> Path | None:
    """The file a bare name means; None when it is no name but a file or folder here has it."""
    shipped = shipped_weights(spec)
    alias = aliases.get(given)
    if given in shipped and alias is not None and alias.generator == spec.name:
        raise GenkitError(
            f"--weights {given} is ambiguous: {spec.name}'s shipped weights {shipped[given].name} and your alias "
            f"for {alias.path}; rename the alias (genkit aliases remove {given}) or pass its path"
        )
    if given in shipped:
        return shipped[given]
    if alias is not None:
        return _aliased(spec, alias)
    if Path(given).exists():
        return None
    mine = [a for a, what in names(spec).items() if what != "shipped"]
    raise GenkitError(
        f"--weights {given}: not found among {spec.name}'s shipped weights ({', '.join(shipped) or 'none'}) "
        f"or your aliases ({', '.join(mine) or 'none'}); a file or folder is given as a path, e.g. ./{given}"
    )


def _aliased(spec: GeneratorSpec, alias: aliases.Alias) -> Path:
    if alias.generator != spec.name:
        raise GenkitError(
            f"--weights {alias.name}: your alias names {alias.generator} weights, not {spec.name}'s "
            f"(genkit aliases list)"
        )
    if not alias.path.is_file():
        raise GenkitError(
            f"--weights {alias.name}: your alias points to {alias.path}, which is gone "
            f"(genkit aliases set {alias.name} RUN|FILE to point it elsewhere)"
        )
    return alias.path


def _on_disk(spec: GeneratorSpec, given: str) -> Path:
    path = Path(given).expanduser()
    if path.is_dir():
        inside = path / f"{spec.name}.safetensors"
        if not inside.is_file():
            raise GenkitError(f"--weights {given}: a folder must be a training run holding {inside.name}")
        return inside
    if not path.exists():
        raise GenkitError(f"weights file not found: {given}")
    return path


def recorded(spec: GeneratorSpec, given: str | None) -> str | None:
    """``--weights`` as a reproduce command should say it: an alias becomes its file, since the
    command must work for someone without the alias (a shipped name or a path stays as given)."""
    if not given or is_path(given) or given in shipped_weights(spec):
        return given
    alias = aliases.get(given)
    return str(alias.path) if alias is not None else given
