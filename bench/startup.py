"""Startup cost of the CLI, as ratios against Python itself and against importing torch.

Run: python bench/startup.py [--runs 7]. Prints the median wall time of each command and ratios
measured in this one run (the machine is noisy: compare ratios, not seconds).
"""

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "genkit --help": [sys.executable, "-m", "genkit", "--help"],
    "genkit plugins": [sys.executable, "-m", "genkit", "plugins"],
    "genkit models": [sys.executable, "-m", "genkit", "models"],
}


def median_seconds(cmd, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for cmd in COMMANDS.values():  # warm the file cache once
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {name: median_seconds(cmd, args.runs) for name, cmd in COMMANDS.items()}
    base, torch_time = results["python -c pass"], results["python -c 'import torch'"]
    print(f"{'command':28} {'median s':>9} {'/ python':>9} {'/ torch':>8}")
    for name, seconds in results.items():
        print(f"{name:28} {seconds:9.3f} {seconds / base:9.2f} {seconds / torch_time:8.3f}")
    print(f"\ngenkit --help is {torch_time / results['genkit --help']:.1f}x faster than importing torch "
          f"(target: at least 5x, i.e. ratio <= 0.2)")


if __name__ == "__main__":
    main()
