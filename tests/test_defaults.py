"""`genkit defaults`: option values a generator starts from, under what the user types, never in a reproduce command's way."""

from __future__ import annotations

import json

import pytest
from conftest import assert_user_error, run_genkit
from PIL import Image


@pytest.fixture
def config(tmp_path):
    return {"GENKIT_CONFIG_DIR": str(tmp_path / "config")}


def provenance(path, env):
    return json.loads(run_genkit("inspect", path, "--json", env=env, check=0).stdout)


def test_defaults_apply_under_what_is_typed_and_the_file_spells_them_out(tmp_path, config):
    made = run_genkit("defaults", "set", "image", "--weights", "emoji", "--scale", "2", env=config, check=0)
    assert "image: --scale 2 --weights emoji" in made.stdout
    run_genkit("image", "--seed", "5", "-o", tmp_path / "a.png", env=config, check=0)
    with Image.open(tmp_path / "a.png") as im:
        assert im.size == (128, 128)  # the emoji GAN's 64 px, scaled 2
    prov = provenance(tmp_path / "a.png", config)
    assert prov["weights"] == "image-emoji.safetensors" and prov["defaults"] == {"scale": 2, "weights": "emoji"}
    assert "--scale 2" in prov["command"] and "--weights emoji" in prov["command"]
    # Typed wins; the reproduce command, run by someone without these defaults, makes the same bytes.
    run_genkit("image", "--seed", "5", "--scale", "1", "-o", tmp_path / "b.png", env=config, check=0)
    with Image.open(tmp_path / "b.png") as im:
        assert im.size == (64, 64)
    assert provenance(tmp_path / "b.png", config)["defaults"] == {"weights": "emoji"}
    bare = {"GENKIT_CONFIG_DIR": str(tmp_path / "nobody")}
    words = prov["command"].split()[1:]
    run_genkit(*words, "-o", tmp_path / "again.png", env=bare, check=0)
    with Image.open(tmp_path / "again.png") as again, Image.open(tmp_path / "a.png") as first:
        assert again.tobytes() == first.tobytes()  # the same picture (only the record of the defaults differs)
    assert "your defaults: --scale 2 --weights emoji" in run_genkit("models", "image", env=config, check=0).stdout


def test_show_and_reset(tmp_path, config):
    assert "no defaults" in run_genkit("defaults", "show", env=config, check=0).stdout
    run_genkit("defaults", "set", "music", "--bars", "8", env=config, check=0)
    run_genkit("defaults", "set", "music", "--tempo", "90", env=config, check=0)  # adds to what is there
    shown = run_genkit("defaults", "show", env=config, check=0).stdout
    assert "music: --bars 8 --tempo 90" in shown and str(tmp_path / "config" / "defaults.json") in shown
    assert json.loads(run_genkit("defaults", "show", "--json", env=config, check=0).stdout)["defaults"] == {
        "music": {"bars": 8, "tempo": 90}
    }
    assert "forgot the defaults of music" in run_genkit("defaults", "reset", "music", env=config, check=0).stdout
    assert not (tmp_path / "config" / "defaults.json").exists()


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["image", "--scale", "0"], ["--scale"]),
        (["image", "--bogus", "1"], ["--bogus"]),
        (["image", "-o", "x.png"], ["--output", "cannot be a default"]),
        (["image"], ["give the options"]),
        (["nosuch", "--n", "2"], ["unknown generator", "nosuch"]),
    ],
)
def test_a_bad_default_is_refused_in_one_line_and_nothing_is_written(tmp_path, config, args, fragments):
    assert_user_error(run_genkit("defaults", "set", *args, env=config), *fragments)
    assert not (tmp_path / "config" / "defaults.json").exists()


def test_a_damaged_defaults_file_costs_a_warning_and_reset_repairs_it(tmp_path, config):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "defaults.json").write_text("{not json")
    proc = run_genkit("image", "--seed", "1", "-o", tmp_path / "a.png", env=config, check=0)
    assert "warning: your defaults are ignored" in proc.stderr and (tmp_path / "a.png").exists()
    run_genkit("defaults", "reset", env=config, check=0)
    assert not (tmp_path / "config" / "defaults.json").exists()
