"""`genkit logs`: the runs genkit recorded (genkit/history.py), newest first.

A table that fits the terminal (commands are cut with an ellipsis, never names or times), `--json`
with everything, and `--files` for scripts: the paths written, one per line.
"""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer


def _when(started: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(started))


def _print_table(runs: list[dict]) -> None:
    from genkit.commands.table import render

    rows = [
        [
            str(r["id"]),
            _when(r["started"]),
            r["generator"] or "-",
            str(len(r["files"])),
            f"{r['duration']:.1f}",
            r["command"],
        ]
        for r in runs
    ]
    print(render(["id", "time", "generator", "files", "secs", "command"], rows, flexible=5, right=(0, 3, 4)))


def logs_command(
    count: Annotated[int, typer.Option("--count", "-n", help="How many recent runs to show (0: all).", min=0)] = 10,
    generator: Annotated[str | None, typer.Option("--generator", "-g", help="Only runs of this generator.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the runs as JSON, with seeds, options and files.")
    ] = False,
    files: Annotated[bool, typer.Option("--files", help="Print the paths the runs wrote, one per line.")] = False,
    path: Annotated[bool, typer.Option("--path", help="Print where the history database is and exit.")] = False,
):
    """Show recent generation runs: command, generator, weights, seeds, options and files written.

    Runs are recorded in a SQLite database in your data folder (see --path); GENKIT_LOGS=off stops
    recording and GENKIT_LOGS_PATH moves the database.
    """
    from genkit import history

    if path:
        print(history.database_path())
        return
    runs = history.read_runs(count or None, generator)
    if as_json:
        print(json.dumps(runs, indent=2))
    elif files:
        for run in runs:
            for written in run["files"]:
                print(written)
    elif not runs:
        where = history.database_path()
        which = f" for generator {generator!r}" if generator else ""
        print(
            f"no runs recorded{which} ({where})" + ("" if history.recording() else "; recording is off (GENKIT_LOGS)")
        )
    else:
        _print_table(runs)
