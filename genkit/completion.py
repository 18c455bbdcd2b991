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
