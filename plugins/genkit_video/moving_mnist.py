"""Moving MNIST, generated deterministically (Srivastava, Mansimov and Salakhutdinov 2015).

A sequence is ``FRAMES`` = 20 frames of a 64x64 black canvas on which two 28x28 MNIST digits
move with constant velocity, bounce off the edges, and combine by per-pixel maximum.

The generator, precisely (so anyone can rebuild the same sequences; docs/video.md repeats it):

- a sequence is named by a key of integers and draws everything from
  ``numpy.random.default_rng(list(key))`` (PCG64 seeded by the key), in this order:
  two digit indices ``rng.integers(0, len(digits), size=2)``; then for each of the two digits,
  ``y, x = rng.random(2)`` (start position as a fraction of the 36-pixel range 64 - 28) and
  ``theta = rng.random() * 2 * pi`` (direction; velocity ``(sin theta, cos theta)``).
- per frame, before drawing it: ``y += 0.1 * vy``, ``x += 0.1 * vx``; a coordinate that reaches
  0 or 1 is clamped there and its velocity component flips sign (a bounce). So a digit moves
  3.6 pixels a frame. Its top-left pixel is ``floor(36 * y), floor(36 * x)``.
- the frame is the per-pixel maximum of the two digits pasted at those places (uint8).

The test set is the sequences keyed ``(TEST_SEED, i)`` for i = 0..9,999 over the 10,000 MNIST test
digits; a smaller test count is a prefix of the full set. Training sequences use the MNIST training
digits and keys ``(TRAIN_SEED, step_seed, row)``, fresh at every step (task.py says how).
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from genkit.errors import GenkitError

SIZE, DIGIT, FRAMES = 64, 28, 20
STEP = 0.1  # fraction of the free range moved per frame
TRAIN_SEED, TEST_SEED = 2015, 42
TEST_SEQUENCES = 10_000
_IDX_NAMES = {"train": ("train-images-idx3-ubyte",), "test": ("t10k-images-idx3-ubyte", "test-images-idx3-ubyte")}


def _read_idx_images(path: Path) -> np.ndarray:
    """One IDX file of unsigned bytes with three dimensions (N, 28, 28), gzip or raw."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError) as exc:
        raise GenkitError(f"cannot read {path}: {exc}") from None
    if len(raw) < 16 or raw[:4] != b"\x00\x00\x08\x03":
        raise GenkitError(f"{path} is not an IDX file of images (magic {raw[:4].hex() or 'empty'})")
    n, rows, cols = struct.unpack(">3I", raw[4:16])
    if (rows, cols) != (DIGIT, DIGIT):
        raise GenkitError(f"{path} holds {rows}x{cols} images; Moving MNIST needs 28x28 digits")
    if len(raw) - 16 < n * rows * cols:
        raise GenkitError(f"{path} is truncated: {n} images announced, {(len(raw) - 16) // (rows * cols)} present")
    return np.frombuffer(raw, dtype=np.uint8, count=n * rows * cols, offset=16).reshape(n, rows, cols)


def load_digits(folder: Path, split: str) -> np.ndarray:
    """The MNIST digits of ``split`` ('train' or 'test') from an IDX folder, uint8 (N, 28, 28)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GenkitError(f"--data {folder}: expected a folder of MNIST IDX files")
    for name in _IDX_NAMES[split]:
        for candidate in (folder / f"{name}.gz", folder / name):
            if candidate.exists():
                return _read_idx_images(candidate)
    raise GenkitError(f"--data {folder}: no {_IDX_NAMES[split][0]}[.gz] file for the {split} digits")


def trajectory(rng: np.random.Generator, frames: int = FRAMES) -> np.ndarray:
    """Top-left pixel (row, col) of one bouncing digit for each frame, int (frames, 2)."""
    position = rng.random(2)
    theta = rng.random() * 2 * np.pi
    velocity = np.array([np.sin(theta), np.cos(theta)])
    places = np.empty((frames, 2), dtype=np.int64)
    for f in range(frames):
        position += STEP * velocity
        for axis in range(2):  # a bounce: clamp to the edge and reverse that component
            if position[axis] <= 0:
                position[axis], velocity[axis] = 0.0, -velocity[axis]
            if position[axis] >= 1:
                position[axis], velocity[axis] = 1.0, -velocity[axis]
        places[f] = np.floor(position * (SIZE - DIGIT))
    return places


def paste(digits: list[np.ndarray], places: list[np.ndarray], size: int = SIZE) -> np.ndarray:
    """Frames (F, size, size) uint8: each digit at its per-frame place, combined by maximum."""
    frames = np.zeros((len(places[0]), size, size), dtype=np.uint8)
    for digit, where in zip(digits, places):
        h, w = digit.shape
        for f, (top, left) in enumerate(where):
            window = frames[f, top : top + h, left : left + w]
            np.maximum(window, digit, out=window)
    return frames


def sequence(digits: np.ndarray, key: tuple[int, ...], frames: int = FRAMES) -> np.ndarray:
    """The sequence drawn from ``default_rng(list(key))``: uint8 (frames, 64, 64)."""
    rng = np.random.default_rng(list(key))
    chosen = rng.integers(0, len(digits), size=2)
    places = [trajectory(rng, frames) for _ in range(2)]
    return paste([digits[chosen[0]], digits[chosen[1]]], places)


def test_clips(digits: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Test sequences start..stop-1 (keys ``(TEST_SEED, i)``), uint8 (stop - start, 20, 64, 64)."""
    return np.stack([sequence(digits, (TEST_SEED, i)) for i in range(start, stop)])
