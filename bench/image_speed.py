"""Speed and memory of `genkit image`, as ratios measured in this one run.

Run: python bench/image_speed.py [--runs 5] [--big 20000] [--weights W]   (--weights emoji: 64x64 colour)

- end to end: median wall time of `genkit image --n 16` over `python -c "import torch"` (target <= 1.4x
  for the 28x28 default, <= 1.3x for `--weights emoji`)
- throughput: images/s of the generator on one batch of 1024 latents (CPU unless $GENKIT_DEVICE), at
  the weights' size
- memory: peak RSS of `genkit image --n 20000` over that of `--n 16` (target <= 1.3x): images are
  generated and written in batches, so the big run must not hold them all.
The machine is shared and noisy: compare the ratios, not the seconds.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_measured(cmd) -> tuple[float, int]:
    """(wall seconds, peak RSS in bytes) of one child process, from wait4's own accounting."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed: {child.stderr.read().decode()}")
    return seconds, usage.ru_maxrss * 1024  # Linux reports kilobytes


def genkit_image(n, out, weights):
    extra = ["--weights", weights] if weights else []
    return [sys.executable, "-m", "genkit", "image", "--n", str(n), "--seed", "1", "-o", str(out), "--quiet", *extra]


def throughput(weights_arg, batch=1024, repeats=3) -> float:
    import torch

    from genkit import device as devices
    from genkit import lookup
    from genkit.registry import load_registry
    from genkit_image.generator import ImageGenerator

    path, _ = lookup.resolve(load_registry().get("image"), weights_arg)
    gen = ImageGenerator(devices.resolve_device(None), path)
    latents = gen.sample_latents(range(batch))
    classes = torch.arange(batch) % len(gen.class_names) if gen.class_names else None
    gen.decode(latents, classes)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        gen.decode(latents, classes)
    return batch * repeats / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big", type=int, default=20_000)
    parser.add_argument("--weights", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        torch_cmd = [sys.executable, "-c", "import torch"]
        run_measured(torch_cmd)  # warm the file cache
        torch_s = statistics.median(run_measured(torch_cmd)[0] for _ in range(args.runs))
        small = [run_measured(genkit_image(16, tmp / f"s{k}", args.weights)) for k in range(args.runs)]
        small_s = statistics.median(s for s, _ in small)
        small_rss = max(r for _, r in small)
        big_s, big_rss = run_measured(genkit_image(args.big, tmp / "big", args.weights))
        written = len(list((tmp / "big").glob("*.png")))
    rate = throughput(args.weights)
    print(f"python -c 'import torch'      {torch_s:7.3f} s")
    target = "1.3x" if args.weights else "1.4x"
    print(f"genkit image --n 16           {small_s:7.3f} s   ratio {small_s / torch_s:.2f}x   (target <= {target})")
    print(f"generator throughput, batch 1024: {rate:,.0f} images/s ({args.weights or 'default'} weights)")
    print(
        f"genkit image --n {args.big}       {big_s:7.1f} s   {written} files, {written / big_s:,.0f} images/s end to end"
    )
    print(
        f"peak RSS --n 16 {small_rss / 2**20:.0f} MiB, --n {args.big} {big_rss / 2**20:.0f} MiB: "
        f"ratio {big_rss / small_rss:.2f}x   (target <= 1.3x)"
    )


if __name__ == "__main__":
    main()
