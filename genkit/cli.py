"""The `genkit` command line: parsing and printing only; the work lives in the modules it calls.

Generator sub-commands are built from the specs plugins register, so a third-party generator
gets the same options, help, validation and error handling as a built-in one.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from genkit import __version__, interrupts
from genkit.errors import GenkitError
from genkit.cli_params import make_command, parameter_for, plain
from genkit.spec import GeneratorSpec

DEBUG_ENV = "GENKIT_DEBUG"


def _version(value: bool):
    if value:
        print(f"genkit {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = None,
):
    """Generate images, text, music and animations with small models; extend genkit with plugins."""


def _console():
    """A rich console; piped output gets a wide fixed width so names are never broken."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def _echo_err(message: str) -> None:
    print(message, file=sys.stderr)


# ---------------------------------------------------------------- static commands


def plugins_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
):
    """List every plugin found, its version, import time, generators, and any error."""
    from genkit.registry import load_registry

    registry = load_registry()
    if as_json:
        rows = [vars(p) for p in registry.plugins]
        print(json.dumps({"plugins": rows, "conflicts": registry.conflicts}, indent=2))
        return
    from rich.table import Table

    table = Table("plugin", "version", "kind", "import", "generators", "status")
    for p in registry.plugins:
        status = f"[red]{p.error}[/red]" if p.error else "ok"
        kind = "built-in" if p.builtin else "third-party"
        table.add_row(p.name, p.version or "-", kind, f"{p.import_seconds * 1000:.1f} ms", ", ".join(p.generators) or "-", status)
    console = _console()
    console.print(table)
    for conflict in registry.conflicts:
        console.print(f"[yellow]conflict:[/yellow] {conflict}")


