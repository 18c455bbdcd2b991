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
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks (accepted anywhere on the line, or GENKIT_DEBUG=1).")] = False,
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


# ---------------------------------------------------------------- building commands from specs


# ---------------------------------------------------------------- the app


def build_app() -> typer.Typer:
    from genkit.registry import load_registry
    from genkit.train.command import eval_command, train_command

    from genkit.commands.generate import generator_command

    registry = load_registry()
    # Plain help formatting: typer's rich help costs ~0.15 s of imports on every --help.
    app = typer.Typer(name="genkit", no_args_is_help=True, pretty_exceptions_enable=False, add_completion=True,
                      rich_markup_mode=None,
                      context_settings={"help_option_names": ["-h", "--help"]})
    app.callback()(_root)
    app.command("plugins")(plugins_command)
    app.command("models")(models_command)
    from genkit.commands.inspect import inspect_command

    app.command("inspect")(inspect_command)
    train = typer.Typer(help="Train a generator on your own data.", no_args_is_help=True, rich_markup_mode=None)
    evaluate = typer.Typer(help="Measure a generator with its own metrics.", no_args_is_help=True, rich_markup_mode=None)
    for spec in registry.generators.values():
        app.command(spec.name, rich_help_panel="Generators")(generator_command(spec, registry.kinds))
        if spec.trainable:
            train.command(spec.name)(train_command(spec))
            evaluate.command(spec.name)(eval_command(spec))
    app.add_typer(train, name="train")
    app.add_typer(evaluate, name="eval")
    return app


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _take_debug(argv: list[str]) -> tuple[list[str], bool]:
    """--debug is one global flag, accepted anywhere before a ``--``; it is removed before parsing."""
    cut = argv.index("--") if "--" in argv else len(argv)
    rest = [a for a in argv[:cut] if a != "--debug"] + argv[cut:]
    return rest, len(rest) != len(argv) or bool(os.environ.get(DEBUG_ENV))


def _standard_streams() -> None:
    """Give a closed stdin/stdout/stderr (``>&-``) a /dev/null, before any file is opened.

    Otherwise the first file genkit opens would get descriptor 1 or 2 and anything printed would
    land inside it; and print() to a missing sys.stderr falls back to stdout, mixing errors into data.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # takes the lowest free descriptor: this one
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")


def _quiet_broken_pipe() -> None:
    """The reader went away (``genkit text | head -1``): drop what is still buffered, silently."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> None:
    _standard_streams()
    argv, debug = _take_debug(list(sys.argv[1:] if argv is None else argv))
    if argv == ["--version"]:  # needs no plugin discovery at all
        print(f"genkit {__version__}")
        sys.exit(0)
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
        if getattr(exc, "manifest", None) is not None and "--json" in argv:  # what a failed run did write
            print(json.dumps(dict(exc.manifest, error=_one_line(exc)), indent=2))
        _echo_err(f"genkit: error: {_one_line(exc)}")
        code = exc.exit_code
    except (KeyboardInterrupt, Abort):
        _echo_err("genkit: interrupted; files already finished are complete, nothing half-written was kept")
        code = 130
    except BrokenPipeError:
        _quiet_broken_pipe()
        code = 0
    except Exception as exc:  # noqa: BLE001 - the last guard: one line unless --debug
        if debug:
            import traceback

            traceback.print_exc()
        _echo_err(f"genkit: error: {type(exc).__name__}: {_one_line(exc)} (run with --debug for the traceback)")
        code = 1
    finally:
        interrupts.restore(previous_sigint)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, OSError, ValueError):
        _quiet_broken_pipe()
    sys.exit(code if isinstance(code, int) else 0)
