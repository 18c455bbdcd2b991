"""Matching what a user typed for a class (``--class``, ``--classes``) to the names the weights know.

Shared by every class-conditional generator and by `genkit video`, so that a name that works in one
command works in all of them.
"""

from genkit.errors import GenkitError


def _norm(text: str) -> str:
    return text.strip().lower().replace(" ", "-").replace("_", "-")


def find_class(text: str, names: list[str]) -> int:
    """Index of the class `text` names: its name (any case, 'ankle boot' == 'ankle-boot'), its index,
    or one word of exactly one name ('boot' -> 'ankle-boot')."""
    wanted = _norm(text)
    normed = [_norm(n) for n in names]
    if wanted in normed:
        return normed.index(wanted)
    if wanted.isdigit() and int(wanted) < len(names):
        return int(wanted)
    by_word = [k for k, n in enumerate(normed) if wanted and wanted in n.split("-")]
    if len(by_word) == 1:
        return by_word[0]
    valid = f"valid classes: {', '.join(names)} (or an index 0-{len(names) - 1})"
    if by_word:
        raise GenkitError(f"class {text!r} is ambiguous: {', '.join(names[k] for k in by_word)}; {valid}")
    raise GenkitError(f"unknown class {text!r}; {valid}")
