"""Shell completion of option values that come from the weights a command would use (``--class``).

Called by the parser (genkit.cli_params) while a shell completes a word: it reads a weights header,
never a model, and never raises (a completion must not break a shell).
"""

from __future__ import annotations

from genkit.classnames import class_names


def completion_spec(ctx):
    """The generator whose classes a --class/--classes value names: the command's own, or its --source's."""
    from genkit.registry import load_registry

    generators = load_registry().generators
    params = ctx.params or {}
    spec = generators.get(ctx.info_name)
    if spec is not None and any(o.name == "source" for o in spec.options):  # video walks another generator
        return generators.get(params.get("source") or "image"), None
    return spec, params.get("weights")


def complete_class_names(ctx, incomplete: str) -> list[str]:
    """Class names from the weights the command would use (read from the header only); after a
    comma, the next name of a comma-separated list. Never raises: a completion must not break a shell."""
    try:
        from genkit import lookup, weights

        spec, given = completion_spec(ctx)
        if spec is None:
            return []
        path, _ = lookup.resolve(spec, str(given) if given else None)
        names = class_names(weights.metadata(path)) if path else []
    except Exception:
        return []
    done, _, current = incomplete.rpartition(",")
    prefix = done + "," if done else ""
    return [prefix + n for n in names if n.lower().startswith(current.lower())]


def _weights_owner(ctx):
    """The generator a --weights value belongs to: the command's own, or (a walk) its --source's."""
    from genkit.registry import load_registry

    generators = load_registry().generators
    spec = generators.get(ctx.info_name)
    source = (ctx.params or {}).get(spec.weights_from) if spec is not None and spec.weights_from else None
    return generators.get(str(source)) if source else spec


def complete_weights(ctx, incomplete: str) -> list:
    """--weights: the shipped names and the user's aliases (with what each is); a path completes as files."""
    try:
        from genkit import lookup

        if incomplete and lookup.is_path(incomplete):
            return _paths(incomplete)
        spec = _weights_owner(ctx)
        names = lookup.names(spec) if spec is not None else {}
    except Exception:
        return []
    return [(name, what) for name, what in names.items() if name.startswith(incomplete)]


def _paths(incomplete: str) -> list[str]:
    """Files and folders starting with ``incomplete`` (folders end in /: a run folder is a --weights value)."""
    import glob
    import os

    found = sorted(glob.glob(os.path.expanduser(incomplete) + "*"))[:200]
    return [p + "/" if os.path.isdir(p) else p for p in found]


def complete_generators(ctx, incomplete: str) -> list:
    """Generator names with their summaries (``genkit models <TAB>``, ``--source``)."""
    try:
        from genkit.registry import load_registry

        generators = load_registry().generators.values()
    except Exception:
        return []
    return [(g.name, g.summary) for g in generators if g.name.startswith(incomplete)]


def suggesting(values: tuple[str, ...]):
    """A completion offering an option's declared ``suggestions`` (case-insensitive prefix)."""

    def complete(ctx, incomplete: str) -> list[str]:
        return [v for v in values if v.lower().startswith(incomplete.lower())]

    return complete
