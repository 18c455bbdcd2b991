"""`genkit logs`: every run is recorded, listed, filtered and scriptable; a broken history never
fails a generation (genkit/history.py)."""

from __future__ import annotations

import json
import os
import sqlite3
import time

import pytest
from conftest import REPO, TINY_PLUGIN_ENV, assert_user_error, run_genkit


def env_for(db, **extra):
    return {"GENKIT_LOGS_PATH": str(db), "COLUMNS": "80", **extra}


def hello(tmp_path, db, *args, **env):
    return run_genkit("hello", "--size", 8, *args, cwd=tmp_path, env=env_for(db, **env), check=0)


def test_runs_are_recorded_and_listed(tmp_path):
    db = tmp_path / "logs.db"
    hello(tmp_path, db, "--n", 2, "--seed", 5, "--palette", "cool", "-o", "first/")
    hello(tmp_path, db, "--seed", 6, "-o", "second.png")
    runs = json.loads(run_genkit("logs", "--json", env=env_for(db), check=0).stdout)
    assert [r["seed"] for r in runs] == ["6", "5"]  # newest first, seeds as text (they reach 2**63 - 1)
    older = runs[1]
    assert older["generator"] == "hello" and older["command"].startswith("genkit hello")
    assert older["options"]["palette"] == "cool" and len(older["item_seeds"]) == 2
    assert older["files"] == [str(tmp_path / "first" / f"hello-5-00{i}.png") for i in range(2)]
    assert older["duration"] >= 0 and abs(older["started"] - time.time()) < 600
    # --files: the paths, one per line, for scripts; -n limits to the latest runs.
    latest = run_genkit("logs", "-n", 1, "--files", env=env_for(db), check=0).stdout.splitlines()
    assert latest == [str(tmp_path / "second.png")]
    table = run_genkit("logs", env=env_for(db), check=0).stdout.splitlines()
    assert table[0].split() == ["id", "time", "generator", "files", "secs", "exit", "command"]
    rows = [line for line in table[1:] if line[:3].strip()]  # a long command wraps onto more lines
    assert len(rows) == 2 and all(len(line) <= 80 for line in table)
    assert "hello" in rows[0] and "genkit hello" in rows[0]


def test_filter_by_generator_and_missing_database(tmp_path):
    db = tmp_path / "logs.db"
    proc = run_genkit("logs", env=env_for(db), check=0)
    assert "no runs recorded" in proc.stdout and not db.exists()
    assert json.loads(run_genkit("logs", "--json", env=env_for(db), check=0).stdout) == []
    hello(tmp_path, db, "-o", "a.png")
    assert json.loads(run_genkit("logs", "-g", "image", "--json", env=env_for(db), check=0).stdout) == []
    assert len(json.loads(run_genkit("logs", "--generator", "hello", "--json", env=env_for(db), check=0).stdout)) == 1
    assert run_genkit("logs", "--path", env=env_for(db), check=0).stdout.strip() == str(db)


@pytest.mark.fast
def test_logs_off_writes_nothing(tmp_path):
    db = tmp_path / "logs.db"
    proc = hello(tmp_path, db, "-o", "a.png", GENKIT_LOGS="off")
    assert (tmp_path / "a.png").exists() and not db.exists() and "warning" not in proc.stderr


def one_warning(proc) -> str:
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("genkit: warning:")]
    assert len(warnings) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return warnings[0]


