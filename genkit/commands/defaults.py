"""`genkit defaults set|show|reset`: the option values a generator starts from, set once by the user.

Values are read by the generator's own command (so `set` checks them exactly as a run would) and
applied under what the user types: `genkit image --scale 2` beats a default `--scale 4`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from genkit import defaults
from genkit.errors import GenkitError

app = typer.Typer(
    help="Your own defaults for a generator's options: genkit defaults set image --weights emoji --scale 4.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def generator_click_command(spec):
    """The click command `genkit NAME` runs, built from its spec as the app builds it."""
    from genkit.commands.generate import generator_command
    from genkit.registry import load_registry

    holder = typer.Typer(rich_markup_mode=None)
    holder.command(spec.name)(generator_command(spec, load_registry().kinds))
    return typer.main.get_command(holder)


def _jsonable(value):
    import enum

    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def parse(spec, args: list[str]) -> dict:
    """The values ``args`` give, by parameter name, parsed and checked by the generator's command."""
    command = generator_click_command(spec)
    ctx = command.make_context(f"genkit defaults set {spec.name}", list(args), default_map={})
    given = {}
    for param in command.params:
        source = ctx.get_parameter_source(param.name)
        if source is None or source.name != "COMMANDLINE":
            continue
        if param.param_type_name == "argument":
            raise GenkitError(f"defaults take options, not a {param.human_readable_name} argument")
        if param.name in defaults.REFUSED:
            raise GenkitError(f"{param.opts[0]} cannot be a default (give it on each run)")
        given[param.name] = _jsonable(ctx.params[param.name])
    if not given:
        raise GenkitError(f"give the options to remember, e.g. genkit defaults set {spec.name} --seed 0")
    _check_ranges(spec, given)
    return given


def _check_ranges(spec, given: dict) -> None:
    """The range and validator checks a run makes, made now: a default must be a value that runs."""
    from genkit.registry import load_registry
    from genkit.validation import check_values
    from genkit.writers import options_for

    declared = [o for o in (*spec.options, *options_for(spec, load_registry().kinds)) if o.dest in given]
    check_values(declared, {o.key: given[o.dest] for o in declared}, spec.plugin)


def as_flags(spec, values: dict) -> str:
    """``{"scale": 4, "grid": True}`` as the command line says it: ``--scale 4 --grid``."""
    import shlex

    params = {p.name: p for p in generator_click_command(spec).params}
    words = []
    for name, value in values.items():
        param = params.get(name)
        if param is None:
            words.append(f"({name}={value!r}: no such option now)")
            continue
        if getattr(param, "is_flag", False) and isinstance(value, bool):
            words.append(param.opts[0] if value else (param.secondary_opts or [f"--no-{param.opts[0][2:]}"])[0])
        else:
            for one in value if isinstance(value, list) else [value]:
                words += [param.opts[0], shlex.quote(str(one))]
    return " ".join(words)


@app.command("set", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def set_command(
    ctx: typer.Context,
    generator: Annotated[str, typer.Argument(help="The generator, e.g. image.", show_default=False)],
):
    """Remember option values for a generator: genkit defaults set GENERATOR --opt VALUE ..."""
    from genkit.registry import load_registry

    spec = load_registry().get(generator)
    values = parse(spec, ctx.args)
    merged = defaults.update(spec.name, values)
    print(f"{spec.name}: {as_flags(spec, merged)}")
    print("typed options still win; genkit defaults reset " + spec.name + " forgets them")


@app.command("show")
def show_command(
    generator: Annotated[str | None, typer.Argument(help="One generator (default: all).", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
):
    """Print your defaults and the file that holds them."""
    from genkit import userconfig
    from genkit.registry import load_registry

    registry = load_registry()
    table = defaults.table()
    if generator is not None:
        registry.get(generator)
        table = {generator: table[generator]} if generator in table else {}
    if as_json:
        print(json.dumps({"file": str(userconfig.config_file(defaults.FILE)), "defaults": table}, indent=2))
        return
    if not table:
        print(
            "no defaults" + (f" for {generator}" if generator else "") + ": genkit defaults set GENERATOR --opt VALUE"
        )
    for name, values in sorted(table.items()):
        spec = registry.generators.get(name)
        print(f"{name}: {as_flags(spec, values) if spec else json.dumps(values) + '  (no such generator now)'}")
    print(f"file: {userconfig.config_file(defaults.FILE)}")


@app.command("reset")
def reset_command(
    generator: Annotated[
        str | None, typer.Argument(help="One generator (default: every one).", show_default=False)
    ] = None,
):
    """Forget your defaults for one generator, or for all of them."""
    had = defaults.reset(generator)
    if not had:
        print("no defaults" + (f" for {generator}" if generator else "") + " to forget")
        return
    print("forgot the defaults of " + ", ".join(had))


def shown_for(spec) -> str | None:
    """``spec``'s defaults as flags for `genkit models NAME`, or None; a damaged file shows as such."""
    try:
        values = defaults.table().get(spec.name)
    except GenkitError as exc:
        return f"(ignored: {exc})"
    return as_flags(spec, values) if values else None
