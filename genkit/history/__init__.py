"""The history of runs, in SQLite, like `llm logs`: what ran (generations and training), with which
weights and seeds, how it ended, and every file it wrote. `genkit logs`, `genkit rerun` and
`genkit gallery` read it.

Recording is a courtesy, never a condition: a damaged, locked or unwritable database costs one
warning line on stderr and the run goes on. ``GENKIT_LOGS=off`` turns recording off;
``GENKIT_LOGS_PATH`` puts the database elsewhere (tests, or a shared folder).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

PATH_ENV, SWITCH_ENV = "GENKIT_LOGS_PATH", "GENKIT_LOGS"
_OFF = {"off", "0", "false", "no"}


def data_folder() -> Path:
    """genkit's folder in the platform's place for user data."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "genkit"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "genkit"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "genkit"


def database_path() -> Path:
    return Path(os.environ[PATH_ENV]) if os.environ.get(PATH_ENV) else data_folder() / "logs.db"


def recording() -> bool:
    return os.environ.get(SWITCH_ENV, "").strip().lower() not in _OFF


def _status_of(error: BaseException | None) -> tuple[int, str | None]:
    if error is None:
        return 0, None
    if isinstance(error, KeyboardInterrupt):  # Ctrl-C (130) or SIGTERM (143), as the command exits
        from genkit import interrupts

        code = interrupts.exit_code()
        return code, "interrupted" if code == 130 else f"interrupted by {interrupts.signal_name()}"
    code = getattr(error, "exit_code", 1)
    return (code if isinstance(code, int) else 1), " ".join(str(error).split()) or type(error).__name__


def record_run(
    manifest: dict, command: str, started: float, finished: float, error: BaseException | None = None
) -> None:
    """Add one generation run (its manifest, even a failed run's) to the history. Never raises."""
    from genkit.history import record

    status, message = _status_of(error)
    seed = manifest.get("seed")
    row = {
        "started": started,
        "duration": max(0.0, finished - started),
        "command": command,
        "generator": manifest.get("generator"),
        "plugin": manifest.get("plugin"),
        "weights": manifest.get("weights"),
        "weights_sha256": manifest.get("weights_sha256"),
        "seed": None if seed is None else str(seed),
        "item_seeds": json.dumps(record.item_seeds(manifest)),
        "options": json.dumps(manifest.get("options") or {}, sort_keys=True, default=str),
        "device": manifest.get("device"),
        "genkit": manifest.get("genkit"),
        "kind": "generate",
        "status": status,
        "error": message,
        "cwd": _cwd(),
        "text": record.streamed_text(manifest),
        # What a generator's load_model() reported (a --model's source, revision, files' sha256).
        "extra": json.dumps({"model": manifest["model"]}, default=str) if manifest.get("model") else None,
    }
    outputs = record.generation_outputs(manifest)
    if status == 2 and not outputs:  # a user mistake found mid-run (a prompt the model cannot read): nothing ran
        return
    _write(row, outputs)


def record_training(
    generator: str,
    command: str,
    out: Path,
    started: float,
    summary: dict | None = None,
    error: BaseException | None = None,
    options: dict | None = None,
    seed: int | None = None,
) -> None:
    """Add one training run (its folder, weights, card metrics) to the history. Never raises."""
    from genkit import __version__
    from genkit.history import record

    status, message = _status_of(error)
    summary = summary or {}
    outputs = record.training_outputs(out)
    weights = next((path for path, role, _ in outputs if role == "weights"), None)
    row = {
        "started": started,
        "duration": max(0.0, time.time() - started),
        "command": command,
        "generator": generator,
        "weights": Path(weights).name if weights else None,
        "weights_sha256": record.file_digest(Path(weights))[0] if weights else None,
        "seed": None if seed is None else str(seed),
        "item_seeds": "[]",
        "options": json.dumps(options or {}, sort_keys=True, default=str),
        "device": summary.get("device"),
        "genkit": __version__,
        "kind": "train",
        "status": status,
        "error": message,
        "cwd": _cwd(),
        "extra": json.dumps({"out": str(Path(out).absolute()), "summary": summary}, default=str),
    }
    _write(row, outputs)


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the folder was removed under us
        return None


def _write(row: dict, outputs: list) -> None:
    if not recording():
        return
    from genkit.history import record, store

    path = database_path()

    def attempt():
        connection = store.open_for_writing(path)
        try:
            with store.transaction(connection):
                record.insert(connection, row, outputs)
        finally:
            connection.close()

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        store.retrying(attempt)
    except Exception as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        print(
            f"genkit: warning: this run was not added to the history {path} ({reason}); "
            f"set {SWITCH_ENV}=off to stop recording",
            file=sys.stderr,
        )


def read_runs(count: int | None = 10, generator: str | None = None, **filters) -> list[dict]:
    """The most recent runs, newest first; [] when nothing was ever recorded (see query.Filters)."""
    from genkit.history import query

    return query.read_runs(database_path(), query.Filters(generator=generator, **filters), count)


def read_run(run_id: int) -> dict | None:
    """One run in full (its outputs with their sha256), or None when the history has no such run."""
    from genkit.history import query

    return query.read_run(database_path(), run_id)
