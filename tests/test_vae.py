"""`genkit vae`: samples, reconstructions, interpolations, training and the likelihood eval."""

import gzip
import json
import struct

import numpy as np
import pytest
from conftest import assert_user_error, needs_data, run_genkit
from PIL import Image


def write_idx(folder, prefix, images, labels):
    folder.mkdir(parents=True, exist_ok=True)
    n = len(images)
    with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(struct.pack(">IIII", 0x803, n, 28, 28) + images.astype(np.uint8).tobytes())
    with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as fh:
        fh.write(struct.pack(">II", 0x801, n) + labels.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A VAE trained for a few steps on synthetic digit-like blobs in MNIST's IDX format."""
    root = tmp_path_factory.mktemp("vae")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:28, 0:28]

    def blobs(count):
        centres = rng.uniform(8, 20, size=(count, 2))
        return np.stack([255 * (((yy - cy) ** 2 + (xx - cx) ** 2) < 30) for cy, cx in centres])

    write_idx(root / "data", "train", blobs(512), rng.integers(0, 10, 512))
    write_idx(root / "data", "t10k", blobs(64), rng.integers(0, 10, 64))
    run_genkit(
        "train",
        "vae",
        "--data",
        root / "data",
        "--out",
        root / "run",
        "--max-steps",
        "40",
        "--quiet",
        "--eval-k",
        "20",
        "--eval-images",
        "16",
        check=0,
        env={"OMP_NUM_THREADS": "1"},
    )
    return root / "run" / "vae.safetensors", root / "data"


def test_training_reports_elbo_and_importance_sampled_nll(tiny_weights):
    weights, data = tiny_weights
    proc = run_genkit(
        "eval", "vae", "--data", data, "--weights", weights, "--eval-k", "50", "--eval-images", "16", "--json", check=0
    )
    metrics = json.loads(proc.stdout)
    assert metrics["test_images"] == 16
    # The importance-sampled bound is tighter than the ELBO: -NLL >= ELBO (up to sampling noise).
    assert metrics["test_nll_nats_k50"] <= -metrics["test_elbo_nats"] + 1.0


def test_samples_are_28x28_grey_pngs_and_reproducible(tiny_weights, tmp_path):
    weights, _ = tiny_weights
    for name in ("a", "b"):
        run_genkit("vae", "--weights", weights, "--n", "3", "--seed", "4", "-o", tmp_path / name, check=0)
    a, b = sorted((tmp_path / "a").iterdir()), sorted((tmp_path / "b").iterdir())
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert Image.open(a[0]).size == (28, 28) and Image.open(a[0]).mode == "L"


def test_reconstruct_writes_each_input_beside_its_reconstruction(tiny_weights, tmp_path):
    weights, _ = tiny_weights
    Image.new("RGB", (100, 60), "white").save(tmp_path / "light.png")  # other size and mode: converted
    disc = np.zeros((28, 28), np.uint8)
    disc[10:18, 10:18] = 255
    Image.fromarray(disc).save(tmp_path / "square.png")
    run_genkit(
        "vae",
        "--weights",
        weights,
        "--reconstruct",
        tmp_path / "light.png",
        tmp_path / "square.png",
        "-o",
        tmp_path / "rec_{i}.png",
        check=0,
    )
    pair = np.asarray(Image.open(tmp_path / "rec_1.png"))
    assert pair.shape == (28, 56)
    assert np.array_equal(pair[:, :28], disc)  # the left half is the input as read


def test_interpolate_writes_a_gif_with_the_asked_frames(tiny_weights, tmp_path):
    weights, _ = tiny_weights
    run_genkit("vae", "--weights", weights, "--interpolate", "--frames", "12", "-o", tmp_path / "walk.gif", check=0)
    with Image.open(tmp_path / "walk.gif") as im:
        assert im.n_frames == 12 and im.size == (28, 28)


def test_bad_vae_input_is_a_user_error(tiny_weights, tmp_path):
    weights, _ = tiny_weights
    w = ["--weights", weights]
    (tmp_path / "notes.png").write_text("not an image")
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(good)
    noisy = tmp_path / "noisy.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (200, 200), dtype=np.uint8)).save(noisy)
    (tmp_path / "cut.png").write_bytes(noisy.read_bytes()[: noisy.stat().st_size // 2])  # header intact, data cut
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(bomb)  # a few KB on disk, 400 megapixels decoded
    cases = [
        (["--reconstruct", tmp_path / "missing.png"], "not found"),
        (["--reconstruct", tmp_path / "notes.png"], "not an image"),
        (["--reconstruct", tmp_path / "cut.png"], "truncated"),
        (["--reconstruct", bomb], "pixels"),
        (["--reconstruct"], "at least one"),
        (["--interpolate", "--frames", "1", "-o", tmp_path / "w.gif"], "--frames"),
        (["--interpolate", "--frames", "5000", "-o", tmp_path / "w.gif"], "--frames"),
        (["--interpolate", "-o", tmp_path / "w.png"], ".gif"),
        (["--from", good, "-o", tmp_path / "w.gif"], "--to"),
    ]
    for args, fragment in cases:
        assert_user_error(run_genkit("vae", *w, *args, cwd=tmp_path), fragment)
    assert not (tmp_path / "w.gif").exists()


@needs_data("images/mnist/train-images-idx3-ubyte.gz")
def test_shipped_weights_sample_without_a_weights_flag(tmp_path):
    proc = run_genkit("vae", "--n", "2", "-o", tmp_path, "--json")
    if proc.returncode == 1 and "missing" in proc.stderr:
        pytest.skip("shipped VAE weights not trained yet")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["files"]) == 2


def test_the_shipped_emoji_weights_write_64x64_colour(tmp_path):
    proc = run_genkit("vae", "--weights", "emoji", "--n", "2", "--seed", "3", "-o", tmp_path / "e", "--json", check=0)
    files = [f["path"] for f in json.loads(proc.stdout)["files"]]
    with Image.open(files[0]) as im:
        assert im.size == (64, 64) and im.mode == "RGB"
        pixels = np.asarray(im).astype(int)
    assert np.abs(pixels[..., 0] - pixels[..., 2]).max() > 20  # colour, not grey in RGB
