"""Sample quality against sampling steps for a genkit diffusion model, with what each step count costs.

For each step count (default 1, 2, 4, 8, 16, 50) it runs `genkit eval diffusion --eval-steps N` (the
numbers are genkit eval's own: FD ratio, precision, recall, conditional accuracy in the evaluation
classifier's features) and times, in this process, sampling alone: CPU seconds per picture in
batches of 64 (as eval samples) and one picture at a time (as `genkit diffusion` draws), fp32.
It prints a markdown table for the model card.

Run: python bench/diffusion_curve.py --data ../shared/data/images/fashion-mnist --weights fashion
     [--samples 1000] [--steps 1,2,4,8,16,50] [--threads 2] [--guidance 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import torch


def evaluate(args, steps: int) -> dict:
    command = [sys.executable, "-m", "genkit", "eval", "diffusion", "--data", args.data, "--weights", args.weights]
    command += ["--eval-steps", str(steps), "--eval-samples", str(args.samples), "--json", "--quiet"]
    command += ["--eval-guidance", str(args.guidance)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit(proc.stderr.strip())
    return json.loads(proc.stdout)


def cpu_per_picture(model, steps: int, count: int, objective: str, guidance: float = 1.0) -> float:
    """CPU seconds per picture for ``count`` pictures denoised together in ``steps`` steps."""
    from genkit_diffusers import sampling, unet

    config = model.config
    noise = torch.randn(count, config.in_channels, config.sample_size, config.sample_size)
    labels = torch.arange(count) % (config.num_class_embeds - 1) if config.num_class_embeds else None
    start = time.process_time()
    with torch.no_grad():
        sampling.denoise(model, unet.sampling_scheduler(objective), noise, labels, steps, guidance)
    return (time.process_time() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--weights", default="fashion")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--steps", default="1,2,4,8,16,50")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--guidance", type=float, default=1.0, help="classifier-free guidance (above 1: two passes a step)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from genkit_diffusers import SPEC, unet

    from genkit import lookup

    path, _ = lookup.resolve(SPEC, args.weights)
    loaded = unet.WEIGHTS.load(path, "cpu")
    print(f"{path.name}: {loaded.config.objective}, sampler {unet.SAMPLERS[loaded.config.objective][0]}, "
          f"{args.samples} pictures per point, guidance {args.guidance}, {args.threads} threads")  # fmt: skip
    print(
        "| steps | FD ratio | precision | recall | conditional accuracy | CPU s / picture (batch 64) | CPU s / picture (alone) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for steps in (int(s) for s in args.steps.split(",")):
        m = evaluate(args, steps)
        objective = loaded.config.objective
        batched = cpu_per_picture(loaded.module, steps, 64, objective, args.guidance)
        alone = min(cpu_per_picture(loaded.module, steps, 1, objective, args.guidance) for _ in range(3))
        accuracy = m.get("conditional_accuracy", float("nan"))
        print(
            f"| {steps} | {m['fd_ratio']:.2f} | {m['precision_k3']:.3f} | {m['recall_k3']:.3f} | {accuracy:.3f} "
            f"| {batched:.4f} | {alone:.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