@pytest.mark.fast
def test_a_damaged_database_never_fails_a_run(tmp_path):
    db = tmp_path / "logs.db"
    db.write_bytes(os.urandom(4096))
    proc = hello(tmp_path, db, "--n", 2, "-o", "out/")
    assert len(list((tmp_path / "out").glob("*.png"))) == 2
    assert "history" in one_warning(proc)
    # Reading it is a one-line failure too (exit 1: the run of `genkit logs` failed, not the user).
    proc = run_genkit("logs", env=env_for(db))
    assert proc.returncode == 1 and proc.stderr.startswith("genkit: error: cannot read the history")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_locked_database_never_fails_or_stalls_a_run(tmp_path):
    db = tmp_path / "logs.db"
    hello(tmp_path, db, "-o", "before.png")  # creates the database
    holder = sqlite3.connect(str(db), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a write
    try:
        start = time.perf_counter()
        proc = hello(tmp_path, db, "-o", "during.png")
        assert time.perf_counter() - start < 30
        assert (tmp_path / "during.png").exists()
        assert "locked" in one_warning(proc)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    hello(tmp_path, db, "-o", "after.png")
    assert len(json.loads(run_genkit("logs", "--json", env=env_for(db), check=0).stdout)) == 2


@pytest.mark.fast
def test_record_run_never_raises(tmp_path, monkeypatch, capsys):
    from genkit import history

    folder = tmp_path / "a-folder.db"
    folder.mkdir()  # the path is a directory: sqlite cannot open it
    monkeypatch.setenv(history.PATH_ENV, str(folder))
    history.record_run({"generator": "x", "files": [{"path": "a.png", "seed": 1}]}, "genkit x", 1.0, 2.0)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("genkit: warning:")


@pytest.mark.fast
def test_bad_count_is_a_user_error(tmp_path):
    assert_user_error(run_genkit("logs", "-n", "-3", env=env_for(tmp_path / "logs.db")), "--count")


def test_data_folder_per_platform(monkeypatch, tmp_path):
    from genkit import history

    monkeypatch.delenv(history.PATH_ENV, raising=False)
    monkeypatch.setattr(history.sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert history.database_path() == tmp_path / "xdg" / "genkit" / "logs.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert history.data_folder() == history.Path.home() / ".local" / "share" / "genkit"
    monkeypatch.setattr(history.sys, "platform", "darwin")
    assert history.data_folder() == history.Path.home() / "Library" / "Application Support" / "genkit"
    monkeypatch.setattr(history.sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert history.data_folder() == tmp_path / "local" / "genkit"


def logs(db, *args, **env):
    return run_genkit("logs", *args, env=env_for(db, **env), check=0).stdout


def test_one_run_in_full_search_and_since(tmp_path):
    db = tmp_path / "logs.db"
    hello(tmp_path, db, "--n", 2, "--seed", 5, "--palette", "cool", "-o", "first/")
    run_genkit("text", "ROMEO:", "--max-tokens", 12, "--seed", 1, cwd=tmp_path, env=env_for(db), check=0)
    streamed = json.loads(logs(db, "2", "--json"))
    assert streamed["files"] == [] and streamed["text"].strip() and streamed["status"] == 0
    assert streamed["cwd"] == str(tmp_path) and streamed["weights_sha256"] and streamed["kind"] == "generate"
    shown = logs(db, "1")
    for fragment in ("exit status: 0", "palette: cool", "genkit hello --size 8 --n 2 --seed 5", "hello-5-001.png"):
        assert fragment in shown, shown
    assert shown.count(" ok ") == 2  # each file, still as the run wrote it
    (tmp_path / "first" / "hello-5-000.png").write_bytes(b"changed")
    assert "changed" in logs(db, "1")
    # -q searches commands, options, prompts and the streamed text (FTS5); words, not FTS syntax.
    assert [r["id"] for r in json.loads(logs(db, "-q", "romeo", "--json"))] == [2]
    assert [r["id"] for r in json.loads(logs(db, "-q", "palette cool", "--json"))] == [1]
    assert [r["id"] for r in json.loads(logs(db, "-q", 'cool" OR "romeo', "--json"))] == []
    assert json.loads(logs(db, "-q", "nothing-like-this", "--json")) == []
    assert len(json.loads(logs(db, "--since", "1h", "--json"))) == 2
    assert json.loads(logs(db, "--since", "2999-01-01", "--json")) == []
    assert_user_error(run_genkit("logs", "--since", "yesterday-ish", env=env_for(db)), "--since")
    assert_user_error(run_genkit("logs", "7", env=env_for(db)), "no run 7")


def test_commands_wrap_at_the_terminal_width_and_stay_printable(tmp_path):
    db = tmp_path / "logs.db"
    hello(tmp_path, db, "--seed", 3, "-o", "a-rather-long-folder-name/" + "word " * 12 + "\x1b[31m.png")
    recorded = json.loads(logs(db, "--json"))[0]["command"]
    lines = logs(db, COLUMNS="72").splitlines()
    assert len(lines) > 2 and all(len(line) <= 72 for line in lines), lines
    column = lines[0].index("command")
    shown = " ".join(line[column:] for line in lines[1:])
    # All of it (a word longer than the column is split), the escape written out.
    assert shown.replace(" ", "") == recorded.replace("\x1b", "\\x1b").replace(" ", "")
    assert "\x1b" not in "".join(lines)


def test_a_failed_run_is_recorded_with_its_exit_status(tmp_path):
    db = tmp_path / "logs.db"
    plugins = {"PYTHONPATH": str(REPO / "tests" / "plugins"), "GENKIT_PLUGINS": "genkit_duplicate"}
    proc = run_genkit("crashy", "--n", 3, "--seed", 1, "-o", tmp_path / "out/", env=env_for(db, **plugins))
    assert proc.returncode == 1
    run = json.loads(logs(db, "--json"))[0]
    assert run["status"] == 1 and "the model fell over" in run["error"]
    assert run["files"] == [str(tmp_path / "out" / "crashy-1-000.png")]  # what it did write


def test_a_training_run_is_recorded_with_its_folder_weights_and_metrics(tmp_path, numbers):
    db = tmp_path / "logs.db"
    out = tmp_path / "run"
    args = ("train", "tiny", "--quiet", "--data", numbers, "--out", out, "--epochs", 2)
    run_genkit(*args, cwd=tmp_path, env=env_for(db, **TINY_PLUGIN_ENV), check=0)
    run = json.loads(logs(db, "--json"))[0]
    assert run["kind"] == "train" and run["generator"] == "tiny" and run["status"] == 0
    assert run["command"].startswith("genkit train tiny --data") and run["weights"] == "tiny.safetensors"
    assert run["extra"]["out"] == str(out) and "mse" in run["extra"]["summary"]["metrics"]
    assert {str(out / n) for n in ("tiny.safetensors", "MODEL_CARD.md", "loss.png")} <= set(run["files"])
    shown = logs(db, str(run["id"]))
    assert "metric mse" in shown and "card" in shown and "weights" in shown
    refused = run_genkit(*args, cwd=tmp_path, env=env_for(db, **TINY_PLUGIN_ENV))  # --out holds a run: exit 2
    assert refused.returncode == 2 and len(json.loads(logs(db, "--json"))) == 1  # refused, so not a run
