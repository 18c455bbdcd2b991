"""`genkit models [NAME]`: a list that fits 80 columns, everything about one generator, class-name
completion; none of it imports torch."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
from conftest import REPO, assert_user_error, run_genkit

NARROW = {"COLUMNS": "80"}
IMAGE_WEIGHTS = REPO / "plugins" / "genkit_image" / "weights"


@pytest.mark.fast
def test_list_fits_80_columns_and_never_cuts_a_name():
    lines = run_genkit("models", env=NARROW, check=0).stdout.splitlines()
    # Too narrow for a summary column: each summary is wrapped, whole, on indented lines under its row.
    assert lines[0].split() == ["generator", "outputs", "classes", "train", "weights"]
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    rows = {line.split()[0]: line.split() for line in lines[1:] if line and not line.startswith(("*", " "))}
    models = json.loads(run_genkit("models", "--json", check=0).stdout)["generators"]
    assert set(rows) == {m["name"] for m in models}  # every generator, its name whole, one line each
    assert " ".join(models[0]["summary"].split()) in " ".join(" ".join(lines).split())
    assert rows["image"][1:5] == ["png", "10", "yes", "fashion*,emoji,mnist"]
    assert rows["hello"][1:5] == ["png", "-", "no", "-"]
    image = [m for m in models if m["name"] == "image"][0]
    assert (
        image["classes"] == 10 and image["trainable"] is True and image["weights"]["also_shipped"] == ["emoji", "mnist"]
    )


@pytest.mark.fast
def test_one_generator_in_full(tmp_path):
    # An empty history: the user's own runs are listed with whole paths, which may pass 80 columns.
    env = {**NARROW, "GENKIT_LOGS_PATH": str(tmp_path / "logs.db")}
    text = run_genkit("models", "image", env=env, check=0).stdout
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "classes    10: t-shirt, trouser" in text and "trainable  yes" in text
    assert "--truncation FLOAT  (range (0, 1], default 1)" in text
    for name in ("fashion", "emoji", "mnist"):
        path = IMAGE_WEIGHTS / f"image-{name}.safetensors"
        sha = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        assert f"image-{name}.safetensors  {path.stat().st_size / 1e6:.2f} MB  sha256 {sha}" in text
    assert "fd_ratio=4.588" in text  # from the weights' metadata, not a copy in the docs
    detail = json.loads(run_genkit("models", "image", "--json", check=0).stdout)
    assert detail["classes"][:2] == ["t-shirt", "trouser"] and detail["trainable"] is True
    assert [w["name"] for w in detail["weights"]] == ["fashion", "emoji", "mnist"] and detail["weights"][0]["default"]
    assert detail["weights"][1]["classes"][:2] == ["activities", "animals"]
    assert detail["weights"][2]["classes"] == [str(d) for d in range(10)]
    assert detail["weights"][0]["metrics"]["fd_ratio"] > 0
    truncation = [o for o in detail["options"] if o["flag"] == "--truncation"][0]
    assert truncation["range"] == "(0, 1]" and truncation["default"] == 1.0


def test_a_generator_without_weights_or_classes():
    detail = json.loads(run_genkit("models", "hello", "--json", check=0).stdout)
    assert detail["weights"] == [] and detail["classes"] == [] and detail["plugin_kind"] == "third-party"
    assert "none (this generator needs no weights)" in run_genkit("models", "hello", check=0).stdout


@pytest.mark.fast
def test_unknown_generator_is_a_user_error():
    assert_user_error(run_genkit("models", "imag"), "unknown generator", "image")


def light_run(args, env_code=""):
    """Run genkit.cli.main(args) in a child and fail if it imported torch or numpy."""
    code = (
        f"import os, sys\n{env_code}from genkit.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'numpy' not in sys.modules, 'numpy imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, (args, proc.stderr[-800:])
    return proc.stdout


@pytest.mark.fast
def test_models_name_never_imports_torch():
    assert "fashion (default)" in light_run(["models", "image"])
    light_run(["models", "music", "--json"])


def complete(words: str) -> list[str]:
    """Ask the CLI for bash completions of the last word, as the shell does (typer's protocol)."""
    env_code = (
        f"os.environ['_GENKIT_COMPLETE'] = 'complete_bash'\nos.environ['COMP_WORDS'] = {words!r}\n"
        f"os.environ['COMP_CWORD'] = '{len(words.split(' ')) - 1}'\n"
    )
    return light_run([], env_code).split()


def test_class_names_complete_from_the_weights_without_torch():
    assert complete("genkit image --class s") == ["sandal", "shirt", "sneaker"]
    assert complete("genkit image --weights mnist --class ") == [str(d) for d in range(10)]
    assert complete("genkit video --source image --classes sneaker,ba") == ["sneaker,bag"]
    assert complete("genkit image --class zzz") == []
