"""Startup cost of the CLI, as ratios against Python itself and against importing torch.

Run: python bench/startup.py [--runs 7]. Prints the median wall time of each command and ratios
measured in this one run (the machine is noisy: compare ratios, not seconds). Besides the commands
that never load a model: a whole run of a torch-free generator (`genkit hello`, uses_torch=False)
and a mistake an option validator refuses before the model loads (`genkit music --key H`, exit 2).
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRATCH = Path(tempfile.mkdtemp(prefix="genkit-startup-"))

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "genkit --help": [sys.executable, "-m", "genkit", "--help"],
    "genkit plugins": [sys.executable, "-m", "genkit", "plugins"],
    "genkit models": [sys.executable, "-m", "genkit", "models"],
    "genkit hello (a whole run)": [
        sys.executable,
        "-m",
        "genkit",
        "hello",
        "--seed",
        "1",
        "--quiet",
        "--overwrite",
        "-o",
        str(SCRATCH / "h.png"),
    ],
    "genkit music --key H": [sys.executable, "-m", "genkit", "music", "--key", "H", "-o", str(SCRATCH / "t.mid")],
}
EXIT_CODES = {"genkit music --key H": 2}  # refused, as it should be


def median_seconds(name, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        code = subprocess.run(COMMANDS[name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        times.append(time.perf_counter() - start)
        if code != EXIT_CODES.get(name, 0):
            raise SystemExit(f"{name} exited {code}")
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for cmd in COMMANDS.values():  # warm the file cache once
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {name: median_seconds(name, args.runs) for name in COMMANDS}
    base, torch_time = results["python -c pass"], results["python -c 'import torch'"]
    print(f"{'command':28} {'median s':>9} {'/ python':>9} {'/ torch':>8}")
    for name, seconds in results.items():
        print(f"{name:28} {seconds:9.3f} {seconds / base:9.2f} {seconds / torch_time:8.3f}")
    print(
        f"\ngenkit --help is {torch_time / results['genkit --help']:.1f}x faster than importing torch "
        f"(target: at least 5x, i.e. ratio <= 0.2)"
    )


if __name__ == "__main__":
    main()
