"""`genkit logs`: the runs genkit recorded (genkit/history), newest first; `genkit logs ID`: one in full.

A table that fits the terminal (commands wrap onto more lines, names and times are never cut),
full-text search (`-q`), `--since`, `--json` with everything, and `--files` for scripts: the paths
written, one per line. Every string from the history is escaped before it reaches the terminal.
"""

from __future__ import annotations

import json
import re
import textwrap
import time
from typing import Annotated

import typer

from genkit.errors import GenkitError

_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhdw])$")
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
HEADERS = ["id", "time", "generator", "files", "secs", "exit", "command"]


def _when(started: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(started))


def parse_since(text: str, now: float | None = None) -> float:
    """--since: '3d', '12h', '30m', '2w' ago, or a date 'YYYY-MM-DD' / 'YYYY-MM-DD HH:MM' (local time)."""
    now = time.time() if now is None else now
    found = _AGO.match(text.strip().lower())
    if found:
        return now - float(found.group(1)) * _UNIT_S[found.group(2)]
    for pattern in ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return time.mktime(time.strptime(text.strip(), pattern))
        except ValueError:
            continue
    raise GenkitError(f"--since {text!r}: give a date (2026-05-01, '2026-05-01 14:30') or an age (30m, 12h, 3d, 2w)")


def _print_table(runs: list[dict]) -> None:
    from genkit.commands.table import GAP, terminal_width
    from genkit.printable import printable as escape

    rows = [
        [
            str(r["id"]),
            _when(r["started"]),
            escape(r["generator"] or ("train" if r.get("kind") == "train" else "-")),
            str(len(r["files"])),
            f"{r['duration']:.1f}",
            str(r.get("status", 0)),
            escape(r["command"]),
        ]
        for r in runs
    ]
    widths = [max(len(row[k]) for row in [HEADERS, *rows]) for k in range(len(HEADERS) - 1)]
    indent = sum(widths) + len(GAP) * len(widths)
    room = max(terminal_width() - indent, 20)  # the command wraps in what the other columns leave
    right = (0, 3, 4, 5)
    for row in [HEADERS, *rows]:
        cells = [c.rjust(w) if k in right else c.ljust(w) for k, (c, w) in enumerate(zip(row, widths, strict=False))]
        pieces = textwrap.wrap(row[-1], room, break_on_hyphens=False) or [""]
        print((GAP.join(cells) + GAP + pieces[0]).rstrip())
        for piece in pieces[1:]:
            print(" " * indent + piece)


def _print_run(run: dict) -> None:
    """One run in full: what ran, how it ended, with what, and each file with its state now."""
    from genkit.history.record import file_state
    from genkit.printable import printable as escape

    fields = [
        ("id", run["id"]),
        ("kind", run.get("kind")),
        ("started", _when(run["started"])),
        ("duration", f"{run['duration']:.2f} s"),
        ("exit status", run.get("status")),
        ("error", run.get("error")),
        ("command", run["command"]),
        ("folder", run.get("cwd")),
        ("generator", run.get("generator")),
        ("plugin", run.get("plugin")),
        ("weights", run.get("weights")),
        ("weights sha256", run.get("weights_sha256")),
        ("seed", run.get("seed")),
        ("item seeds", " ".join(run.get("item_seeds") or []) or None),
        ("device", run.get("device")),
        ("genkit", run.get("genkit")),
    ]
    for key, value in sorted((run.get("options") or {}).items()):
        fields.append((f"option {key}", json.dumps(value) if not isinstance(value, str) else value))
    if (run.get("extra") or {}).get("model"):
        fields.append(("model", json.dumps(run["extra"]["model"], sort_keys=True)))
    summary = (run.get("extra") or {}).get("summary") or {}
    for key, value in sorted((summary.get("metrics") or {}).items()):
        fields.append((f"metric {key}", value))
    width = max(len(key) for key, _ in fields)
    for key, value in fields:
        if value is not None:
            print(f"{key:>{width}}: {escape(value)}")
    outputs = run.get("outputs") or []
    print(f"{'files':>{width}}: {len(outputs)}")
    for output in outputs:
        state = file_state(output)
        size = "-" if output.get("size") is None else f"{output['size']:,} B"
        print(f"  {output['role']:<10} {state:<8} {size:>12}  {escape(output['path'])}")
    if run.get("text"):
        print(f"{'text':>{width}}:")
        for line in str(run["text"]).splitlines():
            print("  " + escape(line))


def logs_command(
    run_id: Annotated[int | None, typer.Argument(help="Show this run in full (its id from the table).", min=1)] = None,
    count: Annotated[int, typer.Option("--count", "-n", help="How many recent runs to show (0: all).", min=0)] = 10,
    generator: Annotated[str | None, typer.Option("--generator", "-g", help="Only runs of this generator.")] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="Only runs whose command, options, prompt or text hold these words."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only runs since a date (2026-05-01) or for an age (12h, 3d).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the runs as JSON, with seeds, options and files.")
    ] = False,
    files: Annotated[bool, typer.Option("--files", help="Print the paths the runs wrote, one per line.")] = False,
    path: Annotated[bool, typer.Option("--path", help="Print where the history database is and exit.")] = False,
):
    """Show recent runs (generation and training): command, generator, weights, seeds, options, files, exit status.

    Runs are recorded in a SQLite database in your data folder (see --path); GENKIT_LOGS=off stops
    recording and GENKIT_LOGS_PATH moves the database.
    """
    from genkit import history

    if path:
        print(history.database_path())
        return
    if run_id is not None:
        run = history.read_run(run_id)
        if run is None:
            raise GenkitError(f"no run {run_id} in the history {history.database_path()} (genkit logs lists them)")
        runs = [run]
    else:
        after = parse_since(since) if since else None
        runs = history.read_runs(count or None, generator, text=query, since=after)
    if as_json:
        print(json.dumps(runs[0] if run_id is not None else runs, indent=2))
    elif files:
        for run in runs:
            for written in run["files"]:
                from genkit.printable import printable

                print(printable(written))  # a name holding a newline or an escape stays one safe line
    elif run_id is not None:
        _print_run(runs[0])
    elif not runs:
        where = history.database_path()
        which = f" for generator {generator!r}" if generator else ""
        which += " matching the search" if query or since else ""
        print(
            f"no runs recorded{which} ({where})" + ("" if history.recording() else "; recording is off (GENKIT_LOGS)")
        )
    else:
        _print_table(runs)
