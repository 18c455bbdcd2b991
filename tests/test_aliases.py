"""`genkit aliases`: names for the user's own weights, taken by --weights wherever a shipped name is."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, TINY_PLUGIN_ENV, assert_user_error, run_genkit

IMAGE_WEIGHTS = REPO / "plugins" / "genkit_image" / "weights"


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def config(tmp_path):
    """An empty config folder of this test's own: its aliases and defaults only."""
    folder = tmp_path / "config"
    return {"GENKIT_CONFIG_DIR": str(folder)}


@pytest.fixture
def run_folder(tmp_path):
    """A training run's folder as `genkit train image` leaves it (its weights: a copy of the shipped MNIST GAN)."""
    run = tmp_path / "runs" / "digits"
    run.mkdir(parents=True)
    shutil.copy(IMAGE_WEIGHTS / "image-mnist.safetensors", run / "image.safetensors")
    return run


def provenance(path, env):
    return json.loads(run_genkit("inspect", path, "--json", env=env, check=0).stdout)


def test_an_alias_names_a_run_for_generation_and_the_reproduce_command_does_not_need_it(tmp_path, config, run_folder):
    made = run_genkit("aliases", "set", "digits", run_folder, env=config, check=0)
    assert "genkit image --weights digits" in made.stdout
    out = tmp_path / "a.png"
    run_genkit("image", "--weights", "digits", "--seed", "4", "-o", out, env=config, check=0)
    prov = provenance(out, config)
    assert prov["weights_sha256"] == sha(run_folder / "image.safetensors")
    assert "--weights digits" not in prov["command"]  # someone without the alias can run it
    again = tmp_path / "again.png"
    run_genkit(*prov["command"].split()[1:], "-o", again, cwd=tmp_path, env=config, check=0)
    assert provenance(again, config)["weights_sha256"] == prov["weights_sha256"]
    listed = run_genkit("aliases", "list", env=config, check=0).stdout
    assert "digits" in listed and "image" in listed and str(run_folder / "image.safetensors") in listed
    assert "digits" in run_genkit("models", "image", env=config, check=0).stdout


def test_an_alias_works_for_eval_the_python_api_and_is_removed(tmp_path, numbers):
    env = dict(TINY_PLUGIN_ENV, GENKIT_CONFIG_DIR=str(tmp_path / "config"))
    run = tmp_path / "run"
    run_genkit("train", "tiny", "--data", numbers, "--out", run, "--max-steps", "2", env=env, check=0)
    run_genkit("aliases", "set", "mine", run, env=env, check=0)
    measured = run_genkit("eval", "tiny", "--data", numbers, "--weights", "mine", "--json", env=env, check=0)
    assert "mse" in json.loads(measured.stdout)
    script = "import genkit; g = genkit.load('tiny', weights='mine', device='cpu'); print(g.weights)"
    api = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, **env})
    assert api.returncode == 0 and api.stdout.strip() == str(run / "tiny.safetensors"), api.stderr
    assert "removed alias mine" in run_genkit("aliases", "remove", "mine", env=env, check=0).stdout
    assert_user_error(run_genkit("eval", "tiny", "--data", numbers, "--weights", "mine", env=env), "mine", "not found")


def test_a_folder_named_like_shipped_weights_does_not_hide_them(tmp_path, config, run_folder):
    shutil.copytree(run_folder, tmp_path / "emoji")  # one's own `-o emoji/`, or a run called emoji
    run_genkit("image", "--weights", "emoji", "--seed", "1", "-o", "a.png", cwd=tmp_path, env=config, check=0)
    assert provenance(tmp_path / "a.png", config)["weights"] == "image-emoji.safetensors"
    run_genkit("image", "--weights", "./emoji", "--seed", "1", "-o", "b.png", cwd=tmp_path, env=config, check=0)
    assert provenance(tmp_path / "b.png", config)["weights_sha256"] == sha(run_folder / "image.safetensors")


def test_an_alias_named_like_shipped_weights_is_refused_and_an_old_one_is_ambiguous(tmp_path, config, run_folder):
    assert_user_error(run_genkit("aliases", "set", "emoji", run_folder, env=config), "emoji", "shipped")
    # A plugin update may ship a name the user already gave an alias: both are named, nothing runs.
    (tmp_path / "config").mkdir()
    entry = {"generator": "image", "path": str(run_folder / "image.safetensors")}
    (tmp_path / "config" / "aliases.json").write_text(json.dumps({"emoji": entry}))
    proc = run_genkit("image", "--weights", "emoji", "-o", tmp_path / "x.png", env=config)
    assert_user_error(proc, "ambiguous", "image-emoji.safetensors", str(run_folder / "image.safetensors"))
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["set", "a/b", "RUN"], ["alias name", "a path is not a name"]),
        (["set", "new", "nowhere"], ["no such file or folder", "nowhere"]),
        (["remove", "never-set"], ["no alias named", "never-set"]),
    ],
)
def test_alias_mistakes_are_one_line(tmp_path, config, run_folder, args, fragments):
    args = [str(run_folder) if a == "RUN" else a for a in args]
    assert_user_error(run_genkit("aliases", *args, cwd=tmp_path, env=config), *fragments)
    assert not (tmp_path / "config" / "aliases.json").exists()


def test_an_alias_for_another_generator_says_whose_it_is(tmp_path, config, run_folder):
    run_genkit("aliases", "set", "digits", run_folder, env=config, check=0)
    assert_user_error(run_genkit("vae", "--weights", "digits", "-o", tmp_path / "v.png", env=config), "image", "vae")


def test_models_lists_the_users_recent_runs_beside_the_shipped_weights(tmp_path, numbers):
    env = dict(TINY_PLUGIN_ENV, GENKIT_CONFIG_DIR=str(tmp_path / "config"), GENKIT_LOGS_PATH=str(tmp_path / "h.db"))
    run_genkit("train", "tiny", "--data", numbers, "--out", tmp_path / "mine", "--max-steps", "2", env=env, check=0)
    shown = run_genkit("models", "tiny", env=env, check=0).stdout
    assert "your recent runs" in shown and str(tmp_path / "mine" / "tiny.safetensors") in shown
