"""A tiny Stable Diffusion pipeline with random weights, built offline with diffusers' and transformers' own
classes, saved with save_pretrained into a folder and into a Hugging Face cache layout.

The ``models`` fixture (imported by the test modules; no conftest.py, whose module name the
repository's own tests/ already use) lays it out as a Hugging Face cache too and gives every command the tests run an environment
with that cache, HF_HUB_OFFLINE=1, one thread, a throwaway history and sockets blocked
(genkit.testing.offline_env), so each run also shows that nothing reached the network.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from genkit import testing

REPO_ID = "tiny-org/tiny-sd"
COMMIT = "5d1f0c2a9b8e7d6c5b4a39281706f5e4d3c2b1a0"
PROMPT = "a cat"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
MAX_PROMPT_TOKENS = 16


def tiny_tokenizer(folder: Path):
    """A CLIP tokenizer over single letters, written from a vocabulary on disk (nothing downloaded)."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        for letter in LETTERS:
            vocab[letter + suffix] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=MAX_PROMPT_TOKENS)


def build_pipeline(folder: Path) -> None:
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(folder.parent / "vocab")
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=8,
        norm_num_groups=2,
        attention_head_dim=2,
    )
    vae = AutoencoderKL(
        block_out_channels=(4, 4),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=2,
        sample_size=16,
    )
    text = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=8,
            intermediate_size=16,
            num_attention_heads=2,
            num_hidden_layers=1,
            vocab_size=tokenizer.vocab_size,
            max_position_embeddings=MAX_PROMPT_TOKENS,
        )
    )
    scheduler = DDIMScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, clip_sample=False, steps_offset=1
    )
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)


@pytest.fixture(scope="session", name="models")
def models_fixture(tmp_path_factory):
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
