"""The shared train/eval loop, driven through a tiny test generator (tests/plugins/genkit_tiny*)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import TINY_PLUGIN_ENV, assert_user_error, run_genkit

torch = pytest.importorskip("torch")
from safetensors.torch import load_file

ENV = TINY_PLUGIN_ENV


def train(*args, env=None, **kw):
    return run_genkit("train", "tiny", "--quiet", *args, env=dict(ENV, **(env or {})), **kw)


def same_weights(a, b, tol=0.0):
    wa, wb = load_file(str(a)), load_file(str(b))
    assert wa.keys() == wb.keys()
    return max(float((wa[k] - wb[k]).abs().max()) for k in wa) <= tol


def test_training_writes_weights_card_curve_samples_and_eval_reads_them(numbers, tmp_path):
    out = tmp_path / "run"
    proc = train("--data", numbers, "--out", out, check=0)
    summary = json.loads(proc.stdout)
    assert summary["steps"] == 18 and "mse" in summary["metrics"]
    for name in ("tiny.safetensors", "MODEL_CARD.md", "loss.png", "checkpoint.safetensors"):
        assert (out / name).exists(), name
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch-001.txt", "epoch-002.txt", "epoch-003.txt"]
    card = (out / "MODEL_CARD.md").read_text()
    assert "genkit train tiny" in card and "| mse |" in card
    evaluated = json.loads(
        run_genkit(
            "eval", "tiny", "--data", numbers, "--weights", out / "tiny.safetensors", "--json", env=ENV, check=0
        ).stdout
    )
    assert evaluated["mse"] == pytest.approx(summary["metrics"]["mse"], rel=1e-5)


def test_an_interrupted_run_resumed_ends_with_the_same_weights(numbers, tmp_path):
    train("--data", numbers, "--out", tmp_path / "straight", "--max-steps", "14", "--no-eval", check=0)
    train("--data", numbers, "--out", tmp_path / "broken", "--max-steps", "5", "--no-eval", check=0)
    train("--data", numbers, "--out", tmp_path / "broken", "--max-steps", "14", "--resume", "--no-eval", check=0)
    assert same_weights(tmp_path / "straight" / "tiny.safetensors", tmp_path / "broken" / "tiny.safetensors")


def test_a_failed_evaluation_still_saves_the_trained_weights(numbers, tmp_path):
    out = tmp_path / "run"
    proc = train("--data", numbers, "--out", out, env={"GENKIT_TINY_EVAL_FAILS": "1"})
    assert_user_error(proc, "evaluation data is unreadable")
    straight = tmp_path / "straight"
    train("--data", numbers, "--out", straight, "--no-eval", check=0)
    assert same_weights(out / "tiny.safetensors", straight / "tiny.safetensors")
    assert (out / "MODEL_CARD.md").exists()


def test_kill_9_during_training_keeps_the_last_checkpoint_usable(numbers, tmp_path):
    """SIGKILL at a random moment: the checkpoint on disk always loads and resume finishes."""
    out = tmp_path / "killed"
    train("--data", numbers, "--out", out, "--max-steps", "6", "--no-eval", check=0)
    cmd = [
        sys.executable,
        "-m",
        "genkit",
        "train",
        "tiny",
        "--quiet",
        "--data",
        str(numbers),
        "--out",
        str(out),
        "--resume",
        "--max-steps",
        "200000",
        "--no-eval",
        "--checkpoint-every",
        "0",
    ]
    proc = subprocess.Popen(cmd, env=dict(os.environ, **ENV), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(6)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ckpt = load_file(str(out / "checkpoint.safetensors"))  # loads: never half-written
    assert "rng.cpu.0" in ckpt
    train("--data", numbers, "--out", out, "--resume", "--max-steps", "6", "--no-eval", check=0)


def test_two_processes_under_ddp_match_one_process_at_the_same_global_batch(numbers, tmp_path):
    args = ("--data", numbers, "--max-steps", "12", "--batch-size", "8", "--no-eval", "--precision", "fp32")
    train(*args, "--out", tmp_path / "one", check=0)
    train(*args, "--out", tmp_path / "two", "--nproc", "2", check=0, timeout=300)
    assert same_weights(tmp_path / "one" / "tiny.safetensors", tmp_path / "two" / "tiny.safetensors", tol=1e-5)


def test_bad_training_input_gets_clear_errors(numbers, tmp_path):
    assert_user_error(train("--data", tmp_path / "missing.txt", "--out", tmp_path / "r"), "no such file")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert_user_error(train("--data", empty, "--out", tmp_path / "r"), "at least 8 numbers")
    assert_user_error(train("--data", numbers, "--out", tmp_path / "r", "--epochs", "0"), "--epochs")
    assert_user_error(train("--data", numbers, "--out", tmp_path / "r", "--resume"), "no checkpoint")
    assert_user_error(train("--data", numbers, "--out", tmp_path / "r", "--nproc", "512"), "--nproc")
    train("--data", numbers, "--out", tmp_path / "r", "--max-steps", "2", "--no-eval", check=0)
    assert_user_error(train("--data", numbers, "--out", tmp_path / "r"), "already holds a training run")
    # A checkpoint of another architecture is refused on resume.
    assert_user_error(train("--data", numbers, "--out", tmp_path / "r", "--resume", "--hidden", "16"), "architecture")
