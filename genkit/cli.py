"""The `genkit` command line: parsing and printing only; the work lives in the modules it calls.

Generator sub-commands are built from the specs plugins register, so a third-party generator
gets the same options, help, validation and error handling as a built-in one.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Annotated

import typer

from genkit import __version__, interrupts
from genkit.errors import GenkitError

DEBUG_ENV = "GENKIT_DEBUG"


def _version(value: bool):
    if value:
        print(f"genkit {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks (accepted anywhere on the line, or GENKIT_DEBUG=1).")
    ] = False,
):
    """Generate images, text, music and animations with small models; extend genkit with plugins."""


def _console():
    """A rich console; piped output gets a wide fixed width so names are never broken."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def _echo_err(message: str) -> None:
    from genkit.printable import printable

    print(printable(message), file=sys.stderr)  # file, class and plugin names come from outside


# ---------------------------------------------------------------- static commands


def plugins_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
):
    """List every plugin found, its version, import time, generators, and any error."""
    from genkit.registry import load_registry

    registry = load_registry()
    if as_json:
        rows = [vars(p) for p in registry.plugins]
        print(json.dumps({"plugins": rows, "conflicts": registry.conflicts}, indent=2))
        return
    from rich.markup import escape
    from rich.table import Table

    from genkit.printable import printable

    def shown(text) -> str:  # a plugin's words: no terminal escapes, no rich markup
        return escape(printable(text, 300))

    table = Table("plugin", "version", "kind", "import", "generators", "status")
    for p in registry.plugins:
        status = (
            f"[red]{shown(p.error)}[/red]"
            if p.error
            else f"[yellow]ok; {shown(p.warning)}[/yellow]"
            if p.warning
            else "ok"
        )
        kind = "built-in" if p.builtin else "third-party"
        table.add_row(
            shown(p.name),
            shown(p.version or "-"),
            kind,
            f"{p.import_seconds * 1000:.1f} ms",
            shown(", ".join(p.generators) or "-"),
            status,
        )
    console = _console()
    console.print(table)
    for conflict in registry.conflicts:
        console.print(f"[yellow]conflict:[/yellow] {shown(conflict)}")


# ---------------------------------------------------------------- building commands from specs


# ---------------------------------------------------------------- the app


def build_app() -> typer.Typer:
    from genkit.commands.generate import generator_command
    from genkit.registry import load_registry
    from genkit.train.command import eval_command, train_command

    registry = load_registry()
    # Plain help formatting: typer's rich help costs ~0.15 s of imports on every --help.
    app = typer.Typer(
        name="genkit",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=True,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    app.command("plugins")(plugins_command)
    from genkit.commands import aliases, defaults, install

    app.add_typer(aliases.app, name="aliases")
    app.add_typer(defaults.app, name="defaults")
    app.command("install")(install.install_command)
    app.command("uninstall")(install.uninstall_command)
    from genkit.commands.logs import logs_command
    from genkit.commands.models import models_command

    app.command("models")(models_command)
    app.command("logs")(logs_command)
    from genkit.commands.inspect import inspect_command

    app.command("inspect")(inspect_command)
    from genkit.commands.pull import pull_command

    app.command("pull")(pull_command)
    from genkit.commands.gallery import gallery_command
    from genkit.commands.rerun import rerun_command

    app.command("rerun")(rerun_command)
    app.command("gallery")(gallery_command)
    train = typer.Typer(help="Train a generator on your own data.", no_args_is_help=True, rich_markup_mode=None)
    evaluate = typer.Typer(
        help="Measure a generator with its own metrics.", no_args_is_help=True, rich_markup_mode=None
    )
    for spec in registry.generators.values():
        app.command(spec.name, rich_help_panel="Generators")(generator_command(spec, registry.kinds))
        if spec.trainable:
            train.command(spec.name)(train_command(spec))
            evaluate.command(spec.name)(eval_command(spec))
    app.add_typer(train, name="train")
    app.add_typer(evaluate, name="eval")
    return app


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


# The parser's validation library words some errors for programmers; say them for users.
_PARSER_WORDING = (
    (re.compile(r"Value error, "), ""),
    (re.compile(r"Input should be a valid integer[^.]*"), "expected a whole number"),
    (re.compile(r"Input should be a valid number[^.]*"), "expected a number"),
    (re.compile(r"Input should be a valid boolean[^.]*"), "expected true or false"),
    (re.compile(r"Input should be (a valid )?"), "expected "),
)


def user_wording(message: str) -> str:
    for pattern, replacement in _PARSER_WORDING:
        message = pattern.sub(replacement, message)
    return message


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
    import fcntl

    for fd in (0, 1, 2):
        try:
            writable = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR)
        except OSError:  # closed: the next open takes the lowest free descriptor, this one
            os.open(os.devnull, os.O_RDWR)
            continue
        if fd and not writable:  # e.g. a launcher script left open read-only where stderr was
            os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (kept open for the process's life)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (kept open for the process's life)


