"""Names for the user's own weights: ``genkit aliases set NAME RUN|FILE``, then ``--weights NAME``.

An alias names one weights file of one generator (read from the file's metadata when it was written
by ``genkit train``); the table lives in the config folder as ``aliases.json``. Nothing here knows
about plugins: the command checks the generator, genkit.lookup uses the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from genkit import userconfig
from genkit.errors import GenkitError

FILE = "aliases.json"
# A name, never a path: no slash, and not ending like a weights file.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


@dataclass(frozen=True)
class Alias:
    name: str
    generator: str
    path: Path


def table() -> dict[str, Alias]:
    """Every alias by name; an entry that is not a {generator, path} record is skipped."""
    found = {}
    for name, entry in userconfig.read(FILE).items():
        if isinstance(entry, dict) and isinstance(entry.get("generator"), str) and isinstance(entry.get("path"), str):
            found[name] = Alias(name, entry["generator"], Path(entry["path"]))
    return found


def get(name: str) -> Alias | None:
    return table().get(name)


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name) or name.endswith(".safetensors"):  # fullmatch: "$" lets "name\n" through
        raise GenkitError(
            f"alias name {name!r}: use letters, digits and . _ + - (at most 64, no slash); a path is not a name"
        )


def save(alias: Alias) -> Path:
    check_name(alias.name)
    entries = userconfig.read(FILE)
    entries[alias.name] = {"generator": alias.generator, "path": str(alias.path)}
    return userconfig.write(FILE, entries)


def remove(name: str) -> Alias:
    found = table()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise GenkitError(f"no alias named {name!r} (your aliases: {known})")
    entries = userconfig.read(FILE)
    entries.pop(name, None)
    userconfig.write(FILE, entries)
    return found[name]
