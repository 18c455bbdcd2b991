"""Speed of genkit's diffusion models: a training step in bf16 against fp32, and sampling images/s per step count.

One run prints:
  1. the shipped recipe's training step (the class-conditioned UNet of `genkit train diffusion`, through
     its own task and genkit's StepContext, as `genkit train` runs it) at 28x28 grey (Fashion-MNIST,
     batch 64) and 64x64 colour (emoji, batch 32): ms per step and images/s in fp32 and, where the CPU
     has bf16 (AVX512-BF16 or AMX), bf16, alternated so a busy moment hurts both; the bf16/fp32 ratio.
  2. sampling: images/s and CPU seconds per image at 1, 2, 4, 8, 16 and 50 steps for a batch of
     pictures (as `genkit eval` samples) and for one picture at a time (as `genkit diffusion` does, so
     picture k is the same whatever --n), in fp32 and bf16. Random weights: the speed does not depend on them.
Synthetic pictures stand in for the data (speed does not depend on the pixels).

Run: python bench/diffusion_speed.py [--steps 4] [--repeats 2] [--threads 2] [--batch 250]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from train_speed import seconds_per_step, write_colour, write_digits  # noqa: E402

from genkit.train.precision import cpu_has_bf16  # noqa: E402

STEP_COUNTS = (1, 2, 4, 8, 16, 50)


def task_for(folder: Path, options: dict):
    from genkit_diffusers.task import DiffusionTask

    return DiffusionTask(folder, options, None)


def training(args, tmp: Path, precisions: tuple[str, ...]) -> None:
    print("training step (genkit's StepContext, the shipped recipe)", flush=True)
    recipes = (
        ("UNet 28x28 grey, batch 64", write_digits(tmp / "digits"), 64),
        ("UNet 64x64 colour, batch 32", write_colour(tmp / "colour"), 32),
    )
    for label, folder, batch in recipes:
        best = {p: float("inf") for p in precisions}
        for _ in range(args.repeats):
            for p in precisions:  # alternated
                best[p] = min(best[p], seconds_per_step(task_for(folder, {}), p, batch, args.steps))
        rates = "   ".join(f"{p} {batch / t:6.1f} images/s ({t * 1000:5.0f} ms/step)" for p, t in best.items())
        extra = f"   bf16/fp32 {best['fp32'] / best['bf16']:.2f}x faster" if "bf16" in best else ""
        print(f"  {label:28} {rates}{extra}", flush=True)


def sampling(args, tmp: Path, precisions: tuple[str, ...]) -> None:
    from genkit_diffusers import sampling as sampler
    from genkit_diffusers import unet

    task = task_for(tmp / "digits", {})
    model = task.build_model().ema.eval()
    objective = task.config["objective"]
    print(f"sampling 28x28 grey (random weights, {objective}, {unet.SAMPLERS[objective][0]})", flush=True)
    for p in precisions:
        net = model.to(torch.bfloat16 if p == "bf16" else torch.float32)
        for steps in STEP_COUNTS:
            rates = []
            for count in (args.batch, 1):
                noise = torch.randn(count, 1, 28, 28)
                labels = torch.arange(count) % 10
                best = float("inf")
                for _ in range(args.repeats):
                    start, cpu = time.perf_counter(), time.process_time()
                    with torch.no_grad():
                        sampler.denoise(net, unet.sampling_scheduler(objective), noise, labels, steps)
                    wall, used = time.perf_counter() - start, time.process_time() - cpu
                    best = min(best, wall)
                rates.append(f"batch {count:4}: {count / best:8.1f} images/s, {used / count * 1000:7.2f} CPU ms/image")
            print(f"  {p} {steps:3} steps   " + "   ".join(rates), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    precisions = ("fp32", "bf16") if cpu_has_bf16() else ("fp32",)
    print(f"threads {args.threads}; bf16 instructions: {'yes' if cpu_has_bf16() else 'no (fp32 only)'}", flush=True)
    np.random.seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_training:
            training(args, Path(tmp), precisions)
        else:
            write_digits(Path(tmp) / "digits")
        sampling(args, Path(tmp), precisions)


if __name__ == "__main__":
    main()
