"""The user's defaults for generator options: ``genkit defaults set image --weights emoji --scale 4``.

Stored as ``defaults.json`` in the config folder (genkit.userconfig): ``{"image": {"weights": "emoji",
"scale": 4}}``, keyed by the command's parameter names. They are handed to the parser as its default
map, so whatever the user types wins, and a run records the values it took from here (provenance
``defaults``) while its reproduce command spells every value out: it never depends on this file.
"""

from __future__ import annotations

import sys

from genkit import userconfig
from genkit.errors import GenkitError

FILE = "defaults.json"
# Options a default may not set: a default that writes files where one does not look, or replaces them.
REFUSED = frozenset({"output", "overwrite"})


def table() -> dict[str, dict]:
    """Every generator's defaults by parameter name (a damaged file raises one line naming it)."""
    return {g: dict(v) for g, v in userconfig.read(FILE).items() if isinstance(v, dict)}


def default_map() -> dict[str, dict]:
    """The parser's default map; a damaged file costs one warning line, never a failed command."""
    try:
        return table()
    except GenkitError as exc:
        print(f"genkit: warning: your defaults are ignored: {exc} (or: genkit defaults reset)", file=sys.stderr)
        return {}


def update(generator: str, values: dict) -> dict:
    """Add ``values`` to ``generator``'s defaults; return them all."""
    entries = table()
    entries[generator] = {**entries.get(generator, {}), **values}
    userconfig.write(FILE, entries)
    return entries[generator]


def reset(generator: str | None) -> list[str]:
    """Forget one generator's defaults (or everyone's); return the generators that had some."""
    try:
        entries = table()
    except GenkitError:  # a damaged file is what reset is for
        entries = {}
        if generator is None:
            userconfig.write(FILE, {})
            return ["(damaged file removed)"]
    if generator is None:
        userconfig.write(FILE, {})
        return sorted(entries)
    had = [generator] if entries.pop(generator, None) is not None else []
    userconfig.write(FILE, entries)
    return had
