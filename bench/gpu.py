"""Every built-in generator on one device, and training steps in each precision: issue 16, item 4.

A prepared script for a session that is lent a GPU (one call of the device tool), which also runs
end to end on a CPU so that it is known to work before then. It prints a markdown table for
docs/training.md:

1. generation: ``genkit.load(NAME, device=D)`` with the shipped weights, one warm-up call, then the
   best of --repeats timed calls: images/s (image, vae), frames/s (video), characters/s (text,
   one sample at a time as the CLI streams it), bars/s (music).
2. training: steps/s of each trainable generator's task, stepped as `genkit train` steps it (the
   task's train_step through genkit's StepContext, on the device) in each precision the device
   offers (cuda: fp32, bf16, fp16; a CPU: fp32, and bf16 where it is fast): the fastest of --steps
   steps after a warm-up step, the device synchronised around each (train_speed.seconds_per_step).
   Data: the team's (../shared/data or $GENKIT_DATA) when present, else synthetic stand-ins of the
   same shapes (speed does not depend on the pixels or characters). Sizes: each generator's
   defaults, text at nanoGPT's 6x384.

Run: python bench/gpu.py [--device cuda] [--steps 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from train_speed import seconds_per_step, write_digits  # bench/ is the script's folder: on sys.path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GENKIT_DATA", REPO.parent / "shared" / "data"))

# name, generate() arguments, unit, how many units one artifact holds
GENERATION = [
    ("image", {"n": 256}, "images", lambda a: 1),
    ("vae", {"n": 256}, "images", lambda a: 1),
    ("video", {"n": 8}, "frames", lambda a: a.to_numpy().shape[0]),
    ("text", {"n": 1, "options": {"prompt": "ROMEO:", "max_tokens": 500}}, "characters", lambda a: len(a.text) - 6),
    ("music", {"n": 4, "options": {"bars": 8}}, "bars", lambda a: 8),
]


def generation_rate(name: str, kwargs: dict, count, device: str, repeats: int) -> tuple[float, float]:
    """(units per second, seconds to load) of one generator on ``device``."""
    import genkit

    start = time.perf_counter()
    generator = genkit.load(name, device=device)
    generator.generate(seed=0, **{**kwargs, "n": 1})  # warm-up: lazy initialisation, kernel choice
    loaded = time.perf_counter() - start
    best = float("inf")
    for k in range(repeats):
        start = time.perf_counter()
        items = generator.generate(seed=k + 1, **kwargs)
        best = min(best, (time.perf_counter() - start) / sum(count(item) for item in items))
    return 1 / best, loaded


def write_tunes(folder: Path, n: int = 60) -> Path:
    """Random diatonic melodies of 64 eighth notes as MIDI files."""
    import pretty_midi

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for k in range(n):
        midi = pretty_midi.PrettyMIDI(initial_tempo=120)
        melody = pretty_midi.Instrument(program=0)
        for i, pitch in enumerate(67 + rng.choice([0, 2, 4, 5, 7, 9, 11, 12], size=64)):
            melody.notes.append(pretty_midi.Note(90, int(pitch), i * 0.25, (i + 1) * 0.25))
        midi.instruments.append(melody)
        midi.write(str(folder / f"tune{k:03d}.mid"))
    return folder


def write_text(path: Path) -> Path:
    """The repository's own prose and code, repeated to a megabyte: real characters, no data needed."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(REPO.glob("**/*.md")) if ".git" not in p.parts)
    path.write_text((text * (1 + 1_000_000 // max(len(text), 1)))[:1_000_000], encoding="utf-8")
    return path


def training_cases(tmp: Path) -> list[tuple[str, str, Path, dict, int]]:
    """(label, generator, data, train options, batch) for each trainable built-in."""
    mnist = DATA / "images" / "mnist"
    digits = mnist if (mnist / "train-images-idx3-ubyte.gz").exists() else write_digits(tmp / "digits")
    corpus = DATA / "text" / "tinyshakespeare.txt"
    corpus = corpus if corpus.exists() else write_text(tmp / "text.txt")
    tunes = write_tunes(tmp / "tunes")  # the real corpus's parsing is slow and speed does not depend on it
    nanogpt = {"layers": 6, "heads": 6, "width": 384, "block_size": 256}
    return [
        ("image (dcgan, 28x28)", "image", digits, {"arch": "dcgan"}, 64),
        ("vae (MNIST)", "vae", digits, {}, 128),
        ("video (motion U-Net)", "video", digits, {"sequences": 100_000}, 16),
        ("text (6x384, block 256)", "text", corpus, nanogpt, 12),
        ("music (LSTM)", "music", tunes, {}, 32),
    ]


def precisions(device: str) -> list[str]:
    if device.startswith("cuda"):
        return ["fp32", "bf16", "fp16"] if torch.cuda.is_bf16_supported() else ["fp32", "fp16"]
    from genkit.train.precision import cpu_bf16_is_faster

    return ["fp32", "bf16"] if cpu_bf16_is_faster() else ["fp32"]


def steps_per_second(
    name: str, data: Path, options: dict, batch: int, device: str, precision: str, steps: int
) -> float:
    """Training steps/s of ``name``'s task as `genkit train` steps it, on ``device`` (the fastest step)."""
    from genkit.registry import load_registry
    from genkit.train.loop import load_task

    task = load_task(load_registry().generators[name], data, dict(options), None)
    return 1 / seconds_per_step(task, precision, batch, steps, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps per generator and precision")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None, help="generator names to include (default: all)")
    args = parser.parse_args()
    wanted = set(args.only or [name for name, *_ in GENERATION])
    on_gpu = args.device.startswith("cuda")
    where = torch.cuda.get_device_name(args.device) if on_gpu else f"CPU, {torch.get_num_threads()} threads"
    print(f"## {args.device}: {where}, torch {torch.__version__}\n", flush=True)
    print("| generator | load + first item (s) | rate |\n| --- | ---: | ---: |", flush=True)
    for name, kwargs, unit, count in GENERATION:
        if name in wanted:
            rate, loaded = generation_rate(name, kwargs, count, args.device, args.repeats)
            print(f"| {name} | {loaded:.2f} | {rate:,.1f} {unit}/s |", flush=True)
    modes = precisions(args.device)
    print(
        f"\n| training (best of {args.steps} steps) | batch | "
        + " | ".join(f"{p} steps/s" for p in modes)
        + " |\n| --- | ---: |"
        + " ---: |" * len(modes),
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, name, data, options, batch in training_cases(Path(tmp)):
            if name in wanted:
                rates = [steps_per_second(name, data, options, batch, args.device, p, args.steps) for p in modes]
                print(f"| {label} | {batch} | " + " | ".join(f"{r:.2f}" for r in rates) + " |", flush=True)
    if on_gpu:
        print(f"\npeak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB", flush=True)


if __name__ == "__main__":
    main()
