"""The example plugin's own tests: genkit's conformance kit plus one behaviour of its own."""

import numpy as np
from PIL import Image

from genkit import testing


def test_hello_conforms_to_the_genkit_contract(tmp_path):
    testing.check_all("hello", tmp_path, args=["--size", "16"], bad_options=[["--size", "2"], ["--palette", "pink"]])


def test_palette_changes_the_colours(tmp_path):
    for palette in ("warm", "cool"):
        proc = testing.run("hello", "--palette", palette, "--seed", "3", "-o", tmp_path / f"{palette}.png")
        assert proc.returncode == 0, proc.stderr
    warm = np.asarray(Image.open(tmp_path / "warm.png")).astype(float)
    cool = np.asarray(Image.open(tmp_path / "cool.png")).astype(float)
    assert warm[..., 0].mean() > warm[..., 2].mean()  # red dominates a warm image
    assert cool[..., 2].mean() > cool[..., 0].mean()
