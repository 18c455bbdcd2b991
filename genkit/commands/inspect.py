"""`genkit inspect FILE`: a file's provenance and the command that reproduces it, printed safely.

Everything shown comes from a file, so it is untrusted: control characters (terminal escape
sequences, bidirectional overrides) are shown as escapes, and the reproduce command is re-quoted
argument by argument, so pasting it runs genkit with those arguments and nothing else.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated

import typer

SHOWN_KEYS = ("generator", "plugin", "genkit", "weights", "weights_sha256", "seed", "index", "item_seed", "device")
# Shown elsewhere (or too big for a line): everything else a file records is printed under its own name.
NOT_SHOWN = frozenset({"options", "command", "defaults"})
MAX_SHOWN = 2000  # characters of one value printed in the table; --json prints everything


def escape(text) -> str:
    """``text`` with every non-printable character written as an escape (\\x1b, \\u202e, \\n)."""
    from genkit.printable import printable

    return printable(text)


def shell_word(word: str) -> str:
    """One argument quoted for a POSIX shell; control characters use bash/zsh's $'...' quoting."""
    if word.isprintable():
        return shlex.quote(word)
    body = "".join(
        c
        if c.isprintable() and c not in "\\'"
        else ("\\" + c if c in "\\'" else c.encode("unicode_escape").decode("ascii"))
        for c in word
    )
    return f"$'{body}'"


def safe_command(command) -> str | None:
    """The recorded command re-quoted word by word, or None if it is not a genkit command line."""
    try:
        words = shlex.split(str(command))
    except ValueError:
        return None
    if not words or words[0] != "genkit":
        return None
    return " ".join(shell_word(w) for w in words)


def _shown(value) -> str:
    text = escape(value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str))
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + f"... ({len(text)} characters)"


def inspect_command(
    file: Annotated[Path, typer.Argument(help="A file genkit wrote.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
):
    """Print a file's provenance and the command that reproduces it."""
    from genkit.provenance import read_provenance

    prov = read_provenance(file)
    if as_json:  # json.dumps escapes every control character itself
        print(json.dumps(prov, indent=2, sort_keys=True, default=str))
        return
    for key in SHOWN_KEYS:
        if key in prov:
            print(f"{key:15} {_shown(prov[key])}")
    print(f"{'options':15} {_shown(prov.get('options', {}))}")
    for key in sorted(set(prov) - set(SHOWN_KEYS) - NOT_SHOWN):  # what this item drew or used: class, key, source
        print(f"{escape(key):15} {_shown(prov[key])}")
    if prov.get("defaults"):
        print(f"{'your defaults':15} {_shown(prov['defaults'])} (spelled out in the command below)")
    if "command" in prov:
        command = safe_command(prov["command"])
        if command is None:
            print(f"{'reproduce':15} (the recorded command is not a genkit command line: {_shown(prov['command'])})")
        else:
            note = "   # this file is the last item of that run" if "index" in prov else ""
            print(f"{'reproduce':15} {command}{note}")
