"""genkit diffusion on a tiny random-weight Stable Diffusion pipeline, through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tiny_sd import COMMIT, PROMPT, REPO_ID, models_fixture  # noqa: F401 (the models fixture)

from genkit import item_seed, testing

ARGS = [PROMPT, "--model", REPO_ID, "--steps", "2", "--precision", "fp32"]


def one_line_error(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genkit: error: "), proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def seeded(models, tmp_path_factory):
    """The conformance kit's run (seed 7, items 0 and 1 of --n 2 and --n 3, bad options), its files."""
    bad = [
        ["x", "--model", "nobody/nothing"],  # not on disk: one line naming genkit pull
        ["x", "--model", str(models["pickled"])],
        ["x", "--model", str(models["not_a_model"])],
        ["x", "--model", REPO_ID, "--size", "20x16"],
    ]
    folder = tmp_path_factory.mktemp("diffusion-seeded")
    heavy = ("torch", "diffusers", "transformers")
    return testing.check_all("diffusion", folder, args=ARGS, bad_options=bad, env=models["env"], heavy=heavy)


def test_diffusion_conforms_offline_and_records_the_model(models, seeded):
    """Seeds reproduce byte for byte, item k is the same for any --n, bad options cost one line; no socket opened."""
    env = models["env"]
    record = testing.check_provenance(seeded[1], "diffusion", env)
    model = record["model"]
    assert model["source"] == REPO_ID and model["revision"] == COMMIT
    assert set(model["files"]) == {
        "text_encoder/model.safetensors",
        "unet/diffusion_pytorch_model.safetensors",
        "vae/diffusion_pytorch_model.safetensors",
    }
    blobs = {p.name for p in (models["cache"] / "models--tiny-org--tiny-sd" / "blobs").iterdir()}
    assert set(model["files"].values()) <= blobs  # the cache's blob names are the files' sha256
    assert model["pipeline"] == "StableDiffusionPipeline" and model["scheduler"] == "DDIMScheduler"
    assert model["scheduler_config"]["beta_schedule"] == "scaled_linear" and model["dtype"] == "fp32"
    assert record["item_seed"] == item_seed(7, 1) and record["device"] == "cpu"
    assert record["options"]["prompt"] == PROMPT and "--model tiny-org/tiny-sd" in record["command"]
    assert testing.network_attempts(env) == []
    logs = json.loads(testing.run("logs", "--json", "-n", "1", env=env).stdout)
    assert logs[0]["weights"] == REPO_ID and logs[0]["weights_sha256"]


def test_the_file_is_the_library_own_output_for_the_seed(models, seeded):
    """genkit adds nothing to the pixels: diffusers itself, given item 0's seed, draws the same image."""
    import torch
    from diffusers import StableDiffusionPipeline

    torch.set_num_threads(1)
    pipe = StableDiffusionPipeline.from_pretrained(models["folder"], use_safetensors=True)
    pipe.set_progress_bar_config(disable=True)
    own = pipe(PROMPT, num_inference_steps=2, generator=torch.Generator("cpu").manual_seed(item_seed(7, 0))).images[0]
    assert np.array_equal(np.asarray(Image.open(seeded[0]).convert("RGB")), np.asarray(own))


@pytest.mark.slow
def test_image_to_image_with_another_scheduler(models, tmp_path):
    start = tmp_path / "start.png"
    Image.fromarray(np.full((24, 16, 3), 200, np.uint8)).save(start)
    out = tmp_path / "edit.png"
    proc = testing.run(
        "diffusion",
        *ARGS,
        "--image",
        start,
        "--strength",
        "0.5",
        "--scheduler",
        "EulerDiscreteScheduler",
        "--model",
        str(models["folder"]),
        "-o",
        out,
        env=models["env"],
    )
    assert proc.returncode == 0, proc.stderr
    assert Image.open(out).size == (16, 24)  # the picture's own size, a multiple of 8
    model = testing.check_provenance(out, "diffusion", models["env"])["model"]
    assert model["pipeline"] == "StableDiffusionImg2ImgPipeline" and model["scheduler"] == "EulerDiscreteScheduler"
    assert model["source"] == str(models["folder"]) and model["revision"] is None


