"""Matching what a user typed for a class (``--class``, ``--classes``) to the names the weights know.

Shared by every class-conditional generator and by `genkit video`, so that a name that works in one
command works in all of them.
"""

from pathlib import Path

from genkit.errors import GenkitError

# Options whose values name classes the weights know: completed from the weights' header, and
# checked against it before the model is loaded.
CLASS_OPTIONS = ("class", "classes")


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


def class_names(meta: dict) -> list[str]:
    """Class names a plugin stored in its weights: top-level ``class_names`` or ``config.class_names``
    (an unconditional model stores none, or ``num_classes: 0``)."""
    config = meta["config"] if isinstance(meta.get("config"), dict) else {}
    if config.get("num_classes") == 0:
        return []
    names = meta.get("class_names") or config.get("class_names") or []
    return [str(n) for n in names] if isinstance(names, list) else []


def check_named_classes(spec, options: dict, weights_path: Path | None) -> None:
    """Refuse a class no one knows before the model loads (seconds sooner than the plugin could).

    Only where the weights are the generator's own and list class names; a generator that takes
    weights from another (``weights_from``) or has none checks its classes itself.
    """
    if weights_path is None or spec.weights_from:
        return
    from genkit import weights

    names = class_names(weights.metadata(weights_path))
    for opt in spec.options if names else ():
        value = options.get(opt.key)
        if opt.name in CLASS_OPTIONS and isinstance(value, str):
            for text in filter(None, (part.strip() for part in value.split(","))):
                find_class(text, names)
