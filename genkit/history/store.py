"""Opening the history database: WAL, a busy wait, retries, and a URI that survives any folder name.

Many genkit processes may finish at the same moment (a shell loop, 24 jobs of a sweep): in WAL mode
readers never block the writer, each write takes the write lock up front (BEGIN IMMEDIATE, so it
waits in SQLite's busy handler instead of failing on an upgrade), and a write still refused is
retried with a random pause until a deadline. Only a lock held past the deadline loses the record.
"""

from __future__ import annotations

import random
import sqlite3
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from genkit.errors import RunError
from genkit.history import schema

BUSY_WAIT_S = 1.0  # SQLite's own wait for a lock, per attempt
DEADLINE_S = 5.0  # after this long, give up on this record (the run itself never waits longer)

T = TypeVar("T")


def uri(path: Path, mode: str) -> str:
    """A ``file:`` URI for ``path``: '?', '#' and '%' in a folder name are data, not URI syntax."""
    return f"file:{urllib.parse.quote(str(Path(path).absolute()))}?mode={mode}"


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def retrying(work: Callable[[], T], deadline_s: float = DEADLINE_S) -> T:
    """``work()``, again after a short random pause while the database is locked, until the deadline."""
    give_up = time.monotonic() + deadline_s
    while True:
        try:
            return work()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= give_up:
                raise
            time.sleep(random.uniform(0.02, 0.2))


def check_regular(path: Path) -> None:
    """The history is a regular file or nothing yet: never a link (SQLite would write through it), a FIFO or a device."""
    path = Path(path)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise RunError(f"the history {path} is not a regular file (a link, folder, FIFO or device); move it away")


def open_for_writing(path: Path) -> sqlite3.Connection:
    """A connection to the (created, migrated) history, in WAL mode, outside any transaction."""
    check_regular(path)
    connection = sqlite3.connect(uri(path, "rwc"), uri=True, timeout=BUSY_WAIT_S, isolation_level=None)
    try:
        if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            connection.execute("PRAGMA journal_mode = WAL")  # persistent: set once per database file
        if schema.version_of(connection) != schema.VERSION or not schema.has_runs(connection):
            with transaction(connection):
                schema.prepare(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


def open_for_reading(path: Path) -> sqlite3.Connection:
    """A connection for reading; an older history is migrated first (reading it is what asked)."""
    check_regular(path)
    connection = sqlite3.connect(uri(path, "rw"), uri=True, timeout=BUSY_WAIT_S, isolation_level=None)
    try:
        schema.refuse_newer(connection, path)
        if schema.has_runs(connection) and schema.version_of(connection) < schema.VERSION:
            connection.close()
            connection = retrying(lambda: open_for_writing(path))
    except BaseException:
        connection.close()
        raise
    connection.row_factory = sqlite3.Row
    return connection


class transaction:
    """``with transaction(connection):`` BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, kind, value, traceback):
        self.connection.execute("COMMIT" if kind is None else "ROLLBACK")
        return False
