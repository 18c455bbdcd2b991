"""The history of generation runs, in SQLite, like `llm logs`: what ran, with which weights and
seeds, and which files it wrote. `genkit logs` reads it.

Recording is a courtesy, never a condition: a damaged, locked or unwritable database costs one
warning line on stderr and the run goes on. ``GENKIT_LOGS=off`` turns recording off;
``GENKIT_LOGS_PATH`` puts the database elsewhere (tests, or a shared folder).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

from genkit.errors import RunError

PATH_ENV, SWITCH_ENV = "GENKIT_LOGS_PATH", "GENKIT_LOGS"
BUSY_TIMEOUT_S = 0.5  # wait this long for another genkit that is writing; then give up on this record
_OFF = {"off", "0", "false", "no"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,        -- Unix time
    duration REAL NOT NULL,       -- seconds
    command TEXT NOT NULL,
    generator TEXT,
    weights TEXT,
    weights_sha256 TEXT,
    seed TEXT,                    -- text: seeds reach 2**63 - 1
    item_seeds TEXT,              -- JSON list, one per item
    options TEXT,                 -- JSON object
    files TEXT,                   -- JSON list of paths written
    device TEXT,
    genkit TEXT
);
CREATE INDEX IF NOT EXISTS runs_generator ON runs (generator, id);
"""


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


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
    connection.executescript(_SCHEMA)
    return connection


def _row(manifest: dict, command: str, started: float, finished: float) -> tuple:
    files = manifest.get("files") or []
    seeds = []
    for f in files:  # one row per file; several -o formats give several files per item
        if f.get("seed") is not None and str(f["seed"]) not in seeds:
            seeds.append(str(f["seed"]))
    paths = [f["path"] for f in files if f.get("path")]
    paths += [f[k] for f in files for k in ("piano_roll",) if f.get(k)]
    if manifest.get("grid"):
        paths.append(manifest["grid"])
    paths = [os.path.abspath(p) for p in paths]  # a relative path means nothing once the shell has moved on
    seed = manifest.get("seed")
    return (
        started,
        max(0.0, finished - started),
        command,
        manifest.get("generator"),
        manifest.get("weights"),
        manifest.get("weights_sha256"),
        None if seed is None else str(seed),
        json.dumps(seeds),
        json.dumps(manifest.get("options") or {}, sort_keys=True, default=str),
        json.dumps(paths),
        manifest.get("device"),
        manifest.get("genkit"),
    )


def record_run(manifest: dict, command: str, started: float, finished: float) -> None:
    """Add one run to the history. Never raises: a failure is one warning line on stderr."""
    if not recording():
        return
    path = database_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = _connect(path)
        try:
            with connection:
                connection.execute(
                    "INSERT INTO runs (started, duration, command, generator, weights, weights_sha256, seed,"
                    " item_seeds, options, files, device, genkit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _row(manifest, command, started, finished),
                )
        finally:
            connection.close()
    except Exception as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        print(
            f"genkit: warning: this run was not added to the history {path} ({reason}); "
            f"set {SWITCH_ENV}=off to stop recording",
            file=sys.stderr,
        )


def read_runs(count: int | None = 10, generator: str | None = None) -> list[dict]:
    """The most recent runs, newest first; [] when nothing was ever recorded."""
    path = database_path()
    if not path.is_file():
        return []
    query, args = "SELECT * FROM runs", []
    if generator:
        query, args = query + " WHERE generator = ?", [generator]
    query += " ORDER BY id DESC" + (" LIMIT ?" if count else "")
    args += [count] if count else []
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            connection.row_factory = sqlite3.Row
            rows = [dict(r) for r in connection.execute(query, args)]
        finally:
            connection.close()
    except sqlite3.Error as exc:
        if "no such table" in str(exc):  # an empty database file: nothing recorded yet
            return []
        raise RunError(f"cannot read the history {path}: {exc} (move it away to start a new one)") from None
    for row in rows:
        for key in ("item_seeds", "options", "files"):
            row[key] = json.loads(row[key]) if row[key] else ([] if key != "options" else {})
    return rows
