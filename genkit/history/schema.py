"""The history's tables, their version (SQLite's ``user_version``) and the steps from each older one.

Version 1 (genkit up to 0.x) had the ``runs`` table alone, with the files as a JSON list. Version 2
adds what a gallery and ``genkit rerun`` need: the kind of run (generation or training), its exit
status and error, the folder it ran in, the text it streamed, a row per file with its sha256 (so a
file changed since the run can be told apart) and a full-text index (FTS5) over commands, options
and text. A history from a newer genkit is refused rather than half-read.
"""

from __future__ import annotations

import json
import sqlite3

from genkit.errors import RunError

VERSION = 2

_RUNS_V1 = """
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

# Columns version 2 adds to runs, with the value an older row gets.
_V2_COLUMNS = (
    ("kind", "TEXT NOT NULL DEFAULT 'generate'"),  # generate | train
    ("status", "INTEGER NOT NULL DEFAULT 0"),  # the command's exit status
    ("error", "TEXT"),  # its one-line error, if it failed
    ("cwd", "TEXT"),  # where it ran: relative paths in the command mean something there
    ("plugin", "TEXT"),
    ("text", "TEXT"),  # the text it wrote or streamed, bounded
    ("extra", "TEXT"),  # JSON: a training run's folder and metrics
)

_V2_TABLES = """
CREATE TABLE IF NOT EXISTS outputs (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    position INTEGER NOT NULL,
    path TEXT NOT NULL,           -- absolute
    role TEXT NOT NULL,           -- item, sidecar, frame, grid, piano_roll, weights, card, plot, sample, checkpoint
    item INTEGER,                 -- the item's index, for items and their companions
    sha256 TEXT,                  -- NULL when it was not hashed (too big, or recorded by version 1)
    size INTEGER,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started);
CREATE INDEX IF NOT EXISTS runs_weights ON runs (weights, id);
CREATE VIRTUAL TABLE IF NOT EXISTS runs_fts USING fts5(command, options, text, generator, tokenize = 'unicode61');
"""


class NewerHistory(RunError):
    """The history was written by a newer genkit."""


def version_of(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def has_runs(connection: sqlite3.Connection) -> bool:
    found = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()
    return found is not None


def refuse_newer(connection: sqlite3.Connection, where) -> None:
    version = version_of(connection)
    if version > VERSION:
        raise NewerHistory(
            f"the history {where} was written by a newer genkit (schema {version}; this one reads up to {VERSION}); "
            "upgrade genkit or set GENKIT_LOGS_PATH to another file"
        )


def prepare(connection: sqlite3.Connection, where) -> None:
    """Create or migrate the tables; the caller holds a write transaction. Refuses a newer history."""
    refuse_newer(connection, where)
    version = version_of(connection) if has_runs(connection) else 0
    if version == VERSION:
        return
    for statement in _statements(_RUNS_V1):
        connection.execute(statement)
    present = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
    for name, declaration in _V2_COLUMNS:
        if name not in present:
            connection.execute(f"ALTER TABLE runs ADD COLUMN {name} {declaration}")
    for statement in _statements(_V2_TABLES):
        connection.execute(statement)
    _index_version_1_rows(connection)
    connection.execute(f"PRAGMA user_version = {VERSION}")


def _statements(script: str) -> list[str]:
    lines = [line.split("--")[0] for line in script.splitlines()]
    return [s.strip() for s in " ".join(lines).split(";") if s.strip()]


def _index_version_1_rows(connection: sqlite3.Connection) -> None:
    """Give rows an older genkit wrote their file rows and their place in the search index."""
    rows = connection.execute(
        "SELECT id, command, options, files, generator FROM runs WHERE id NOT IN (SELECT rowid FROM runs_fts)"
    ).fetchall()
    for run_id, command, options, paths, generator in rows:
        connection.execute(
            "INSERT INTO runs_fts (rowid, command, options, text, generator) VALUES (?, ?, ?, '', ?)",
            (run_id, command or "", searchable_options(options), generator or ""),
        )
        for position, path in enumerate(_json_list(paths)):
            connection.execute(
                "INSERT OR IGNORE INTO outputs (run_id, position, path, role) VALUES (?, ?, ?, 'item')",
                (run_id, position, str(path)),
            )


def _json_list(text) -> list:
    try:
        value = json.loads(text) if text else []
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []


def searchable_options(options_json) -> str:
    """Options as 'key value' words for the index (JSON punctuation would only add noise)."""
    try:
        options = json.loads(options_json) if isinstance(options_json, str) else options_json
    except ValueError:
        return str(options_json)
    if not isinstance(options, dict):
        return ""
    return " ".join(f"{key} {value}" for key, value in options.items() if value not in (None, False, ""))
