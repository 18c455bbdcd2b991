"""The loading base (genkit.models): one way to load and save a model, as a plugin author uses it.

Every built-in generator loads through it (their own tests run their shipped weights); a weights
file claiming a huge model is refused for each of them in test_reliability.py. Here: the base
itself, with a model declared the way a third-party plugin would declare one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
import torch
from conftest import REPO, run_genkit

from genkit import models, weights
from genkit.errors import GenkitError
from genkit.provenance import read_provenance


@dataclass
class TinyConfig:
    width: int = models.bounded(1, 64)
    depth: int = models.bounded(1, 4, default=1)
    act: str = models.one_of("relu", "tanh", default="relu")


class Tiny(torch.nn.Sequential):
    builds: list[str] = []  # the device of every Tiny built: the tests see what was allocated

    def __init__(self, cfg: TinyConfig):
        super().__init__(*[torch.nn.Linear(cfg.width, cfg.width) for _ in range(cfg.depth)])
        Tiny.builds.append(self[0].weight.device.type)


def no_odd_widths(cfg: TinyConfig) -> None:
    if cfg.width % 2:
        raise ValueError(f"has width {cfg.width}, not even")


TINY = models.ModelFormat("tiny", TinyConfig, build=Tiny, check=no_odd_widths)


def saved(tmp_path, width=8, depth=2, **table):
    model = Tiny(TinyConfig(width=width, depth=depth))
    path = tmp_path / "tiny.safetensors"
    TINY.save(path, model.state_dict(), dict({"width": width, "depth": depth}, **table), metadata={"note": "x"})
    return path, model


def test_a_saved_model_loads_back_placed_and_recorded(tmp_path):
    path, model = saved(tmp_path, act="tanh")
    loaded = TINY.load(path, "cpu", dtype=torch.bfloat16)
    assert loaded.config == TinyConfig(width=8, depth=2, act="tanh")
    assert loaded.metadata["note"] == "x" and loaded.metadata["generator"] == "tiny"
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.module.state_dict()[key], value.to(torch.bfloat16))
    assert not loaded.module.training
    assert loaded.record == {
        "source": "tiny.safetensors",
        "files": {"tiny.safetensors": hashlib.sha256(path.read_bytes()).hexdigest()},
        "class": "Tiny",
        "config": {"width": 8, "depth": 2, "act": "tanh"},
        "dtype": "bfloat16",
        "parameters": 2 * (8 * 8 + 8),
    }


@pytest.mark.parametrize(
    "table, fragment",
    [
        ({"width": 1000}, "width = 1000, outside [1, 64]"),
        ({"width": 8.0}, "no whole number 'width'"),
        ({"width": True}, "no whole number 'width'"),
        ({"depth": 2}, "no 'width'"),
        ({"width": 8, "act": "gelu"}, "not one of relu, tanh"),
        ({"width": 7}, "has width 7, not even"),
    ],
)
def test_a_config_out_of_bounds_missing_or_mistyped_is_refused_before_anything_is_built(tmp_path, table, fragment):
    path = tmp_path / "w.safetensors"
    weights.save_tensors({"0.weight": torch.zeros(1)}, {"generator": "tiny", "config": table}, path)
    Tiny.builds.clear()
    with pytest.raises(GenkitError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        TINY.load(path)
    assert Tiny.builds == []


def test_a_config_that_does_not_fit_the_file_is_refused_on_the_meta_device(tmp_path):
    path, _ = saved(tmp_path, width=8, depth=2)
    table = weights.metadata(path)
    weights.save_tensors(dict(weights.load_tensors(path)[0]), dict(table, config={"width": 64, "depth": 2}), path)
    Tiny.builds.clear()
    with pytest.raises(GenkitError, match="has shape"):
        TINY.load(path)
    assert Tiny.builds == ["meta"]  # the check built it once, on the meta device, and nothing else


def test_a_model_over_the_parameter_budget_is_refused_before_allocation(tmp_path):
    path, _ = saved(tmp_path)
    small = models.ModelFormat("tiny", TinyConfig, build=Tiny, max_parameters=100)
    Tiny.builds.clear()
    with pytest.raises(GenkitError, match="144 parameters, over genkit's limit of 100"):
        small.load(path)
    assert Tiny.builds == ["meta"]
    assert models.meta_parameters(lambda: Tiny(TinyConfig(width=64, depth=4)), "tiny") == 4 * (64 * 64 + 64)


def test_weights_of_another_generator_and_non_finite_tensors_are_refused(tmp_path):
    path, model = saved(tmp_path)
    other = models.ModelFormat("other", TinyConfig, build=Tiny)
    with pytest.raises(GenkitError, match="holds tiny weights, not other ones"):
        other.load(path)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["0.bias"][3] = float("nan")
    TINY.save(path, state, {"width": 8, "depth": 2})
    with pytest.raises(GenkitError, match="NaN or infinite"):
        TINY.load(path)


def test_a_config_class_must_be_a_dataclass(tmp_path):
    path, _ = saved(tmp_path)
    with pytest.raises(TypeError, match="must be a dataclass"):
        models.ModelFormat("tiny", dict, build=Tiny).load(path)


def test_every_file_records_the_model_its_generator_loaded(tmp_path):
    """The core writes what the base loaded (class, config, dtype) into each file's provenance."""
    proc = run_genkit("vae", "--seed", "3", "--quiet", "-o", tmp_path / "v.png")
    assert proc.returncode == 0, proc.stderr
    prov = read_provenance(tmp_path / "v.png")
    shipped = weights.metadata(REPO / "plugins/genkit_vae/weights/vae-mnist.safetensors")
    assert prov["model"]["class"] == "VAE" and prov["model"]["dtype"] == "float32"
    assert prov["model"]["files"] == {prov["weights"]: prov["weights_sha256"]}
    assert {k: prov["model"]["config"][k] for k in shipped["config"]} == shipped["config"]


@pytest.mark.parametrize("name", ["image", "music", "text", "vae", "video", "hello"])
def test_every_generator_with_weights_loads_them_through_the_base(tmp_path, name):
    """The conformance kit's check: each built-in declares its weights with a ModelFormat (hello has none)."""
    from genkit import testing

    record = testing.check_model_loads(name, tmp_path)
    assert (record is None) == (name == "hello")
