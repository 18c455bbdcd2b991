"""bench/grid_spectrum.py: it finds a period-2 and period-4 grid where there is one, and not where there is none."""

import json
import subprocess
import sys

import numpy as np
from conftest import REPO
from PIL import Image

BENCH = REPO / "bench" / "grid_spectrum.py"
SIDE = 32


def smooth_pictures(rng, count):
    """Colour pictures of blurred noise (a spectrum falling smoothly with frequency), float in [0, 1]."""
    noise = rng.standard_normal((count, SIDE, SIDE, 3))
    for axis in (1, 2):  # a [1, 4, 1] blur twice along each axis, wrapping round: a third left at N/2
        for _ in range(2):
            noise = (np.roll(noise, 1, axis) + 4 * noise + np.roll(noise, -1, axis)) / 6
    return 0.5 + 0.15 * noise / noise.std()


def write_folder(folder, pictures):
    folder.mkdir()
    for i, x in enumerate(pictures):
        Image.fromarray(np.clip(np.round(x * 255), 0, 255).astype(np.uint8)).save(folder / f"p{i:03d}.png")
    return folder


def bench(*args):
    proc = subprocess.run([sys.executable, str(BENCH), *map(str, args), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    return report, {row["feature"]: row["ratio"] for row in report["peaks"]}


def test_a_checkerboard_and_period_4_stripes_are_found_and_a_second_real_set_is_not(tmp_path):
    rng = np.random.default_rng(0)
    real = write_folder(tmp_path / "real", smooth_pictures(rng, 40))
    same = write_folder(tmp_path / "same", smooth_pictures(rng, 40))
    rows, cols = np.indices((SIDE, SIDE))
    grid = 0.04 * (-1.0) ** (rows + cols) + 0.08 * np.cos(np.pi * cols / 2)  # period 2 both ways, period 4 across
    gridded = write_folder(tmp_path / "grid", smooth_pictures(rng, 40) + grid[None, :, :, None])

    report, floor = bench("--folder", same, "--real", real)
    assert report["pictures"] == 40 and report["real"] == 40
    assert all(0.67 < r < 1.5 for r in floor.values()), floor
    _, found = bench("--folder", gridded, "--real", real)
    assert found["point (N/2, N/2)"] > 3 and found["col N/4"] > 2, found
    assert found["row N/4"] < 1.5 and found["row N/2"] < 1.5, found  # the lines leave out the crossing bins


def test_pictures_come_from_a_genkit_command_too(tmp_path):
    real = write_folder(tmp_path / "real", smooth_pictures(np.random.default_rng(1), 8))
    kept = tmp_path / "made"
    report, ratios = bench("--generate", f"hello --size {SIDE}", "--n", 5, "--real", real, "--keep", kept)
    assert report["pictures"] == 5 and len(list(kept.rglob("*.png"))) == 5
    assert set(ratios) == {f"{line} N/{p}" for line in ("row", "col") for p in (2, 4)} | {
        f"point (N/{p}, N/{p})" for p in (2, 4)
    }
