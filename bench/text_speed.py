"""Sampling speed of `genkit text`, as ratios measured in one run (batch 1, CPU, one thread).

1. KV cache: our model sampling 500 new characters with the cache against the same model
   recomputing the last block_size characters every step (nanoGPT's sample.py). Dimensions are
   those of the shipped weights (random weights when none are shipped: speed does not depend
   on their values). Target: at least 5x.
2. Hugging Face: our cached sampler against transformers' GPT2LMHeadModel.generate(use_cache=True)
   with identical dimensions and random weights. Both get 512 positions so that 500 new tokens
   fit in either model's context without sliding. Target: at least 1.5x. Skipped with a message
   when transformers is not installed (`pip install transformers`).
3. Start-up: wall time of `genkit text "ROMEO:" --max-tokens 1` (time to first token, shipped
   weights) against `python -c "import torch"`.

Each timing is the best of --repeats runs: the team's machine is shared, and the minimum is the
least disturbed measurement. Run: python bench/text_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from genkit import weights as gk_weights
from genkit_text.generator import build_model

NEW_TOKENS = 500
SHIPPED = Path(__file__).resolve().parents[1] / "plugins" / "genkit_text" / "weights" / "text-shakespeare.safetensors"
DEFAULT_CONFIG = {"vocab_size": 65, "block_size": 128, "n_layer": 4, "n_head": 4, "n_embd": 128, "dropout": 0.0}


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def ours(model, use_cache: bool):
    def run():
        tokens = model.sample([1, 2, 3, 4, 5, 6], NEW_TOKENS, torch.Generator().manual_seed(0), use_cache=use_cache)
        assert len(list(tokens)) == NEW_TOKENS

    return run


def hugging_face(config: dict):
    try:
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError:
        return None
    hf_config = GPT2Config(
        vocab_size=config["vocab_size"],
        n_positions=config["block_size"],
        n_embd=config["n_embd"],
        n_layer=config["n_layer"],
        n_head=config["n_head"],
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=0,
        eos_token_id=None,
        pad_token_id=0,
    )
    model = GPT2LMHeadModel(hf_config).eval()
    prompt = torch.tensor([[1, 2, 3, 4, 5, 6]])

    def run():
        torch.manual_seed(0)
        with torch.no_grad():
            out = model.generate(
                prompt,
                attention_mask=torch.ones_like(prompt),
                do_sample=True,
                top_k=0,
                max_new_tokens=NEW_TOKENS,
                min_new_tokens=NEW_TOKENS,
                use_cache=True,
            )
        assert out.shape[1] == prompt.shape[1] + NEW_TOKENS

    return run


def wall(cmd: list[str], repeats: int) -> float:
    return best_of(repeats, lambda: subprocess.run(cmd, check=True, capture_output=True))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    config = dict(DEFAULT_CONFIG)
    if SHIPPED.exists():
        config.update({k: v for k, v in gk_weights.metadata(SHIPPED)["config"].items() if k in config})
    dims = (
        f"{config['n_layer']} layers, {config['n_embd']} wide, {config['n_head']} heads, vocab {config['vocab_size']}"
    )
    print(f"model: {dims}; batch 1, {NEW_TOKENS} new tokens, 1 thread, best of {args.repeats}")

    model = build_model(config).eval()
    # Cached and uncached runs alternate: the shared machine's speed drifts by up to 1.5x within
    # a minute, and a pair measured back to back sees nearly the same machine.
    pairs = [(best_of(1, ours(model, True)), best_of(1, ours(model, False))) for _ in range(2 * args.repeats + 1)]
    ratios = sorted(u / c for c, u in pairs)
    cached, uncached = min(c for c, _ in pairs), min(u for _, u in pairs)
    print(
        f"1. KV cache (block {config['block_size']}): cached {NEW_TOKENS / cached:.0f} tok/s, "
        f"uncached {NEW_TOKENS / uncached:.0f} tok/s (best runs); per-pair ratio median "
        f"{statistics.median(ratios):.1f}x, range {ratios[0]:.1f}-{ratios[-1]:.1f}x over {len(pairs)} pairs (target >= 5x)"
    )

    wide = dict(config, block_size=512)
    hf = hugging_face(wide)
    if hf is None:
        print("2. Hugging Face: skipped, transformers is not installed (pip install transformers)")
    else:
        ours_wide = best_of(args.repeats, ours(build_model(wide).eval(), True))
        theirs = best_of(args.repeats, hf)
        print(
            f"2. vs GPT2LMHeadModel.generate(use_cache=True), 512 positions: ours {NEW_TOKENS / ours_wide:.0f} tok/s, "
            f"transformers {NEW_TOKENS / theirs:.0f} tok/s -> {theirs / ours_wide:.1f}x (target >= 1.5x)"
        )

    if SHIPPED.exists():
        first = wall(
            [sys.executable, "-m", "genkit", "text", "ROMEO:", "--max-tokens", "1", "--seed", "0"], args.repeats
        )
        torch_only = wall([sys.executable, "-c", "import torch"], args.repeats)
        print(
            f"3. time to first token: genkit text {first:.2f} s, import torch {torch_only:.2f} s -> "
            f"{first / torch_only:.2f}x the bare torch import"
        )
    else:
        print("3. time to first token: skipped, no shipped weights")


if __name__ == "__main__":
    main()
