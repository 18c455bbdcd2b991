"""`genkit aliases set|list|remove`: short names for the user's own weights, used as --weights NAME."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from genkit import aliases
from genkit.errors import GenkitError

app = typer.Typer(
    help="Names for your own weights: genkit aliases set NAME RUN|FILE, then --weights NAME.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _weights_file(target: Path) -> Path:
    """The weights a RUN folder or FILE holds: a run's ``<generator>.safetensors`` (beside its checkpoint,
    and perhaps an evaluation's own classifier), or a folder's only weights file."""
    if target.is_dir():
        from genkit.registry import load_registry

        held = sorted(p for p in target.glob("*.safetensors") if p.name != "checkpoint.safetensors")
        runs = [p for p in held if p.stem in load_registry().generators]  # what genkit train names them
        if len(runs) == 1 or len(held) == 1:
            return runs[0] if len(runs) == 1 else held[0]
        what = "no weights" if not held else f"{len(held)} weights files"
        raise GenkitError(f"{target} holds {what}; name the .safetensors file itself")
    if not target.is_file():
        raise GenkitError(f"no such file or folder: {target}")
    return target


def _generator_of(path: Path, given: str | None) -> str:
    from genkit import weights
    from genkit.registry import load_registry

    recorded = weights.metadata(path).get("generator")
    name = given or (recorded if isinstance(recorded, str) else None) or path.stem
    if given and isinstance(recorded, str) and recorded != given:
        raise GenkitError(f"{path} holds {recorded} weights (its metadata says so), not {given}'s")
    generators = load_registry().generators
    if name not in generators:
        raise GenkitError(
            f"{path}: cannot tell which generator these weights are for ({name!r} is not one); "
            "pass --generator NAME (genkit models lists them)"
        )
    return name


@app.command("set")
def set_command(
    name: Annotated[str, typer.Argument(help="The alias, a plain word (emoji2, my-faces).", show_default=False)],
    target: Annotated[Path, typer.Argument(help="A training run's folder or a .safetensors file.", show_default=False)],
    generator: Annotated[
        str | None, typer.Option("--generator", "-g", help="The generator, when the file does not record it.")
    ] = None,
):
    """Give a run's weights a name: --weights NAME then works wherever a shipped name does."""
    from genkit import weights
    from genkit.registry import load_registry

    aliases.check_name(name)
    path = _weights_file(target).resolve()
    weights.read_header(path)
    owner = _generator_of(path, generator)
    spec = load_registry().generators[owner]
    if name in weights.shipped_weights(spec):
        raise GenkitError(f"{name!r} is already {owner}'s shipped weights; choose another alias name")
    old = aliases.get(name)
    aliases.save(aliases.Alias(name, owner, path))
    print(f"{name} -> {path} ({owner}){f'; was {old.path}' if old and old.path != path else ''}")
    print(f"use it: genkit {owner} --weights {name}")


@app.command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False):
    """Every alias: its name, generator and weights file."""
    found = sorted(aliases.table().values(), key=lambda a: (a.generator, a.name))
    if as_json:
        listed = [
            {"name": a.name, "generator": a.generator, "path": str(a.path), "exists": a.path.is_file()} for a in found
        ]
        print(json.dumps({"aliases": listed}, indent=2))
        return
    if not found:
        print("no aliases yet: genkit aliases set NAME RUN|FILE")
        return
    rows = [("alias", "generator", "weights")]
    rows += [(a.name, a.generator, str(a.path) + ("" if a.path.is_file() else "  (missing)")) for a in found]
    name_w, gen_w = (max(len(r[k]) for r in rows) for k in (0, 1))
    for alias, generator, path in rows:  # paths are never cut: a cut path cannot be used
        print(f"{alias:<{name_w}}  {generator:<{gen_w}}  {path}")


@app.command("remove")
def remove_command(name: Annotated[str, typer.Argument(help="The alias to forget.", show_default=False)]):
    """Forget an alias (the weights file itself is left alone)."""
    gone = aliases.remove(name)
    print(f"removed alias {name} (was {gone.path}; the file is left alone)")


# ---------------------------------------------------------------- for genkit models NAME


def yours(spec) -> dict:
    """The user's own weights for ``spec``: aliases, and finished training runs the history knows."""
    mine = [a for a in aliases.table().values() if a.generator == spec.name]
    records = [{"name": a.name, "path": str(a.path), "exists": a.path.is_file()} for a in sorted(mine, key=str)]
    return {"aliases": records, "runs": _runs(spec)}


def _runs(spec) -> list[dict]:
    """Recent `genkit train NAME` folders that still hold their weights (newest first); [] without a history."""
    try:
        from genkit.history import read_runs

        rows = read_runs(count=20, generator=spec.name, kind="train")
    except Exception:  # the history is a courtesy: an old or missing one lists nothing
        return []
    found, seen = [], set()
    for row in rows:
        out = (row.get("extra") or {}).get("out") if isinstance(row.get("extra"), dict) else None
        weights = Path(out) / f"{spec.name}.safetensors" if out else None
        if weights is not None and weights.is_file() and out not in seen:
            seen.add(out)
            found.append({"path": str(weights), "command": row.get("command")})
    return found[:5]


def lines_for(d: dict) -> list[str]:
    """`genkit models NAME`'s text for the user's own weights (paths are never cut)."""
    own = d.get("yours") or {}
    lines = []
    if own.get("aliases"):
        lines += ["", "your aliases (--weights NAME)"]
        lines += [f"  {a['name']}  {a['path']}{'' if a['exists'] else '  (missing)'}" for a in own["aliases"]]
    if own.get("runs"):
        lines += ["", "your recent runs (--weights PATH, or genkit aliases set NAME PATH)"]
        lines += [f"  {r['path']}" for r in own["runs"]]
    if d.get("user_defaults"):
        lines += ["", f"your defaults: {d['user_defaults']}  (genkit defaults show)"]
    return lines
