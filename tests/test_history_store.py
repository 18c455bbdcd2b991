"""The history under load and across versions: no record lost with 24 writers at once, an older
history migrated, a newer one refused in one line, a damaged row still listed, any folder name."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

from conftest import REPO, run_genkit

from genkit.history import schema

WRITER = """
import sys, time
from genkit.history import record_run
start, name = float(sys.argv[1]), sys.argv[2]
while time.time() < start:
    time.sleep(0.005)
for k in range(3):
    record_run({"generator": "load", "seed": k, "files": [], "options": {"who": name}}, "genkit load " + name, start, time.time())
"""


def logs(db, *args, check=0):
    return run_genkit("logs", *args, env={"GENKIT_LOGS_PATH": str(db)}, check=check)


def test_24_runs_at_once_lose_no_record(tmp_path):
    db = tmp_path / "logs.db"
    env = dict(os.environ, GENKIT_LOGS_PATH=str(db), PYTHONPATH=str(REPO))
    start = time.time() + 3  # every writer is started and waiting before the first one writes
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(start), f"w{k}"], env=env, stderr=subprocess.PIPE, text=True
        )
        for k in range(24)
    ]
    errors = [w.communicate(timeout=120)[1] for w in writers]
    assert all(w.returncode == 0 for w in writers)
    assert not any(errors), [e for e in errors if e][:2]  # not one "was not added to the history" warning
    runs = json.loads(logs(db, "-n", 0, "--json").stdout)
    assert len(runs) == 72 and len({r["command"] for r in runs}) == 24
    connection = sqlite3.connect(str(db))
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("SELECT COUNT(*) FROM runs_fts").fetchone()[0] == 72
    connection.close()


def version_1_history(db, files):
    connection = sqlite3.connect(str(db))
    connection.executescript(schema._RUNS_V1)
    connection.execute(
        "INSERT INTO runs (started, duration, command, generator, seed, item_seeds, options, files)"
        " VALUES (?, 1.5, 'genkit hello --seed 4', 'hello', '4', '[\"4\"]', '{\"palette\": \"warm\"}', ?)",
        (time.time() - 60, json.dumps([str(f) for f in files])),
    )
    connection.commit()
    connection.close()


def test_an_older_history_is_migrated_and_still_reads(tmp_path):
    db = tmp_path / "logs.db"
    picture = tmp_path / "old.png"
    picture.write_bytes(b"an old picture")
    version_1_history(db, [picture])
    old = json.loads(logs(db, "--json").stdout)
    assert len(old) == 1 and old[0]["files"] == [str(picture)] and old[0]["status"] == 0
    assert [r["id"] for r in json.loads(logs(db, "-q", "warm", "--json").stdout)] == [1]  # indexed on migration
    assert str(picture) in logs(db, "1").stdout
    run_genkit("hello", "--size", 8, "-o", tmp_path / "new.png", env={"GENKIT_LOGS_PATH": str(db)}, check=0)
    assert [r["generator"] for r in json.loads(logs(db, "--json").stdout)] == ["hello", "hello"]
    connection = sqlite3.connect(str(db))
    assert connection.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION
    connection.close()


def test_a_newer_history_is_refused_in_one_line_and_never_fails_a_run(tmp_path):
    db = tmp_path / "logs.db"
    run_genkit("hello", "--size", 8, "-o", tmp_path / "a.png", env={"GENKIT_LOGS_PATH": str(db)}, check=0)
    connection = sqlite3.connect(str(db))
    connection.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
    connection.commit()
    connection.close()
    proc = logs(db, check=None)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("genkit: error: the history") and "newer genkit" in proc.stderr
    made = run_genkit("hello", "--size", 8, "-o", tmp_path / "b.png", env={"GENKIT_LOGS_PATH": str(db)}, check=0)
    assert (tmp_path / "b.png").exists() and "newer genkit" in made.stderr


def test_one_bad_row_does_not_hide_the_others(tmp_path):
    db = tmp_path / "logs.db"
    for name in ("a.png", "b.png"):
        run_genkit("hello", "--size", 8, "-o", tmp_path / name, env={"GENKIT_LOGS_PATH": str(db)}, check=0)
    connection = sqlite3.connect(str(db))
    connection.execute("UPDATE runs SET options = '{not json', started = 'soon', files = '7' WHERE id = 1")
    connection.commit()
    connection.close()
    runs = json.loads(logs(db, "--json").stdout)
    assert [r["id"] for r in runs] == [2, 1]
    assert set(runs[1]["damaged"]) == {"options", "started", "files"} and runs[1]["options"] == {}
    rows = [line for line in logs(db).stdout.splitlines()[1:] if line[:3].strip()]
    assert len(rows) == 2 and all("genkit hello" in row for row in rows)


def test_folder_names_are_data_not_uri_syntax(tmp_path):
    folder = tmp_path / "runs?mode=ro#100% done"
    folder.mkdir()
    db = folder / "logs.db"
    run_genkit("hello", "--size", 8, "-o", tmp_path / "a.png", env={"GENKIT_LOGS_PATH": str(db)}, check=0)
    assert db.is_file() and len(json.loads(logs(db, "--json").stdout)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", folder.name]  # no database beside it


def test_a_link_or_fifo_at_the_history_is_never_written_through(tmp_path):
    target = tmp_path / "profile"
    target.write_text("export PATH=/usr/bin\n")
    link = tmp_path / "logs.db"
    link.symlink_to(target)
    made = run_genkit("hello", "--size", 8, "-o", tmp_path / "a.png", env={"GENKIT_LOGS_PATH": str(link)}, check=0)
    assert "not a regular file" in made.stderr and target.read_text() == "export PATH=/usr/bin\n"
    fifo = tmp_path / "fifo.db"
    os.mkfifo(fifo)
    proc = run_genkit("logs", env={"GENKIT_LOGS_PATH": str(fifo)}, timeout=60)
    assert proc.returncode == 1 and "not a regular file" in proc.stderr
