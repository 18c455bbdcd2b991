"""A small real history for the gallery tests: cheap genkit runs of every output kind, made once."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import TINY_PLUGIN_ENV, run_genkit

HOSTILE_NAME = "x<img src=y onerror=alert(1)>\u202egnp.png"
HOSTILE_COMMAND = 'genkit hello --palette "<script>alert(2)</script>" \x1b[31m'


def make_history(folder: Path) -> dict:
    """Run genkit into ``folder`` (its history is folder/logs.db); return the env and the run ids by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {"GENKIT_LOGS_PATH": str(folder / "logs.db"), "XDG_CACHE_HOME": str(folder / "cache")}

    def genkit(*args):
        run_genkit(*args, "-q", cwd=folder, env=env, check=0)

    genkit("hello", "--n", 2, "--seed", 5, "-o", "hello/")
    genkit("music", "--bars", 2, "--seed", 2, "-o", "tune.mid", "-o", "tune.wav")
    genkit("video", "--seed", 3, "-o", "clip.gif", "--frames-dir", "frames")
    run_genkit("text", "ROMEO:", "--max-tokens", 30, "--seed", 1, cwd=folder, env=env, check=0)
    genkit("hello", "--seed", 7, "-o", HOSTILE_NAME)
    (folder / "numbers.txt").write_text(" ".join(str(k) for k in range(1, 21)))
    train = ("train", "tiny", "--data", "numbers.txt", "--out", "run", "--epochs", 2)
    run_genkit(*train, "--quiet", cwd=folder, env={**env, **TINY_PLUGIN_ENV}, check=0)
    ids = {"hello": 1, "music": 2, "video": 3, "text": 4, "hostile_file": 5, "train": 6}
    ids["hostile_row"] = add_hostile_row(folder / "logs.db")
    return {"folder": folder, "env": env, "db": folder / "logs.db", "ids": ids}


def add_hostile_row(db: Path) -> int:
    """A row as another program (or a planted file) might have left it: markup and escapes everywhere."""
    connection = sqlite3.connect(str(db))
    with connection:
        cursor = connection.execute(
            "INSERT INTO runs (started, duration, command, generator, weights, seed, item_seeds, options, files,"
            " kind, status, text) VALUES (?, 0.5, ?, ?, ?, '9', '[]', ?, '[]', 'generate', 0, ?)",
            (
                time.time(),
                HOSTILE_COMMAND,
                "<b onmouseover=alert(3)>gen</b>",
                "w\u202eeights.safetensors",
                json.dumps({"prompt": "<script>alert(4)</script>", "x": '" onerror="alert(5)'}),
                "<img src=q onerror=alert(6)>",
            ),
        )
        connection.execute(
            "INSERT INTO runs_fts (rowid, command, options, text, generator) VALUES (?, ?, '', '', '')",
            (cursor.lastrowid, HOSTILE_COMMAND),
        )
    connection.close()
    return cursor.lastrowid


@pytest.fixture(scope="session")
def small_history(tmp_path_factory) -> dict:
    """The history of every output kind, shared by the gallery's test modules (read-only for them)."""
    return make_history(tmp_path_factory.mktemp("gallery") / "h")


class Gallery:
    """`genkit gallery --port 0 --no-open` in its own process, as a user starts it."""

    def __init__(self, env: dict, cwd: Path):
        full = dict(os.environ, **env)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "genkit", "gallery", "--port", "0", "--no-open"],
            cwd=cwd,
            env=full,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if not found:
            self.stop()
            raise AssertionError(f"no address printed: {line!r} {self.process.stderr.read()}")
        self.url = found.group(0)

    def get(self, path: str, headers: dict | None = None, method: str = "GET"):
        """(status, headers, body) of one request; HTTP errors are answers too."""
        request = urllib.request.Request(self.url.rstrip("/") + path, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, dict(reply.headers), reply.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
