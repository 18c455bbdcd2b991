"""`genkit rerun ID`: the recorded command again, byte for byte, into new files; never over the originals."""

from __future__ import annotations

import json

from conftest import assert_user_error, run_genkit


def env_for(db):
    return {"GENKIT_LOGS_PATH": str(db)}


def test_a_rerun_makes_the_same_bytes_in_a_new_folder_and_leaves_the_originals(tmp_path):
    db, first, later = tmp_path / "logs.db", tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    args = ("hello", "--size", 8, "--n", 2, "--seed", 5, "-o", "out/", "--grid", "sheet.png", "-q")
    run_genkit(*args, cwd=first, env=env_for(db), check=0)
    originals = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in first.rglob("*.png")}
    assert len(originals) == 3
    proc = run_genkit("rerun", 1, cwd=later, env=env_for(db), check=0)
    assert "genkit hello" in proc.stderr
    made = later / "rerun-1"
    for path, (data, mtime) in originals.items():
        copy = made / path.relative_to(first)
        assert copy.read_bytes() == data  # the same options and seeds, the same bytes (provenance included)
        assert path.read_bytes() == data and path.stat().st_mtime_ns == mtime  # untouched
    # A second rerun picks the next fresh folder; the rerun is in the history as a run of its own.
    run_genkit("rerun", 1, cwd=later, env=env_for(db), check=0)
    assert (later / "rerun-1-2" / "sheet.png").read_bytes() == (first / "sheet.png").read_bytes()
    runs = json.loads(run_genkit("logs", "--json", env=env_for(db), check=0).stdout)
    assert len(runs) == 3 and all(r["generator"] == "hello" for r in runs)


def test_overrides_and_refusals(tmp_path):
    db = tmp_path / "logs.db"
    run_genkit("hello", "--size", 8, "--seed", 5, "-o", "a.png", "-q", cwd=tmp_path, env=env_for(db), check=0)
    original = (tmp_path / "a.png").read_bytes()
    printed = run_genkit("rerun", 1, "--seed", 9, "--n", 2, "-o", "b/", "--print", cwd=tmp_path, env=env_for(db))
    assert printed.stdout.split() == [
        "genkit",
        "hello",
        "--size",
        "8",
        "--seed",
        "9",
        "-q",
        "--n",
        "2",
        "-o",
        f"{tmp_path}/b/",
    ]
    run_genkit("rerun", 1, "--seed", 9, "-o", "c.png", cwd=tmp_path, env=env_for(db), check=0)
    assert (tmp_path / "c.png").read_bytes() != original
    # -o naming the original: refused by the command itself, the original untouched.
    refused = run_genkit("rerun", 1, "-o", "a.png", cwd=tmp_path, env=env_for(db))
    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert (tmp_path / "a.png").read_bytes() == original
    assert_user_error(run_genkit("rerun", 42, env=env_for(db)), "no run 42")
