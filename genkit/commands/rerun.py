"""`genkit rerun ID`: run a recorded command again, with the same options and seeds, into fresh files.

The recorded command line is taken word by word: ``--seed`` and ``--n`` may be replaced, every
option naming a file to write (``-o``, ``--grid``, ``--piano-roll``, ``--frames-dir``, a training
run's ``--out``) is pointed into a new folder ``rerun-ID/`` here (or the ``-o`` given), and
``--overwrite`` is dropped, so the originals are never touched: a name that exists is refused by
the command itself. It runs in the folder the original ran in, so relative inputs (``--primer``,
``--data``, ``--weights runs/x``) mean what they meant.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from genkit.errors import GenkitError

OUTPUT_FLAGS = ("-o", "--output")


def _split(word: str) -> tuple[str, str | None]:
    """'--seed=5' -> ('--seed', '5'); '-ox.png' -> ('-o', 'x.png'); other words -> (word, None)."""
    if word.startswith("--") and "=" in word:
        flag, value = word.split("=", 1)
        return flag, value
    if word.startswith("-o") and len(word) > 2 and not word.startswith("--"):
        return "-o", word[2:]
    return word, None


def path_flags(words: list[str]) -> set[str]:
    """The flags of this command that name files it writes."""
    if words[1:2] == ["train"]:
        return {"--out"}
    from genkit.registry import load_registry
    from genkit.writers import options_for

    registry = load_registry()
    spec = registry.generators.get(words[1]) if len(words) > 1 else None
    if spec is None:
        raise GenkitError(f"the recorded command {shlex.join(words[:2])!r} names no installed generator")
    return {*OUTPUT_FLAGS, *(o.flag for o in options_for(spec, registry.kinds) if o.type == "path")}


def fresh_folder(run_id: int, base: Path) -> Path:
    """rerun-ID, or rerun-ID-2, -3 ...: a folder name nothing holds yet."""
    candidate, k = base / f"rerun-{run_id}", 2
    while candidate.exists() or candidate.is_symlink():
        candidate, k = base / f"rerun-{run_id}-{k}", k + 1
    return candidate


def rewrite(words: list[str], flags: set[str], folder: Path, seed, n, outputs: list[str], default_out) -> list[str]:
    """The recorded words with overrides applied and every written path moved into ``folder``."""
    out: list[str] = []
    seen_seed = seen_out = False
    k = 0
    while k < len(words):
        flag, value = _split(words[k])
        if value is None and flag in flags | {"--seed", "--n"} and k + 1 < len(words):
            value, k = words[k + 1], k + 1
        k += 1
        if flag == "--overwrite":
            continue
        if value is None:
            out.append(flag)
        elif flag == "--seed":
            seen_seed = True
            out += [flag, str(seed) if seed is not None else value]
        elif flag == "--n":
            out += [flag, str(n) if n is not None else value]
        elif flag in OUTPUT_FLAGS and outputs:
            seen_out = True  # the user's -o replace the recorded ones (added below)
        elif flag in flags:
            seen_out = seen_out or flag in OUTPUT_FLAGS or flag == "--out"
            out += [flag, value if value == "-" else _moved(value, folder)]
        else:
            out += [flag, value]
    if not seen_seed and seed is not None:
        out += ["--seed", str(seed)]
    if n is not None and "--n" not in out:
        out += ["--n", str(n)]
    for given in outputs:
        out += ["-o", given if given == "-" else _absolute(given)]
    if not seen_out and not outputs and default_out:
        out += [default_out, str(folder) + os.sep]
    return out


def _absolute(value: str) -> str:
    """``value`` from here, keeping a trailing '/': it says 'a folder' to -o."""
    return str(Path(value).absolute()) + (os.sep if value.endswith(("/", os.sep)) else "")


def _moved(value: str, folder: Path) -> str:
    name = Path(value).name or "out"
    return str(folder / name) + (os.sep if value.endswith(("/", os.sep)) else "")


def plan(run: dict, seed: int | None, n: int | None, outputs: list[str]) -> tuple[list[str], Path]:
    """(the argv to run, the folder to run it in) for a recorded run."""
    try:
        words = shlex.split(run["command"])
    except ValueError:
        words = []
    if len(words) < 2 or words[0] != "genkit":
        raise GenkitError(f"run {run['id']} did not record a genkit command line; it cannot be run again")
    folder = fresh_folder(run["id"], Path.cwd())
    if run.get("kind") == "train":
        default_out: str | None = "--out"
    else:
        streamed = not run.get("files") and run.get("text") is not None
        default_out = None if streamed else "-o"
    recorded_seed = seed if seed is not None else run.get("seed")
    argv = rewrite(words, path_flags(words), folder, recorded_seed, n, outputs, default_out)
    where = Path(run["cwd"]) if run.get("cwd") and Path(run["cwd"]).is_dir() else Path.cwd()
    return argv[1:], where


def rerun_command(
    run_id: Annotated[int, typer.Argument(help="The run to make again (its id from genkit logs).", min=1)],
    seed: Annotated[
        int | None, typer.Option("--seed", help="Use this seed instead of the recorded one.", min=0)
    ] = None,
    n: Annotated[int | None, typer.Option("--n", help="Make this many items instead.", min=1)] = None,
    output: Annotated[
        list[str] | None, typer.Option("--output", "-o", help="Write here instead of a new folder rerun-ID/.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--print", help="Print the command it would run, and exit.")] = False,
):
    """Run a recorded command again with the same options and seeds (same device and versions: the same bytes).

    The originals are never overwritten: outputs go to a new folder rerun-ID/ here unless -o says where.
    """
    from genkit import history
    from genkit.commands.inspect import shell_word

    run = history.read_run(run_id)
    if run is None:
        raise GenkitError(f"no run {run_id} in the history {history.database_path()} (genkit logs lists them)")
    argv, where = plan(run, seed, n, list(output or []))
    shown = "genkit " + " ".join(shell_word(w) for w in argv)
    if dry_run:
        print(shown)
        return
    print(f"genkit: rerun {run_id} in {where}: {shown}", file=sys.stderr)
    code = subprocess.call([sys.executable, "-m", "genkit", *argv], cwd=where)
    if code:
        raise typer.Exit(code)
