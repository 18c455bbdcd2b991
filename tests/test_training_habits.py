"""Training that helps (issue 34, item 8): a length that follows the data, warnings that say what to do,
flags kept on --resume, the real end on the progress bar, and fine-tuning at the start weights' size."""

from __future__ import annotations

import json
import shlex

import pytest
from conftest import TINY_PLUGIN_ENV, assert_user_error, run_genkit
from terminal import in_a_terminal

ENV = dict(TINY_PLUGIN_ENV, GENKIT_TINY_MIN_STEPS="30")  # the tiny task asks for 30 steps; its data gives 6 an epoch


def train(*args, env=ENV, **kw):
    return run_genkit("train", "tiny", *map(str, args), env=env, **kw)


def test_the_default_length_follows_the_data_and_a_typed_one_wins(numbers, tmp_path):
    summary = json.loads(train("--data", numbers, "--out", tmp_path / "a", check=0).stdout)
    assert summary["steps"] == 30 and summary["epochs"] == 5  # 3 default epochs of 6 steps would be 18
    typed = train("--data", numbers, "--out", tmp_path / "b", "--epochs", "2", check=0)
    assert json.loads(typed.stdout)["steps"] == 12
    assert "warning: this run made 12 optimizer steps; tiny asks for at least 30" in typed.stderr


def test_a_short_run_says_how_to_go_on_and_the_end_says_how_to_use_it(numbers, tmp_path):
    out = tmp_path / "run"
    short = train("--data", numbers, "--out", out, "--max-steps", "2", check=0)
    assert "made 2 optimizer steps" in short.stderr and "--resume --max-steps 30" in short.stderr
    go_on = train("--data", numbers, "--out", out, "--resume", "--max-steps", "30", check=0)
    assert json.loads(go_on.stdout)["steps"] == 30 and "warning" not in go_on.stderr
    use = next(line for line in go_on.stderr.splitlines() if line.startswith("use it: "))
    words = shlex.split(use.removeprefix("use it: ").split("   (")[0])
    assert words[:2] == ["genkit", "tiny"]
    assert run_genkit(*words[1:], "--seed", "1", env=ENV, check=0).stdout.startswith("tiny ")


def test_resume_keeps_no_eval(numbers, tmp_path):
    out = tmp_path / "run"
    first = train("--data", numbers, "--out", out, "--max-steps", "2", "--no-eval", check=0)
    assert json.loads(first.stdout)["metrics"] == {}
    resumed = train("--data", numbers, "--out", out, "--resume", "--max-steps", "4", check=0)
    assert json.loads(resumed.stdout)["metrics"] == {}  # the run was started without an evaluation


def test_a_batch_larger_than_the_data_names_the_flag(numbers, tmp_path):
    proc = train("--data", numbers, "--out", tmp_path / "run", "--batch-size", "64")
    assert_user_error(proc, "48 training examples", "--batch-size 48 or less")


@pytest.mark.slow
def test_progress_shows_the_real_end_of_a_max_steps_run(numbers, tmp_path):
    code, seen = in_a_terminal(["train", "tiny", "--data", numbers, "--out", "run", "--max-steps", "8"], tmp_path, ENV)
    assert code == 0 and "ep 2/2" in seen and "ep 2/5" not in seen, seen[-2000:]


@pytest.mark.slow
def test_fine_tuning_reads_the_data_at_the_start_weights_size(tmp_path):
    from PIL import Image

    for name, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):
        (tmp_path / "pics" / name).mkdir(parents=True)
        for k in range(8):
            Image.new("RGB", (40, 40), tuple(c + 3 * k for c in colour)).save(tmp_path / "pics" / name / f"{k}.png")
    args = ["--data", tmp_path / "pics", "--weights", "mnist", "--max-steps", "1", "--batch-size", "8", "--no-eval"]
    proc = run_genkit("train", "image", *args, "--out", tmp_path / "run", "--quiet", check=0)
    assert json.loads(proc.stdout)["steps"] == 1
    from genkit import weights

    config = weights.metadata(tmp_path / "run" / "image.safetensors")["config"]
    assert (config["size"], config["channels"]) == (28, 1)  # MNIST's 28x28 grey, not the data's 40x40 colour
    refused = run_genkit("train", "image", *args, "--size", "32", "--out", tmp_path / "r2", "--quiet")
    assert_user_error(refused, "28x28", "32x32")
