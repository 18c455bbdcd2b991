"""`genkit vae --n 16` end to end against `python -c "import torch"`, and the k=5000 likelihood cost.

Run: python bench/vae_speed.py [--runs 5] [--nll-images 200]. Ratios are from this one run.
The full-test-set figure is extrapolated from --nll-images images (the real full run's time is
in the model card as nll_seconds).
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time


def seconds(cmd) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def interleaved_medians(a, b, runs) -> tuple[float, float]:
    """Median wall times of commands a and b, run alternately so that drift in the machine's load
    falls on both (the team's machines are shared), after one warm-up run of each."""
    seconds(a), seconds(b)
    pairs = [(seconds(a), seconds(b)) for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--nll-images", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        torch_s, vae_s = interleaved_medians(
            [sys.executable, "-c", "import torch"],
            [sys.executable, "-m", "genkit", "vae", "--n", "16", "-o", tmp, "--overwrite", "--seed", "1"],
            args.runs,
        )
    print(f"python -c 'import torch'  {torch_s:.3f} s")
    print(f"genkit vae --n 16         {vae_s:.3f} s   ratio {vae_s / torch_s:.2f} (target <= 1.4)")

    import torch

    from genkit import weights
    from genkit.registry import load_registry
    from genkit.weights import default_weights_path
    from genkit_vae.model import VAE, VAEConfig

    path = default_weights_path(load_registry().get("vae"))
    tensors, meta = weights.load_tensors(path)
    model = VAE(VAEConfig(**meta["config"])).eval()
    model.load_state_dict(tensors)
    x = torch.bernoulli(torch.rand(args.nll_images, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
    start = time.perf_counter()
    for i in range(0, len(x), 20):
        model.nll(x[i : i + 20], k=5000)
    nll_s = time.perf_counter() - start
    print(
        f"k=5000 NLL on {args.nll_images} images: {nll_s:.1f} s -> full 10,000-image test set about "
        f"{nll_s * 10000 / args.nll_images / 60:.1f} min (target < 10 min) with {torch.get_num_threads()} threads"
    )


if __name__ == "__main__":
    main()
