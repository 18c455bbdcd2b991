"""Every built-in trainable generator: a run killed with SIGKILL after a checkpoint and resumed ends
with exactly the weights of an unbroken run (in bf16 where the CPU has it, so the low-precision path
is covered too).

Each generator trains a tiny configuration on tiny synthetic data made by the builders the other
test modules use; the broken run checkpoints after every step and is killed from outside once its
checkpoint has passed ``kill_after`` steps (for music: past an epoch end, so the best-epoch choice
is part of what must survive).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO, run_genkit

torch = pytest.importorskip("torch")
from safetensors.torch import load_file

from genkit.train.precision import cpu_has_bf16

sys.path.insert(0, str(REPO / "tests"))
from test_image import write_folder
from test_music import write_melody
from test_vae import write_idx

ENV = {"OMP_NUM_THREADS": "1"}


def image_data(root):
    return write_folder(root / "shapes"), ["--batch-size", "8", "--max-steps", "24"], 4


def text_data(root):
    corpus = root / "corpus.txt"
    corpus.write_text("to be or not to be, that is the question\n" * 40, encoding="utf-8")
    return (
        corpus,
        [
            "--layers",
            "1",
            "--width",
            "16",
            "--heads",
            "2",
            "--block-size",
            "16",
            "--batch-size",
            "8",
            "--max-steps",
            "40",
        ],
        6,
    )


def music_data(root):
    data = root / "tunes"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(24):
        write_melody(data / f"tune{i}.mid", list(67 + rng.choice([0, 2, 4, 5, 7], size=32)), key=7)
    return data, ["--hidden", "16", "--layers", "1", "--batch-size", "4", "--epochs", "6"], None


def vae_data(root):
    rng = np.random.default_rng(0)
    images = (rng.random((256, 28, 28)) < 0.2) * 255
    write_idx(root / "digits", "train", images, rng.integers(0, 10, 256))
    write_idx(root / "digits", "t10k", images[:32], rng.integers(0, 10, 32))
    return root / "digits", ["--batch-size", "16", "--max-steps", "30"], 5


def video_data(root):
    rng = np.random.default_rng(0)
    digits = (rng.random((64, 28, 28)) < 0.2) * 255
    write_idx(root / "digits", "train", digits, rng.integers(0, 10, 64))
    write_idx(root / "digits", "t10k", digits[:16], rng.integers(0, 10, 16))
    return (
        root / "digits",
        [
            "--channels",
            "8",
            "--blocks",
            "1",
            "--sequences",
            "64",
            "--eval-sequences",
            "8",
            "--batch-size",
            "8",
            "--max-steps",
            "16",
        ],
        4,
    )


# bf16 where the CPU has it (the low-precision path); a CPU without bf16 instructions refuses it, so fp32 there.
LOW_PRECISION = "bf16" if cpu_has_bf16() else "fp32"


def diffusion_data(root):
    return write_folder(root / "shapes"), ["--width", "8", "--batch-size", "8", "--max-steps", "24"], 4


BUILDERS = {"image": image_data, "text": text_data, "music": music_data, "vae": vae_data, "video": video_data}
if importlib.util.find_spec("genkit_diffusers") is not None:  # the diffusers integration's trained UNet (and its EMA)
    BUILDERS["diffusion"] = diffusion_data


def checkpoint_step(path) -> int:
    from genkit import weights

    try:
        return int(weights.metadata(path)["step"])
    except Exception:
        return -1


def kill_after_checkpoint(cmd, ckpt, step: int, timeout: float = 240) -> int:
    """Start ``cmd``, SIGKILL it once ``ckpt`` records ``step`` or more; return the step it died after."""
    proc = subprocess.Popen(cmd, env=dict(os.environ, **ENV), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while checkpoint_step(ckpt) < step:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it could be killed: {proc.stderr.read().decode()}")
        assert time.monotonic() < deadline, "no checkpoint in time"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return checkpoint_step(ckpt)


def epoch_steps(name, data, args, tmp_path) -> int:
    """Steps per epoch, from a one-step run's summary (music kills past the first epoch end)."""
    import json

    probe = run_genkit(
        "train",
        name,
        "--data",
        data,
        "--out",
        tmp_path / "probe",
        "--quiet",
        "--no-eval",
        *args,
        "--max-steps",
        "1",
        env=ENV,
        check=0,
    )
    summary = json.loads(probe.stdout)
    return round(1 / summary["epochs"])


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_sigkill_then_resume_equals_an_unbroken_run(name, tmp_path):
    data, args, kill_after = BUILDERS[name](tmp_path)
    if kill_after is None:
        kill_after = epoch_steps(name, data, args, tmp_path) + 1
    common = ["train", name, "--data", str(data), "--quiet", "--no-eval", "--precision", LOW_PRECISION, *args]
    run_genkit(*common, "--out", tmp_path / "straight", env=ENV, check=0)
    broken = tmp_path / "broken"
    cmd = [sys.executable, "-m", "genkit", *common, "--out", str(broken), "--checkpoint-every", "0"]
    died_at = kill_after_checkpoint(cmd, broken / "checkpoint.safetensors", kill_after)
    assert not (broken / f"{name}.safetensors").exists(), f"the run finished (step {died_at}) before the kill"
    run_genkit(*common, "--out", broken, "--resume", env=ENV, check=0)
    straight, resumed = (
        load_file(str(tmp_path / "straight" / f"{name}.safetensors")),
        load_file(str(broken / f"{name}.safetensors")),
    )
    assert straight.keys() == resumed.keys()
    for key, value in straight.items():
        assert value.dtype != torch.bfloat16, f"{key} saved in bf16"
        assert torch.equal(value, resumed[key]), f"{name}: {key} differs after SIGKILL at step {died_at} and --resume"


def test_the_gan_under_two_processes_matches_one_process_at_the_same_global_batch(tmp_path):
    """The GAN's own two-optimizer step, averaged across processes by the StepContext, equals one
    process (the mlp arch: no batch norm, whose statistics are per process under DDP as well)."""
    data = write_folder(tmp_path / "shapes")
    args = [
        "train",
        "image",
        "--data",
        data,
        "--arch",
        "mlp",
        "--batch-size",
        "8",
        "--max-steps",
        "4",
        "--no-eval",
        "--quiet",
        "--precision",
        "fp32",
    ]
    run_genkit(*args, "--out", tmp_path / "one", env=ENV, check=0)
    run_genkit(*args, "--out", tmp_path / "two", "--nproc", "2", env=ENV, check=0, timeout=300)
    one, two = (
        load_file(str(tmp_path / "one" / "image.safetensors")),
        load_file(str(tmp_path / "two" / "image.safetensors")),
    )
    assert max(float((one[k] - two[k]).abs().max()) for k in one) <= 1e-5


def test_the_gan_refuses_a_batch_its_batch_norm_cannot_use(tmp_path):
    from conftest import assert_user_error

    data = write_folder(tmp_path / "shapes")
    proc = run_genkit("train", "image", "--data", data, "--out", tmp_path / "r", "--batch-size", "1", env=ENV)
    assert_user_error(proc, "--batch-size 1", "at least 2")