def _quiet_broken_pipe() -> None:
    """The reader went away (``genkit text | head -1``): drop what is still buffered, silently."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _stdout_reader_gone() -> bool:
    """True when stdout is a pipe whose reader has closed it (poll reports an error on it)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def main(argv: list[str] | None = None) -> None:
    _standard_streams()
    argv, debug = _take_debug(list(sys.argv[1:] if argv is None else argv))
    if debug:  # genkit processes this one starts (torchrun workers of --nproc) show tracebacks too
        os.environ[DEBUG_ENV] = "1"
    if argv == ["--version"]:  # needs no plugin discovery at all
        print(f"genkit {__version__}")
        sys.exit(0)
    previous_sigint = interrupts.install()
    try:
        code = _run(argv, debug)
    finally:
        interrupts.restore(previous_sigint)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, OSError, ValueError):
        _quiet_broken_pipe()
    sys.exit(code if isinstance(code, int) else 0)


def _click_errors():
    try:  # typer >= 0.22 carries its own copy of click
        from typer._click import exceptions as click_errors
    except ImportError:  # pragma: no cover - older typer on real click
        import click.exceptions as click_errors  # type: ignore[no-redef]
    return click_errors


def _run(argv: list[str], debug: bool) -> int:
    """Run the app; map every way it can end to the exit-code convention (2 user, 1 run, 130 Ctrl-C)."""
    from typer import Abort

    click_errors = _click_errors()
    try:
        code = build_app()(args=argv, prog_name="genkit", standalone_mode=False, default_map=_user_defaults(argv))
        if code == 130:  # typer turns Ctrl-C into a quiet Exit(130)
            raise KeyboardInterrupt
        return code
    except click_errors.UsageError as exc:
        return _usage_error(exc, click_errors)
    except click_errors.ClickException as exc:
        _echo_err(f"genkit: error: {_one_line(exc.format_message())}")
        return exc.exit_code
    except GenkitError as exc:
        _traceback_if(debug)
        if exc.manifest is not None and "--json" in argv:  # what a failed run did write
            print(json.dumps(dict(exc.manifest, error=_one_line(exc)), indent=2))
        _echo_err(f"genkit: error: {_one_line(exc)}")
        return exc.exit_code
    except (KeyboardInterrupt, Abort):
        _end_streamed_line()
        by = " by SIGTERM" if interrupts.exit_code() == 143 else ""  # SIGTERM stops like Ctrl-C, at a file boundary
        _echo_err(f"genkit: interrupted{by}; files already finished are complete, nothing half-written was kept")
        return interrupts.exit_code()
    except BrokenPipeError:
        _quiet_broken_pipe()
        return 0
    except SystemExit as exc:  # click turns a broken pipe into a silent exit 1
        if exc.code != 1 or not _stdout_reader_gone():
            raise
        _quiet_broken_pipe()
        return 0
    except Exception as exc:
        _traceback_if(debug)
        _echo_err(f"genkit: error: {type(exc).__name__}: {_one_line(exc)} (run with --debug for the traceback)")
        return 1


def _end_streamed_line() -> None:
    """Ctrl-C in the middle of streamed text: its line ends before the message (stdout a terminal only)."""
    text_writer = sys.modules.get("genkit.writers.text")  # only loaded when text was being written
    if text_writer is not None:
        import contextlib

        with contextlib.suppress(OSError, ValueError):
            text_writer.end_open_line()


def _user_defaults(argv: list[str]) -> dict:
    """The user's `genkit defaults`, as the parser's default map (not read by the command that edits them)."""
    if argv[:1] == ["defaults"]:
        return {}
    from genkit.defaults import default_map

    return default_map()


def _usage_error(exc, click_errors) -> int:
    if type(exc).__name__ == "NoArgsIsHelpError" or not exc.format_message().strip():
        if exc.ctx is not None:  # a bare group name (`genkit train`): its help, as asked for
            try:
                print(exc.ctx.get_help())
            except BrokenPipeError:
                _quiet_broken_pipe()
        return 0
    message = user_wording(exc.format_message())
    if isinstance(exc, click_errors.NoSuchOption) or "No such command" in message:
        message = message.rstrip(".")
    _echo_err(f"genkit: error: {_one_line(message)}")
    return 2


def _traceback_if(debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exc()
