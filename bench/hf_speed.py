"""genkit's diffusers and transformers plugins against the libraries called bare, as ratios from one run.

Run: nice python bench/hf_speed.py [--full] [--runs 3] [--steps 2] [--tokens 64]

Builds random-weight models with the libraries' own classes (the tests' tiny ones, or with --full
Stable Diffusion 1.5's UNet, VAE and text-encoder configs and GPT-2 124M), then measures:

- ``genkit diffusion --help`` against ``python -c 'import torch'`` (goal <= 0.1x);
- one image, CLI against CLI: ``genkit diffusion`` against a bare script that imports diffusers, loads
  the same pipeline and calls it with the same prompt, steps and seed (imports included);
- one image in one process after the imports: ``genkit.load("diffusion").generate(...)`` against
  ``from_pretrained`` and a call (goal <= 1.05x), and whether both gave the same pixels;
- tokens per second of ``genkit lm`` (its streaming worker thread) against transformers' ``generate``
  with the same model, settings and seed (goal >= 0.95x).

Medians of --runs, interleaved so the machine's load hits both sides alike; compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(REPO / "integrations" / "genkit-diffusers" / "tests"),
    str(REPO / "integrations" / "genkit-transformers" / "tests"),
]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GENKIT_LOGS", "off")
PROMPT = "a cat"

BARE_DIFFUSION = """
import sys, torch
from diffusers import StableDiffusionPipeline
pipe = StableDiffusionPipeline.from_pretrained(sys.argv[1], use_safetensors=True, torch_dtype=torch.float32)
pipe.set_progress_bar_config(disable=True)
size = dict(zip(("width", "height"), map(int, sys.argv[6].split("x")))) if len(sys.argv) > 6 else {}
noise = torch.Generator("cpu").manual_seed(int(sys.argv[4]))
pipe(sys.argv[2], num_inference_steps=int(sys.argv[3]), generator=noise, **size).images[0].save(sys.argv[5])
"""


def build_full_pipeline(folder: Path) -> None:
    """Stable Diffusion 1.5's architecture (UNet 860M, VAE 84M, CLIP ViT-L text 123M) with random weights."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from tiny_sd import tiny_tokenizer
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(folder.parent / "vocab")
    tokenizer.model_max_length = 77
    unet = UNet2DConditionModel(cross_attention_dim=768, sample_size=64)  # diffusers' defaults are SD 1.x's UNet
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=2,
        sample_size=512,
    )
    text = CLIPTextModel(  # CLIP ViT-L/14's text tower, as SD 1.x uses it
        CLIPTextConfig(
            vocab_size=49408,
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            max_position_embeddings=77,
            bos_token_id=0,
            eos_token_id=1,
        )
    )
    scheduler = PNDMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, skip_prk_steps=True)
    StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text, tokenizer=tokenizer, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    ).save_pretrained(folder)  # fmt: skip


def build_full_lm(folder: Path) -> None:
    """GPT-2 124M's architecture with random weights and the tests' small byte-level tokenizer."""
    import torch
    from tiny_transformers import build_lm
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    build_lm(folder / "tokenizer-source")
    tokenizer = AutoTokenizer.from_pretrained(folder / "tokenizer-source")
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer), bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{command[:4]} exited {proc.returncode}: {proc.stderr[-600:]}")
    return time.perf_counter() - start


