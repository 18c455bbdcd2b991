"""Tiny random-weight models built offline with transformers' and tokenizers' own classes: a GPT-2 causal
LM (a byte-level BPE tokenizer trained here, with a chat template) and a MusicGen (T5 text encoder with a
Unigram tokenizer, EnCodec, decoder), saved with save_pretrained into folders and into a Hugging Face
cache layout.

The ``models`` fixture (imported by the test modules; no conftest.py, whose module name the
repository's own tests/ already use) gives every command the tests run an environment with that cache, HF_HUB_OFFLINE=1, one
thread, a throwaway history and sockets blocked (genkit.testing.offline_env), so each run also shows
that nothing reached the network.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from genkit import testing

LM_ID, AUDIO_ID = "tiny-org/tiny-gpt2", "tiny-org/tiny-musicgen"
LM_COMMIT, AUDIO_COMMIT = "a1" * 20, "b2" * 20
CONTEXT = 48  # the tiny LM's position table
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def build_lm(folder: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=280, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(["the cat sat on the mat", "once upon a time there was a cat"] * 5, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|endoftext|>", bos_token="<|endoftext|>", model_max_length=CONTEXT
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    end = tokenizer.eos_token_id
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=CONTEXT,
        n_embd=8,
        n_layer=1,
        n_head=2,
        bos_token_id=end,
        eos_token_id=end,
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def build_musicgen(folder: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import (
        EncodecConfig,
        EncodecFeatureExtractor,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenProcessor,
        T5Config,
        T5TokenizerFast,
    )

    pieces = ["<pad>", "</s>", "<unk>", "▁", *"abcdefghijklmnopqrstuvwxyz"]
    unigram = Tokenizer(models.Unigram([(p, 0.0 if i < 3 else -1.0) for i, p in enumerate(pieces)], unk_id=2))
    unigram.pre_tokenizer = pre_tokenizers.Metaspace()
    unigram.decoder = decoders.Metaspace()
    unigram.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tokenizer = T5TokenizerFast(
        tokenizer_object=unigram, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", extra_ids=0,
        model_max_length=16,
    )  # fmt: skip
    text = T5Config(vocab_size=len(pieces), d_model=8, d_kv=4, d_ff=16, num_layers=1, num_heads=2)
    audio = EncodecConfig(
        sampling_rate=800,
        audio_channels=1,
        hidden_size=8,
        num_filters=2,
        num_residual_layers=1,
        upsampling_ratios=[4, 2],
        codebook_size=16,
        codebook_dim=8,
        target_bandwidths=[0.4],  # one codebook at 100 frames a second
        kernel_size=3,
        last_kernel_size=3,
        residual_kernel_size=3,
        num_lstm_layers=1,
        compress=1,
        normalize=False,
    )
    decoder = MusicgenDecoderConfig(
        vocab_size=16,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        ffn_dim=16,
        num_codebooks=audio.num_quantizers,
        max_position_embeddings=256,
        pad_token_id=16,
        bos_token_id=16,
    )
    torch.manual_seed(0)
    model = MusicgenForConditionalGeneration(
        MusicgenConfig(text_encoder=text.to_dict(), audio_encoder=audio.to_dict(), decoder=decoder.to_dict())
    )
    model.generation_config.decoder_start_token_id = model.generation_config.pad_token_id = 16
    model.generation_config.max_length = 256
    model.save_pretrained(folder)
    processor = MusicgenProcessor(
        feature_extractor=EncodecFeatureExtractor(feature_size=1, sampling_rate=800), tokenizer=tokenizer
    )
    processor.save_pretrained(folder)


@pytest.fixture(scope="session", name="models")
def models_fixture(tmp_path_factory):
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