@pytest.mark.parametrize(
    "change, words",
    [
        ({0: "a cat " * 4}, "at most 16"),  # longer than the text encoder reads: refused, not cut
        # a config claiming far more parameters than its weights hold (genkit lm's test checks the same rule)
        pytest.param({2: "HOSTILE"}, "parameters", marks=pytest.mark.slow),
        pytest.param({"--scheduler": "NoSuchScheduler"}, "can use", marks=pytest.mark.slow),
    ],
)
def test_refused_after_looking_at_the_model(models, tmp_path, change, words):
    args = list(ARGS)
    for where, value in change.items():
        value = str(models["hostile"]) if value == "HOSTILE" else value
        if isinstance(where, int):
            args[where] = value
        else:
            args += [where, value]
    proc = testing.run("diffusion", *args, cwd=tmp_path, env=models["env"])
    assert words in one_line_error(proc)
    assert list(Path(tmp_path).iterdir()) == []


def test_models_lists_the_cached_pipeline_without_loading_it(models):
    proc = testing.run("models", "diffusion", "--json", env=models["env"])
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["local_models"]
    assert [(r["id"], r["revision"], r["class"]) for r in rows] == [(REPO_ID, COMMIT, "StableDiffusionPipeline")]
    assert rows[0]["bytes"] > 0
    text = testing.run("models", "diffusion", env=models["env"]).stdout
    assert REPO_ID in text and "StableDiffusionPipeline" in text


def test_pull_refuses_offline_and_never_connects(models, tmp_path):
    proc = testing.run("pull", REPO_ID, env=models["env"])
    assert "HF_HUB_OFFLINE" in one_line_error(proc)
    assert testing.network_attempts(models["env"]) == []
    # The blocker that every run here has is real: a connection from such a process fails and is logged.
    blocked = testing.offline_env(tmp_path / "blocker")
    reach = "import socket\ntry:\n    socket.create_connection(('huggingface.co', 443))\nexcept OSError:\n    pass"
    subprocess.run([sys.executable, "-c", reach], env=dict(os.environ, **blocked), check=True)
    assert len(testing.network_attempts(blocked)) == 1


LIGHT = """
import sys
from genkit.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
heavy = [m for m in ("torch", "diffusers", "transformers", "accelerate") if m in sys.modules]
assert not heavy, f"{sys.argv[1:]} imported {heavy}"
"""


@pytest.mark.parametrize(
    "args", [["--help"], ["models"], ["plugins"], ["models", "diffusion"], ["diffusion", "--help"]]
)
def test_listing_and_help_import_no_model_library(models, args):
    env = dict(os.environ, **models["env"])
    proc = subprocess.run([sys.executable, "-c", LIGHT, *args], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_ctrl_c_stops_at_the_next_step_and_keeps_no_half_file(models, tmp_path):
    """On a terminal the step bar shows; Ctrl-C during the denoising exits 130 and leaves nothing."""
    import pty
    import select
    import signal
    import time

    leader, follower = pty.openpty()
    command = [
        sys.executable,
        "-m",
        "genkit",
        "diffusion",
        *ARGS[:3],
        "--steps",
        "1000",
        "--precision",
        "fp32",
        "-o",
        tmp_path / "x.png",
    ]
    env = dict(os.environ, **models["env"], COLUMNS="100")
    proc = subprocess.Popen(list(map(str, command)), stderr=follower, stdout=subprocess.DEVNULL, env=env)
    os.close(follower)
    seen, deadline = b"", time.time() + 120
    while b"steps" not in seen and time.time() < deadline and proc.poll() is None:
        if select.select([leader], [], [], 1)[0]:
            seen += os.read(leader, 4096)
    assert b"item 1 steps" in seen, seen[-500:]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    os.close(leader)
    assert list(tmp_path.iterdir()) == []
