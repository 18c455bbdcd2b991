"""The tiny models of these tests, built once a session (tiny_transformers.py builds them)."""

from __future__ import annotations

import json
import shutil

import pytest
from tiny_transformers import AUDIO_COMMIT, AUDIO_ID, LM_COMMIT, LM_ID, build_lm, build_musicgen

from genkit import testing


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    """Folders: the LM and MusicGen (also in a cache), a pickled-only LM, a hostile LM config, a non-model."""
    root = tmp_path_factory.mktemp("transformers-models")
    lm, musicgen, cache = root / "tiny-gpt2", root / "tiny-musicgen", root / "hub"
    build_lm(lm)
    build_musicgen(musicgen)
    testing.into_hf_cache(lm, cache, LM_ID, LM_COMMIT)
    testing.into_hf_cache(musicgen, cache, AUDIO_ID, AUDIO_COMMIT)

    pickled = root / "pickled-gpt2"
    shutil.copytree(lm, pickled)
    (pickled / "model.safetensors").unlink()
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x02}q\x00.")  # the bytes of a pickle: never loaded

    hostile = root / "hostile-gpt2"
    shutil.copytree(lm, hostile)
    config = json.loads((hostile / "config.json").read_text())
    config.update(n_embd=65536, n_head=2)  # tens of billions of parameters claimed by a file of a few kB
    (hostile / "config.json").write_text(json.dumps(config))

    not_a_model = root / "holiday-photos"
    not_a_model.mkdir()
    (not_a_model / "notes.txt").write_text("not a model")

    env = testing.offline_env(root / "offline")
    env.update(HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", GENKIT_LOGS_PATH=str(root / "logs.db"))
    return {
        "lm": lm,
        "musicgen": musicgen,
        "cache": cache,
        "pickled": pickled,
        "hostile": hostile,
        "not_a_model": not_a_model,
        "env": env,
    }
