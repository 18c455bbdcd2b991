"""`genkit train diffusion` on a tiny picture folder, sampled by `genkit diffusion --model RUN --class C`,
loaded by diffusers' own from_pretrained and measured by `genkit eval diffusion`, all through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
from safetensors.torch import load_file  # noqa: E402

CLASSES = ("disc", "bar", "ring")
SIZE = 16
ENV = {"OMP_NUM_THREADS": "1", "GENKIT_CACHE_DIR": ""}  # the cache is set per test below
TINY = ["--width", "8", "--batch-size", "8", "--quiet"]


def genkit(*args, env=None, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "genkit", *map(str, args)],
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
        timeout=600,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def one_line_error(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genkit: error: "), proc.stderr
    return lines[0]


def picture(kind: str, k: int) -> np.ndarray:
    """A 16x16 colour picture of a disc, a bar or a ring, shifted and tinted by ``k``."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    cy, cx = 8 + k % 3 - 1, 8 + k % 2
    r = np.hypot(yy - cy, xx - cx)
    mask = {"disc": r < 5, "bar": abs(xx - cx) < 2, "ring": (r > 3) & (r < 6)}[kind]
    out = np.full((SIZE, SIZE, 3), 250, np.uint8)
    out[mask] = (40 + 9 * k % 150, 60, 200 - 7 * k % 120)
    return out


