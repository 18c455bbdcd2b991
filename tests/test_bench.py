"""bench/gpu.py waits for a session with a GPU; this keeps it runnable (on the CPU, one generator)."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def test_gpu_bench_runs_on_the_cpu_and_prints_its_tables(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "gpu.py"),
            "--device",
            "cpu",
            "--only",
            "vae",
            "--steps",
            "1",
            "--repeats",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    generated = re.search(r"^\| vae \| ([\d.]+) \| ([\d,.]+) images/s \|$", proc.stdout, re.M)
    trained = re.search(r"^\| vae \(MNIST\) \| 128 \| ([\d.]+) \|", proc.stdout, re.M)
    assert generated and trained, proc.stdout
    assert float(generated.group(2).replace(",", "")) > 0 and float(trained.group(1)) > 0
    assert "| image |" not in proc.stdout  # --only keeps to the generators asked for
