"""The tiny models of these tests, built once a session (tiny_sd.py builds them)."""

from __future__ import annotations

import json
import shutil

import pytest
from tiny_sd import COMMIT, REPO_ID, build_pipeline

from genkit import testing


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    """Folders: the pipeline, the same in a cache, a pickled-only copy, a folder that is no model, a hostile config."""
    root = tmp_path_factory.mktemp("diffusers-models")
    folder = root / "tiny-sd"
    build_pipeline(folder)
    cache = root / "hub"
    testing.into_hf_cache(folder, cache, REPO_ID, COMMIT)

    pickled = root / "pickled-sd"
    shutil.copytree(folder, pickled)
    for weights in pickled.rglob("*.safetensors"):
        weights.with_suffix(".bin").write_bytes(b"\x80\x02}q\x00.")  # the bytes of a pickle: never loaded
        weights.unlink()

    not_a_model = root / "holiday-photos"
    not_a_model.mkdir()
    (not_a_model / "notes.txt").write_text("not a model")

    hostile = root / "hostile-sd"
    shutil.copytree(folder, hostile)
    config = json.loads((hostile / "unet" / "config.json").read_text())
    config["block_out_channels"] = [4096, 8192]  # billions of parameters claimed by a file of a few kB
    config["norm_num_groups"] = 32
    (hostile / "unet" / "config.json").write_text(json.dumps(config))

    env = testing.offline_env(root / "offline")
    env.update(
        HF_HUB_CACHE=str(cache),
        HF_HUB_OFFLINE="1",
        OMP_NUM_THREADS="1",
        GENKIT_LOGS_PATH=str(root / "logs.db"),
    )
    return {
        "folder": folder,
        "cache": cache,
        "pickled": pickled,
        "not_a_model": not_a_model,
        "hostile": hostile,
        "env": env,
    }