def interleaved(runs: int, **commands) -> dict[str, float]:
    """The median seconds of each timing function, run in turn so that load changes hit all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, measure in commands.items():
            times[name].append(measure())
    return {name: statistics.median(t) for name, t in times.items()}


def clock(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def diffusion_in_process(pipeline: Path, steps: int, seed: int, runs: int, size: str | None) -> tuple[dict, bool]:
    import numpy as np
    import torch
    from diffusers import StableDiffusionPipeline

    import genkit

    options = {"model": str(pipeline), "steps": steps, "precision": "fp32", "prompt": PROMPT, "size": size}
    dims = dict(zip(("width", "height"), map(int, size.split("x")))) if size else {}
    result = {}

    def bare():
        pipe = StableDiffusionPipeline.from_pretrained(pipeline, use_safetensors=True, torch_dtype=torch.float32)
        pipe.set_progress_bar_config(disable=True)
        result["bare"] = pipe(
            PROMPT,
            num_inference_steps=steps,
            generator=torch.Generator("cpu").manual_seed(genkit.item_seed(seed, 0)),
            **dims,
        ).images[0]

    def through_genkit():
        result["genkit"] = genkit.load("diffusion", device="cpu").generate(n=1, seed=seed, options=options)[0]

    bare(), through_genkit()  # the first import of every part of both libraries is not what is measured
    times = interleaved(runs, bare=lambda: clock(bare), genkit=lambda: clock(through_genkit))
    same = np.array_equal(np.asarray(result["bare"]), result["genkit"].to_numpy())
    return times, same


def lm_tokens_per_second(folder: Path, tokens: int, seed: int, runs: int) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import genkit

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True, dtype=torch.float32).eval()
    ids = tokenizer("the cat", return_tensors="pt").input_ids
    counts = {}

    def bare():
        torch.manual_seed(genkit.item_seed(seed, 0))
        with torch.inference_mode():
            out = model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                do_sample=True,
                temperature=1.0,
                max_new_tokens=tokens,
                pad_token_id=tokenizer.eos_token_id,
            )
        counts["bare"] = out.shape[1] - ids.shape[1]

    lm = genkit.load("lm", device="cpu")
    options = {"model": str(folder), "max_tokens": tokens, "precision": "fp32", "prompt": "the cat"}
    lm.generate(n=1, seed=seed, options=options)  # loads the model once; then only generation is timed

    def through_genkit():
        counts["text"] = lm.generate(n=1, seed=seed, options=options)[0].text

    bare()
    times = interleaved(runs, bare=lambda: clock(bare), genkit=lambda: clock(through_genkit))
    return {name: counts["bare"] / seconds for name, seconds in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="SD 1.5 and GPT-2 124M architectures (random weights)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=None, help="default: 40 (the tiny LM reads 48), 128 with --full")
    parser.add_argument("--size", default=None, help="WIDTHxHEIGHT of the images (default: the model's)")
    args = parser.parse_args()
    args.tokens = args.tokens or (128 if args.full else 40)
    scratch = Path(tempfile.mkdtemp(prefix="genkit-hf-speed-"))
    pipeline, lm = scratch / "pipeline", scratch / "lm"
    print(f"building {'full-size' if args.full else 'tiny'} random-weight models in {scratch}", flush=True)
    if args.full:
        build_full_pipeline(pipeline)
        build_full_lm(lm)
    else:
        from tiny_sd import build_pipeline
        from tiny_transformers import build_lm

        build_pipeline(pipeline)
        build_lm(lm)
    genkit = [sys.executable, "-m", "genkit"]
    seed = 1

    startup = interleaved(
        args.runs,
        help=lambda: wall([*genkit, "diffusion", "--help"]),
        core=lambda: wall([*genkit, "--help"]),
        torch=lambda: wall([sys.executable, "-c", "import torch"]),
    )
    print(f"genkit diffusion --help {startup['help']:.2f} s (genkit --help {startup['core']:.2f} s), import torch "
          f"{startup['torch']:.2f} s: ratio {startup['help'] / startup['torch']:.3f}x (goal <= 0.1x)", flush=True)  # fmt: skip

    out = scratch / "out"
    cli = interleaved(
        args.runs,
        genkit=lambda: wall([*genkit, "diffusion", PROMPT, "--model", str(pipeline), "--steps", str(args.steps),
                             "--seed", str(seed), "--precision", "fp32", "--quiet", "--overwrite", "-o", str(out / "g.png"),
                             *(["--size", args.size] if args.size else [])]),
        bare=lambda: wall([sys.executable, "-c", BARE_DIFFUSION, str(pipeline), PROMPT, str(args.steps),
                           str(__import__("genkit").item_seed(seed, 0)), str(out / "b.png"), *([args.size] if args.size else [])]),
    )  # fmt: skip
    print(f"one image, command against script (imports included): genkit {cli['genkit']:.2f} s, bare "
          f"{cli['bare']:.2f} s: ratio {cli['genkit'] / cli['bare']:.3f}x", flush=True)  # fmt: skip

    times, same = diffusion_in_process(pipeline, args.steps, seed, args.runs, args.size)
    print(f"one image after the imports (load + {args.steps} steps): genkit {times['genkit']:.2f} s, diffusers "
          f"{times['bare']:.2f} s: ratio {times['genkit'] / times['bare']:.3f}x (goal <= 1.05x); "
          f"same pixels: {same}", flush=True)  # fmt: skip

    speed = lm_tokens_per_second(lm, args.tokens, seed, args.runs)
    print(f"lm, {args.tokens} tokens: genkit {speed['genkit']:.1f} tokens/s, transformers generate "
          f"{speed['bare']:.1f} tokens/s: ratio {speed['genkit'] / speed['bare']:.3f}x (goal >= 0.95x)")  # fmt: skip


if __name__ == "__main__":
    main()