def write_pictures(root: Path, classes=CLASSES, per_class=24) -> Path:
    for kind in classes:
        (root / kind).mkdir(parents=True)
        for k in range(per_class):
            Image.fromarray(picture(kind, k)).save(root / kind / f"{k:02d}.png")
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run (12 steps, evaluated on 100 pictures at 2 steps) and its environment."""
    root = tmp_path_factory.mktemp("diffusion-train")
    env = dict(ENV, GENKIT_CACHE_DIR=str(root / "cache"), GENKIT_HOME=str(root / "home"))
    data = write_pictures(root / "shapes")
    run = root / "run"
    proc = genkit(
        "train", "diffusion", "--data", data, "--out", run, "--max-steps", 12, *TINY,
        "--eval-samples", 100, "--eval-steps", 2, env=env,
    )  # fmt: skip
    return {"data": data, "run": run, "env": env, "summary": json.loads(proc.stdout), "root": root}


@pytest.mark.slow
def test_a_run_writes_genkit_weights_and_a_diffusers_pipeline(trained):
    from diffusers import DDPMPipeline, UNet2DModel

    run = trained["run"]
    ours = load_file(str(run / "diffusion.safetensors"))
    pipe = DDPMPipeline.from_pretrained(run / "model", use_safetensors=True)  # diffusers' own loading
    assert isinstance(pipe.unet, UNet2DModel)
    assert pipe.unet.config.sample_size == SIZE and pipe.unet.config.in_channels == 3
    assert pipe.unet.config.num_class_embeds == len(CLASSES) + 1  # and the "no class" row
    theirs = pipe.unet.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours), "the pipeline's UNet is not the exported EMA"
    assert not any(p.name.startswith(".model") for p in run.iterdir()), "a staging folder was left behind"
    metrics = trained["summary"]["metrics"]
    for key in ("fd_ratio", "precision_k3", "recall_k3", "conditional_accuracy", "accuracy_ring"):
        assert np.isfinite(metrics[key]), key
    assert metrics["samples"] <= 100 and metrics["sampling_steps"] == 2
    card = (run / "MODEL_CARD.md").read_text()
    assert "UNet2DModel" in card and "genkit diffusion --model RUN --class" in card


@pytest.mark.slow
def test_sampling_a_run_by_class_is_seeded_per_item(trained, tmp_path):
    run, env = trained["run"], trained["env"]
    args = ["diffusion", "--model", run, "--class", "ring", "--steps", 3, "--seed", 5, "--quiet"]
    genkit(*args, "--n", 3, "-o", tmp_path / "three" / "{i}.png", env=env)
    genkit(*args, "--n", 1, "-o", tmp_path / "one" / "{i}.png", env=env)
    three = sorted((tmp_path / "three").glob("*.png"))
    assert len(three) == 3
    first = [np.asarray(Image.open(p)) for p in (three[0], tmp_path / "one" / "0.png")]
    assert first[0].shape == (SIZE, SIZE, 3)
    assert np.array_equal(*first), "item 0 depends on --n"
    assert not np.array_equal(first[0], np.asarray(Image.open(three[1]))), "items share a seed"
    meta = json.loads(Image.open(three[0]).text["genkit"])
    assert meta["generator"] == "diffusion" and meta["class"] == "ring"
    assert meta["model"]["objective"] == "flow"  # the default
    assert meta["command"].startswith("genkit diffusion --model ")  # no empty prompt written
    assert meta["model"]["files"]["diffusion.safetensors"]


@pytest.mark.slow
def test_bad_sampling_requests_are_one_line(trained, tmp_path):
    run, env = trained["run"], trained["env"]
    out = tmp_path / "x.png"
    assert "unknown class 'cat'" in one_line_error(
        genkit("diffusion", "--model", run, "--class", "cat", "-o", out, env=env, check=False)
    )
    assert "use --class" in one_line_error(
        genkit("diffusion", "a cat", "--model", run, "-o", out, env=env, check=False)
    )
    assert "FlowMatchEulerDiscreteScheduler" in one_line_error(
        genkit("diffusion", "--model", run, "--scheduler", "DDIMScheduler", "-o", out, env=env,
               check=False)
    )  # fmt: skip
    assert not out.exists()


@pytest.mark.slow
def test_eval_measures_the_run_again(trained):
    proc = genkit(
        "eval", "diffusion", "--data", trained["data"], "--weights", trained["run"], "--eval-samples", 100,
        "--eval-steps", 2, "--json", env=trained["env"],
    )  # fmt: skip
    again, during = json.loads(proc.stdout), trained["summary"]["metrics"]
    assert again["fd_ratio"] == pytest.approx(during["fd_ratio"], rel=1e-4)
    assert again["conditional_accuracy"] == during["conditional_accuracy"]


@pytest.mark.slow
def test_fine_tuning_maps_classes_by_name(trained, tmp_path):
    data = write_pictures(tmp_path / "two", classes=("ring", "disc"), per_class=16)
    run = tmp_path / "tuned"
    genkit(
        "train", "diffusion", "--data", data, "--weights", trained["run"], "--out", run, "--max-steps", 2,
        "--no-eval", *TINY[2:], env=trained["env"],
    )  # fmt: skip
    start = load_file(str(trained["run"] / "diffusion.safetensors"))["class_embedding.weight"]
    tuned = load_file(str(run / "diffusion.safetensors"))
    assert tuned["class_embedding.weight"].shape[0] == 3
    from genkit import weights

    assert weights.metadata(run / "diffusion.safetensors")["config"]["class_names"] == ["disc", "ring"]
    assert weights.metadata(run / "diffusion.safetensors")["fine_tuned_from"] == "diffusion.safetensors"
    assert start.shape[0] == 4


@pytest.mark.slow
def test_a_hostile_config_is_refused_before_building(trained, tmp_path):
    from genkit import weights

    meta = weights.metadata(trained["run"] / "diffusion.safetensors")
    tensors = load_file(str(trained["run"] / "diffusion.safetensors"))
    config = dict(meta["config"], unet=dict(meta["config"]["unet"], block_out_channels=[100_000, 100_000, 100_000]))
    bad = tmp_path / "bad.safetensors"
    weights.save_tensors(tensors, dict(meta, config=config), bad)
    error = one_line_error(genkit("diffusion", "--model", bad, "-o", tmp_path / "x.png", env=trained["env"],
                                  check=False))  # fmt: skip
    assert "block_out_channels" in error


@pytest.mark.slow
def test_a_folder_without_class_folders_trains_an_unconditional_model(tmp_path):
    """Loose pictures are one class: the UNet has no class embedding, the loop's sample sheet, eval and
    `genkit diffusion` draw without labels, and asking for a class or for guidance is refused."""
    env = dict(ENV, GENKIT_CACHE_DIR=str(tmp_path / "cache"), GENKIT_HOME=str(tmp_path / "home"))
    data = tmp_path / "discs"
    data.mkdir()
    for k in range(30):
        Image.fromarray(picture("disc", k)).save(data / f"{k:02d}.png")
    run = tmp_path / "run"
    proc = genkit(
        "train", "diffusion", "--data", data, "--out", run, "--max-steps", 3, *TINY,
        "--eval-samples", 100, "--eval-steps", 1, "--checkpoint-every", 0, env=env,
    )  # fmt: skip
    summary = json.loads(proc.stdout)
    assert summary["metrics"]["samples"] == 3  # the seeded 1-in-10 hold-out of 30 pictures
    config = json.loads((run / "model" / "unet" / "config.json").read_text())
    assert config["num_class_embeds"] is None
    out = tmp_path / "drawn.png"
    genkit("diffusion", "--model", run, "--n", 2, "--steps", 2, "-o", out, env=env)
    pictures = sorted(tmp_path.glob("drawn-*.png"))
    assert len(pictures) == 2 and Image.open(pictures[0]).size == (SIZE, SIZE)
    assert "one class" in one_line_error(genkit("diffusion", "--model", run, "--class", "discs", env=env, check=False))
    assert "no classes" in one_line_error(genkit("diffusion", "--model", run, "--guidance", "2", env=env, check=False))
