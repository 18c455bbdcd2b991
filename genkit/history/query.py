"""Reading the history: filtered pages of runs, one run in full, and full-text search.

Every row is decoded on its own and forgivingly: a row another program (or a bug) damaged still
lists, with what could be read and ``damaged`` set, so one bad row never hides the rest.
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from genkit.errors import RunError
from genkit.history import schema, store

_JSON_COLUMNS = {"item_seeds": list, "options": dict, "files": list, "extra": dict}
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Filters:
    """What to list; every field left None matches everything."""

    generator: str | None = None
    weights: str | None = None  # the weights file's name (the gallery's "model")
    seed: str | None = None  # the run's seed or any item's
    since: float | None = None  # Unix time
    until: float | None = None
    text: str | None = None  # full-text search over commands, options and text
    kind: str | None = None  # generate | train

    def where(self) -> tuple[str, list]:
        clauses, args = [], []
        for column in ("generator", "weights", "kind"):
            if getattr(self, column):
                clauses.append(f"{column} = ?")
                args.append(getattr(self, column))
        if self.seed:
            clauses.append("(seed = ? OR item_seeds LIKE ?)")
            args += [str(self.seed), f'%"{self.seed}"%']
        if self.since is not None:
            clauses.append("started >= ?")
            args.append(self.since)
        if self.until is not None:
            clauses.append("started < ?")
            args.append(self.until)
        if self.text:
            match = fts_query(self.text)
            if match is None:
                clauses.append("0")
            else:
                clauses.append("id IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?)")
                args.append(match)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def fts_query(text: str) -> str | None:
    """The user's words as an FTS5 query: each word must appear (as a word or a word's start).

    Quoting every word keeps FTS5's own syntax (AND, NEAR, quotes, '-') out of reach of what a
    user types; None when the text holds no word at all.
    """
    words = _WORD.findall(text)
    return " ".join(f'"{w}"*' for w in words) if words else None


def _connect(path: Path) -> sqlite3.Connection | None:
    if not (path.exists() or path.is_symlink()):
        return None
    try:
        return store.retrying(lambda: store.open_for_reading(path))
    except schema.NewerHistory:
        raise
    except sqlite3.Error as exc:
        raise RunError(f"cannot read the history {path}: {exc} (move it away to start a new one)") from None


_SESSIONS: dict[str, sqlite3.Connection | None] = {}


@contextmanager
def session(path: Path):
    """``with session(path):`` the queries inside share one connection (a gallery page makes five)."""
    key = str(path)
    if key in _SESSIONS:  # already inside one
        yield
        return
    connection = _connect(path)
    if connection is not None and not schema.has_runs(connection):
        connection.close()
        connection = None
    _SESSIONS[key] = connection
    try:
        yield
    finally:
        _SESSIONS.pop(key, None)
        if connection is not None:
            connection.close()


def _select(path: Path, sql: str, args: list) -> list[sqlite3.Row]:
    with session(path):
        connection = _SESSIONS[str(path)]
        if connection is None:  # no database, or an empty file: nothing recorded yet
            return []
        try:
            return store.retrying(lambda: connection.execute(sql, args).fetchall())
        except sqlite3.Error as exc:
            raise RunError(f"cannot read the history {path}: {exc} (move it away to start a new one)") from None


def read_runs(path: Path, filters: Filters, count: int | None = 10, offset: int = 0) -> list[dict]:
    """Runs matching ``filters``, newest first, ``count`` of them (None: all) after ``offset``."""
    where, args = filters.where()
    sql = f"SELECT * FROM runs{where} ORDER BY id DESC"
    if count:
        sql += " LIMIT ? OFFSET ?"
        args += [count, offset]
    return [decode(row) for row in _select(path, sql, args)]


def count_runs(path: Path, filters: Filters) -> int:
    where, args = filters.where()
    rows = _select(path, f"SELECT COUNT(*) FROM runs{where}", args)
    return int(rows[0][0]) if rows else 0


_DISTINCT_CACHE: dict[tuple, list[str]] = {}


def distinct(path: Path, column: str) -> list[str]:
    """The values a column takes (generators, weights), for the gallery's filter menus.

    Remembered until the history changes (its newest id or its row count), so a page of a large
    history does not scan every row for its menus.
    """
    if column not in ("generator", "weights"):
        raise ValueError(column)
    stamp = _select(path, "SELECT MAX(id), COUNT(*) FROM runs", [])
    key = (str(path), column, tuple(stamp[0]) if stamp else None)
    if key not in _DISTINCT_CACHE:
        rows = _select(path, f"SELECT DISTINCT {column} FROM runs WHERE {column} IS NOT NULL ORDER BY 1", [])
        if len(_DISTINCT_CACHE) > 64:
            _DISTINCT_CACHE.clear()
        _DISTINCT_CACHE[key] = [str(r[0]) for r in rows]
    return _DISTINCT_CACHE[key]


def read_run(path: Path, run_id: int) -> dict | None:
    rows = _select(path, "SELECT * FROM runs WHERE id = ?", [run_id])
    if not rows:
        return None
    run = decode(rows[0])
    run["outputs"] = outputs_of(path, [run_id]).get(run_id, [])
    return run


def outputs_of(path: Path, run_ids: list[int]) -> dict[int, list[dict]]:
    """Each run's recorded files (path, role, item, sha256, size), in the order they were written."""
    if not run_ids:
        return {}
    marks = ", ".join("?" * len(run_ids))
    rows = _select(path, f"SELECT * FROM outputs WHERE run_id IN ({marks}) ORDER BY run_id, position", list(run_ids))
    found: dict[int, list[dict]] = {}
    for row in rows:
        found.setdefault(int(row["run_id"]), []).append({k: v for k, v in dict(row).items() if k != "run_id"})
    return found


def decode(row: sqlite3.Row) -> dict:
    """A runs row as plain values; JSON columns parsed, a damaged field replaced and flagged."""
    run = dict(row)
    damaged = []
    for key, kind in _JSON_COLUMNS.items():
        if key not in run:
            continue
        try:
            value = json.loads(run[key]) if run[key] else kind()
        except (TypeError, ValueError):
            value = None
        if not isinstance(value, kind):
            damaged.append(key)
            value = kind()
        run[key] = value
    for key, default in (("started", 0.0), ("duration", 0.0)):
        try:
            run[key] = float(run.get(key))  # type: ignore[arg-type]  # None: caught below as damaged
        except (TypeError, ValueError):
            damaged.append(key)
            run[key] = default
    for key in ("command", "generator", "weights", "seed", "error", "text", "cwd", "plugin", "device", "genkit"):
        if run.get(key) is not None and not isinstance(run[key], str):
            run[key] = str(run[key]) if not isinstance(run[key], bytes) else run[key].decode("utf-8", "replace")
    run["command"] = run.get("command") or ""
    run.setdefault("kind", "generate")
    run.setdefault("status", 0)
    if damaged:
        run["damaged"] = damaged
    return run
