"""Making text from outside genkit safe to print, and name rules a trailing newline cannot fool.

Plugin specs and versions, weights metadata, file and folder names, class names and histories all
come from files or code genkit does not control. Before any of it reaches a terminal it goes
through ``printable``: every character that is not printable (terminal escapes, carriage returns,
newlines, bidirectional overrides, NUL) is shown as its escape (``\\x1b``, ``\\r``, ``\\u202e``),
so a string can neither move the cursor, retitle the window, hide text nor fake a second line.

Names are checked with ``re.fullmatch``: ``$`` in a ``re.match`` pattern also matches just before
a final newline, so ``"image\\n"`` would pass ``^[a-z]+$``.
"""

from __future__ import annotations

import re


def printable(text, limit: int | None = None) -> str:
    """``text`` (any value, as ``str``) with every non-printable character written as an escape,
    cut to ``limit`` characters (with a note of the full length) when given."""
    text = str(text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    if limit is not None and len(text) > limit:
        return text[:limit] + f"... ({len(text)} characters)"
    return text


def is_name(text, pattern: re.Pattern | str) -> bool:
    """Whether ``text`` is a str matching ``pattern`` as a whole (no trailing newline slips through)."""
    return isinstance(text, str) and re.fullmatch(pattern, text) is not None