def models_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    device: Annotated[Optional[str], typer.Option("--device", help="Device to report (default: auto).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
):
    """List every generator: modality, summary, default weights and the device it would use."""
    from genkit import device as devices, weights
    from genkit.registry import load_registry

    registry = load_registry()
    rows = []
    for spec in registry.generators.values():
        path = weights.default_weights_path(spec)
        info = {"file": None, "bytes": None, "sha256": None}
        if path is not None and path.exists():
            info = {"file": path.name, "bytes": path.stat().st_size, "sha256": weights.sha256(path)}
        elif path is not None:
            info["file"] = f"{path.name} (missing)"
        info["also_shipped"] = [name for name, p in weights.shipped_weights(spec).items() if p != path]
        rows.append(
            {"name": spec.name, "modality": spec.modality, "summary": spec.summary, "plugin": spec.plugin,
             "weights": info, "device": devices.guess_device(device)}
        )
    if as_json:
        print(json.dumps({"generators": rows}, indent=2))
        return
    from rich.table import Table

    table = Table("generator", "modality", "summary", "weights", "size", "sha256", "device")
    for row in rows:
        w = row["weights"]
        size = f"{w['bytes'] / 1e6:.2f} MB" if w["bytes"] else "-"
        also = f" (also --weights {', '.join(w['also_shipped'])})" if w["also_shipped"] else ""
        table.add_row(row["name"], row["modality"], row["summary"], (w["file"] or "none") + also, size,
                      (w["sha256"] or "-")[:12], row["device"])
    _console().print(table)


def inspect_command(
    file: Annotated[Path, typer.Argument(help="A file genkit wrote.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
):
    """Print a file's provenance and the command that reproduces it."""
    from genkit.provenance import read_provenance

    prov = read_provenance(file)
    if as_json:
        print(json.dumps(prov, indent=2, sort_keys=True))
        return
    for key in ("generator", "plugin", "genkit", "weights", "weights_sha256", "seed", "index", "item_seed", "device"):
        if key in prov:
            print(f"{key:15} {prov[key]}")
    print(f"{'options':15} {json.dumps(prov.get('options', {}), sort_keys=True)}")
    if "command" in prov:
        note = "   # this file is the last item of that run" if "index" in prov else ""
        print(f"{'reproduce':15} {prov['command']}{note}")


# ---------------------------------------------------------------- building commands from specs


def _common_parameters(spec: GeneratorSpec) -> list[inspect.Parameter]:
    def p(name, annotation, default):
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)

    params = [
        p("n", Annotated[int, typer.Option("--n", "-n", help="How many items to generate.")], 1),
        p("seed", Annotated[Optional[int], typer.Option("--seed", help="Seed for reproducible output (default: random, recorded).")], None),
        p("device", Annotated[Optional[str], typer.Option("--device", help="auto, cpu, cuda, cuda:N or mps (default: $GENKIT_DEVICE or auto).")], None),
        p("output", Annotated[Optional[str], typer.Option("--output", "-o", help="A folder, a file name, or a pattern such as 'img_{i:03d}.png'.")], None),
        p("overwrite", Annotated[bool, typer.Option("--overwrite", help="Replace files that already exist.")], False),
        p("weights", Annotated[Optional[Path], typer.Option("--weights", help="A .safetensors file, or the name of other shipped weights (see genkit models).")], None),
        p("json", Annotated[bool, typer.Option("--json", help="Print a JSON manifest of what was written on stdout.")], False),
        p("quiet", Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")], False),
        p("debug", Annotated[bool, typer.Option("--debug", help="Show tracebacks.")], False),
    ]
    if spec.modality in ("image", "video"):
        params.append(p("scale", Annotated[int, typer.Option("--scale", help="Nearest-neighbour upscaling factor for viewing. [range 1-64]")], 1))
    if spec.modality == "video":
        params.append(p("frames_dir", Annotated[Optional[str], typer.Option("--frames-dir", help="Also write every frame as a PNG into this folder.")], None))
    if spec.modality == "image":
        params.append(p("grid", Annotated[Optional[str], typer.Option("--grid", help="Also write all items as one contact sheet PNG.")], None))
    return params


_COMMON = ("n", "seed", "device", "output", "overwrite", "weights", "json", "quiet", "debug", "scale", "grid", "frames_dir")


def generator_command(spec: GeneratorSpec):
    def body(kwargs):
        from genkit.run import Request, execute

        options = {k: plain(v) for k, v in kwargs.items() if k not in _COMMON}
        req = Request(
            spec=spec, options=options, n=kwargs["n"], seed=kwargs["seed"], device=kwargs["device"],
            output=kwargs["output"], overwrite=kwargs["overwrite"],
            weights=str(kwargs["weights"]) if kwargs["weights"] else None, json=kwargs["json"],
            quiet=kwargs["quiet"], grid=kwargs.get("grid"), scale=kwargs.get("scale", 1),
            frames_dir=kwargs.get("frames_dir"),
        )
        manifest = execute(req)
        if req.json:
            print(json.dumps(manifest, indent=2))
        elif not req.quiet and manifest["files"] and manifest["files"][0]["path"]:
            paths = [f["path"] for f in manifest["files"]]
            where = paths[0] if len(paths) == 1 else f"{len(paths)} files, {paths[0]} ... {paths[-1]}"
            _echo_err(f"wrote {where}" + (f" and grid {manifest['grid']}" if manifest.get("grid") else ""))

    params = [parameter_for(o) for o in spec.options] + _common_parameters(spec)
    return make_command(params, body, spec.name, f"{spec.summary}\n\nPlugin: {spec.plugin}.")


def _training_parameters(spec: GeneratorSpec, evaluating: bool) -> list[inspect.Parameter]:
    def p(name, annotation, default):
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)

    params = [
        p("data", Annotated[Path, typer.Option("--data", help="Training data (a file or folder; see the generator's docs).")], inspect.Parameter.empty),
        p("device", Annotated[Optional[str], typer.Option("--device", help="auto, cpu, cuda, cuda:N or mps.")], None),
        p("batch_size", Annotated[Optional[int], typer.Option("--batch-size", help="Batch size (default: the generator's).")], None),
        p("quiet", Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")], False),
        p("debug", Annotated[bool, typer.Option("--debug", help="Show tracebacks.")], False),
        p("seed", Annotated[int, typer.Option("--seed", help="Seed for initialisation, data order and sampling.")], 0),
    ]
    if evaluating:
        params += [
            p("weights", Annotated[Optional[Path], typer.Option("--weights", help="Weights to measure: a file or a shipped name (default: the shipped default).")], None),
            p("json", Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")], False),
        ]
    else:
        params += [
            p("epochs", Annotated[Optional[int], typer.Option("--epochs", help="Passes over the data (default: the generator's).")], None),
            p("max_steps", Annotated[Optional[int], typer.Option("--max-steps", help="Stop after this many optimizer steps.")], None),
            p("max_minutes", Annotated[Optional[float], typer.Option("--max-minutes", help="Stop training after this many minutes.")], None),
            p("lr", Annotated[Optional[float], typer.Option("--lr", help="Learning rate (default: the generator's).")], None),
            p("out", Annotated[Path, typer.Option("--out", help="Folder for weights, checkpoints, model card, curves.")], Path("runs") / spec.name),
            p("resume", Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint in --out.")], False),
            p("overwrite", Annotated[bool, typer.Option("--overwrite", help="Replace weights already in --out.")], False),
            p("nproc", Annotated[int, typer.Option("--nproc", help="Processes for DistributedDataParallel (torchrun).")], 1),
            p("checkpoint_every", Annotated[float, typer.Option("--checkpoint-every", help="Minutes between checkpoints.")], 5.0),
            p("no_eval", Annotated[bool, typer.Option("--no-eval", help="Skip the evaluation at the end.")], False),
        ]
    return params + [parameter_for(o) for o in spec.train_options]


def train_command(spec: GeneratorSpec):
    def body(kwargs):
        from genkit.training import train_from_cli

        extra = {o.dest: plain(kwargs.pop(o.dest)) for o in spec.train_options}
        train_from_cli(spec, extra=extra, **kwargs)

    return make_command(_training_parameters(spec, False), body, spec.name, f"Train {spec.name}: {spec.summary}")


def eval_command(spec: GeneratorSpec):
    def body(kwargs):
        from genkit.training import evaluate_from_cli

        extra = {o.dest: plain(kwargs.pop(o.dest)) for o in spec.train_options}
        evaluate_from_cli(spec, extra=extra, **kwargs)

    return make_command(_training_parameters(spec, True), body, spec.name, f"Measure {spec.name} with its own metrics.")


# ---------------------------------------------------------------- the app


def build_app() -> typer.Typer:
    from genkit.registry import load_registry

    registry = load_registry()
    # Plain help formatting: typer's rich help costs ~0.15 s of imports on every --help.
    app = typer.Typer(name="genkit", no_args_is_help=True, pretty_exceptions_enable=False, add_completion=True,
                      rich_markup_mode=None,
                      context_settings={"help_option_names": ["-h", "--help"]})
    app.callback()(_root)
    app.command("plugins")(plugins_command)
    app.command("models")(models_command)
    app.command("inspect")(inspect_command)
    train = typer.Typer(help="Train a generator on your own data.", no_args_is_help=True, rich_markup_mode=None)
    evaluate = typer.Typer(help="Measure a generator with its own metrics.", no_args_is_help=True, rich_markup_mode=None)
    for spec in registry.generators.values():
        app.command(spec.name, rich_help_panel="Generators")(generator_command(spec))
        if spec.trainable:
            train.command(spec.name)(train_command(spec))
            evaluate.command(spec.name)(eval_command(spec))
    app.add_typer(train, name="train")
    app.add_typer(evaluate, name="eval")
    return app


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or bool(os.environ.get(DEBUG_ENV))
    try:  # typer >= 0.22 carries its own copy of click
        from typer._click import exceptions as click_errors
    except ImportError:  # pragma: no cover - older typer on real click
        import click.exceptions as click_errors
    from typer import Abort

    previous_sigint = interrupts.install()
    try:
        code = build_app()(args=argv, prog_name="genkit", standalone_mode=False)
        if code == 130:  # typer turns Ctrl-C into a quiet Exit(130)
            raise KeyboardInterrupt
    except click_errors.UsageError as exc:
        message = exc.format_message()
        if not message.strip():  # a bare group name printed its help
            sys.exit(0)
        if isinstance(exc, click_errors.NoSuchOption) or "No such command" in message:
            message = message.rstrip(".")
        _echo_err(f"genkit: error: {_one_line(message)}")
        code = 2
    except click_errors.ClickException as exc:
        _echo_err(f"genkit: error: {_one_line(exc.format_message())}")
        code = exc.exit_code
    except GenkitError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        _echo_err(f"genkit: error: {_one_line(exc)}")
        code = exc.exit_code
    except (KeyboardInterrupt, Abort):
        _echo_err("genkit: interrupted; files already finished are complete, nothing half-written was kept")
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception as exc:  # noqa: BLE001 - the last guard: one line unless --debug
        if debug:
            import traceback

            traceback.print_exc()
        _echo_err(f"genkit: error: {type(exc).__name__}: {_one_line(exc)} (run with --debug for the traceback)")
        code = 1
    finally:
        interrupts.restore(previous_sigint)
    sys.stdout.flush()
    sys.exit(code if isinstance(code, int) else 0)
