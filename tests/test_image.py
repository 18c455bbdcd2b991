"""`genkit image`, `genkit train image` and `genkit eval image`, run as a user runs them."""

import gzip
import json
import struct

import numpy as np
import pytest
from conftest import DATA, REPO, assert_user_error, needs_data, run_genkit
from PIL import Image

SHIPPED = REPO / "plugins" / "genkit_image" / "weights" / "image-fashion.safetensors"
needs_weights = pytest.mark.skipif(not SHIPPED.exists(), reason="shipped image weights not trained yet")


def pixels(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("L"), dtype=np.int16)


def shapes(n_per_class=20, size=28, seed=0):
    """Three easy classes of 28x28 pictures: a bar, a ring, a square, with noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    out = {}
    for name in ("bar", "ring", "square"):
        pics = []
        for _ in range(n_per_class):
            cx, cy = rng.integers(10, 18, size=2)
            if name == "bar":
                mask = abs(xx - cx) < 3
            elif name == "ring":
                mask = abs(np.hypot(xx - cx, yy - cy) - 7) < 1.5
            else:
                mask = (abs(xx - cx) < 6) & (abs(yy - cy) < 6)
            pic = mask * 220 + rng.integers(0, 30, size=(size, size))
            pics.append(pic.clip(0, 255).astype(np.uint8))
        out[name] = pics
    return out


def write_folder(root, size=28, odd_one=None):
    for name, pics in shapes().items():
        (root / name).mkdir(parents=True)
        for k, pic in enumerate(pics):
            im = Image.fromarray(pic)
            if size != 28:
                im = im.resize((size, size))
            im.save(root / name / f"{k:03d}.png")
    if odd_one:
        Image.new("L", odd_one).save(root / "bar" / "odd.png")
    return root


def write_idx(path, array, magic=None, cut=0):
    array = np.asarray(array, dtype=np.uint8)
    raw = (magic or bytes([0, 0, 8, array.ndim])) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    raw = raw[: len(raw) - cut]
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


def write_idx_set(root, n=30, labels_n=None, gz=True, **corrupt):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    ext = ".gz" if gz else ""
    for split in ("train", "t10k"):
        write_idx(root / f"{split}-images-idx3-ubyte{ext}", rng.integers(0, 255, (n, 28, 28)), **corrupt)
        write_idx(root / f"{split}-labels-idx1-ubyte{ext}", np.arange(labels_n or n) % 3)
    return root


def cut_gzip(root):
    """Chop the compressed train images file in half, as an interrupted download would."""
    path = root / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return root


def train(data, out, *extra, check=None):
    return run_genkit("train", "image", "--data", data, "--out", out, "--quiet", *extra, check=check)


# ---------------------------------------------------------------- generating with the shipped weights


@needs_weights
def test_n_images_grid_scale_and_class_are_written_and_recorded(tmp_path):
    proc = run_genkit(
        "image",
        "--n",
        "4",
        "--seed",
        "11",
        "--class",
        "sneaker",
        "--scale",
        "2",
        "-o",
        tmp_path / "out",
        "--grid",
        tmp_path / "grid.png",
        "--json",
        check=0,
    )
    manifest = json.loads(proc.stdout)
    files = [f["path"] for f in manifest["files"]]
    assert len(files) == 4 and all(f["class"] == "sneaker" for f in manifest["files"])
    for f in files:
        assert pixels(f).shape == (56, 56)  # 28x28 upscaled 2x
    assert pixels(manifest["grid"]).shape[0] >= 56
    assert len({pixels(f).tobytes() for f in files}) == 4  # four different images
    # a sneaker is wider than tall and dark at the top; a generated one should be too
    mean = np.mean([pixels(f) for f in files], axis=0)
    assert mean[:16].mean() < mean[32:48].mean()
    info = json.loads(run_genkit("inspect", files[0], "--json", check=0).stdout)
    assert info["class"] == "sneaker" and info["seed"] == 11


@needs_weights
def test_item_i_is_the_same_whatever_n_and_a_class_index_equals_its_name(tmp_path):
    run_genkit("image", "--n", "2", "--seed", "5", "--class", "bag", "-o", tmp_path / "a", check=0)
    run_genkit("image", "--n", "258", "--seed", "5", "--class", "8", "-o", tmp_path / "b", "--quiet", check=0)
    a, b = sorted((tmp_path / "a").glob("*.png")), sorted((tmp_path / "b").glob("*.png"))
    assert len(b) == 258  # two batches of the network
    for x, y in zip(a, b):
        assert np.array_equal(pixels(x), pixels(y))


@needs_weights
def test_lower_truncation_gives_less_varied_images(tmp_path):
    spread = {}
    for t in ("1.0", "0.1"):
        out = tmp_path / f"t{t.replace('.', '')}"
        run_genkit(
            "image", "--n", "24", "--seed", "9", "--class", "dress", "--truncation", t, "-o", out, "--quiet", check=0
        )
        stack = np.stack([pixels(p) for p in sorted(out.glob("*.png"))]).astype(float)
        spread[t] = stack.std(axis=0).mean()
    assert spread["0.1"] < 0.7 * spread["1.0"], spread


@needs_weights
def test_video_walks_through_the_image_latent_space(tmp_path):
    out = tmp_path / "walk.gif"
    run_genkit("video", "--source", "image", "--classes", "sneaker,bag", "--frames", "6", "-o", out, check=0)
    with Image.open(out) as im:
        assert im.n_frames == 6 and im.size == (28, 28)


MNIST_WEIGHTS = SHIPPED.with_name("image-mnist.safetensors")


@pytest.mark.skipif(not MNIST_WEIGHTS.exists(), reason="shipped MNIST image weights not trained yet")
def test_shipped_mnist_weights_are_picked_by_name_and_draw_the_asked_digit(tmp_path):
    torch = pytest.importorskip("torch")
    from genkit.imaging.ruler import EvalClassifier

    proc = run_genkit(
        "image",
        "--weights",
        "mnist",
        "--class",
        "7",
        "--n",
        "8",
        "--seed",
        "3",
        "-o",
        tmp_path / "d",
        "--json",
        check=0,
    )
    manifest = json.loads(proc.stdout)
    assert manifest["weights"] == "image-mnist.safetensors" and "--weights mnist" in manifest["command"]
    digits = [str(d) for d in range(10)]
    ruler = EvalClassifier(None, digits, torch.device("cpu"))  # the MNIST classifier, picked by class names
    images = np.stack([pixels(f["path"]) for f in manifest["files"]])
    _, predicted = ruler.run(torch.tensor(images, dtype=torch.float32)[:, None] / 127.5 - 1)
    assert sum(digits[p] == "7" for p in predicted) >= 7, predicted
    listed = json.loads(run_genkit("models", "--json", check=0).stdout)
    image = next(g for g in listed["generators"] if g["name"] == "image")
    assert image["weights"]["also_shipped"] == ["emoji", "mnist"]
    assert_user_error(
        run_genkit("image", "--weights", "mnist", "--class", "sneaker", "-o", tmp_path / "x"), "unknown class", "0", "9"
    )
    assert_user_error(run_genkit("image", "--weights", "digits", "-o", tmp_path / "x"), "not found", "fashion, mnist")
    assert not (tmp_path / "x").exists()


@needs_weights
@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--class", "shoe"], ["unknown class", "sneaker", "ankle-boot"]),
        (["--class", "10"], ["unknown class"]),
        (["--truncation", "0"], ["--truncation"]),
        (["--truncation", "1.5"], ["--truncation"]),
        (["--scale", "0"], ["--scale"]),
    ],
)
def test_bad_generation_options_are_one_line_errors(tmp_path, args, fragments):
    proc = run_genkit("image", *args, "-o", tmp_path / "x")
    assert_user_error(proc, *fragments)
    assert not (tmp_path / "x").exists()


@needs_weights
def test_an_unknown_class_is_refused_from_the_weights_header_before_the_model_loads(tmp_path):
    import torch

    from genkit import weights

    # A file with the shipped header but no usable tensors: loading it would fail, reading its header does not.
    husk = tmp_path / "husk.safetensors"
    weights.save_tensors({"nothing": torch.zeros(1)}, weights.metadata(SHIPPED), husk)
    assert_user_error(
        run_genkit("image", "--weights", husk, "--class", "shoe", "-o", tmp_path / "x"),
        "unknown class 'shoe'",
        "ankle-boot",
    )
    loaded = run_genkit("image", "--weights", husk, "--class", "boot", "-o", tmp_path / "x")
    assert (
        loaded.returncode != 0
        and "unknown class" not in loaded.stderr
        and "does not hold image weights" in loaded.stderr
    )
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- training and evaluation


def test_train_generate_and_eval_on_a_folder_of_classes_resized_from_56px(tmp_path):
    data = write_folder(tmp_path / "shapes", size=56)
    train(
        data, tmp_path / "cls", "--arch", "classifier", "--max-steps", "3", "--batch-size", "8", "--size", "28", check=0
    )
    train(data, tmp_path / "gan", "--max-steps", "3", "--batch-size", "8", "--no-eval", "--size", "28", check=0)
    for name in ("image.safetensors", "MODEL_CARD.md", "loss.png"):
        assert (tmp_path / "gan" / name).exists(), name
    weights = tmp_path / "gan" / "image.safetensors"
    proc = run_genkit(
        "image", "--weights", weights, "--class", "ring", "--n", "2", "-o", tmp_path / "img", "--json", check=0
    )
    assert [f["class"] for f in json.loads(proc.stdout)["files"]] == ["ring", "ring"]
    assert pixels(json.loads(proc.stdout)["files"][0]["path"]).shape == (28, 28)
    assert_user_error(
        run_genkit("image", "--weights", weights, "--class", "sneaker", "-o", tmp_path / "y"), "bar, ring, square"
    )
    classifier = tmp_path / "cls" / "image.safetensors"
    assert_user_error(run_genkit("image", "--weights", classifier, "-o", tmp_path / "x"), "classifier")
    # No shipped classifier knows bar/ring/square: eval trains one on the data (tests/test_colour.py); here
    # the one trained above is given.
    proc = run_genkit(
        "eval", "image", "--data", data, "--weights", weights, "--classifier", classifier, "--json", check=0
    )
    metrics = json.loads(proc.stdout)
    for key in (
        "fd_generated",
        "fd_real_train",
        "fd_ratio",
        "precision_k3",
        "recall_k3",
        "class_kl_from_uniform",
        "conditional_accuracy",
        "accuracy_ring",
    ):
        assert key in metrics, key
    assert 0 <= metrics["precision_k3"] <= 1 and metrics["fd_generated"] >= 0
    assert metrics["samples"] == 6  # 1 in 10 of each class of 20 is held out for test


def test_mlp_arch_trains_from_raw_idx_and_is_unconditional(tmp_path):
    data = write_idx_set(tmp_path / "idx", n=40, gz=False)
    train(data, tmp_path / "mlp", "--arch", "mlp", "--max-steps", "2", "--no-eval", check=0)
    weights = tmp_path / "mlp" / "image.safetensors"
    run_genkit("image", "--weights", weights, "--n", "3", "-o", tmp_path / "img", check=0)
    assert len(list((tmp_path / "img").glob("*.png"))) == 3
    assert_user_error(
        run_genkit("image", "--weights", weights, "--class", "1", "-o", tmp_path / "z"), "not class-conditional"
    )


@pytest.mark.parametrize(
    "make, fragments",
    [
        (lambda p: (p / "empty" / "sneaker").mkdir(parents=True) or p / "empty", ["no images"]),
        (lambda p: write_idx_set(p / "magic", magic=b"\x08\x03\x00\x00"), ["not an IDX file", "magic"]),
        (lambda p: write_idx_set(p / "cut", cut=100), ["truncated"]),
        (lambda p: cut_gzip(write_idx_set(p / "gzcut")), ["truncated", "gzip"]),
        (lambda p: write_idx_set(p / "count", labels_n=25), ["30 images", "25 labels"]),
        (lambda p: write_folder(p / "mixed", odd_one=(32, 32)), ["mixed sizes", "odd.png", "--mixed-sizes crop"]),
    ],
)
def test_bad_training_data_is_a_one_line_error(tmp_path, make, fragments):
    data = make(tmp_path)
    proc = train(data, tmp_path / "out", "--max-steps", "1", "--mixed-sizes", "refuse")
    assert_user_error(proc, *fragments)
    assert not (tmp_path / "out" / "image.safetensors").exists()


@needs_data("images/fashion-mnist/t10k-images-idx3-ubyte.gz")
def test_the_fashion_mnist_reader_gives_the_documented_split():
    import genkit_image.data as data

    test = data.load(DATA / "images" / "fashion-mnist", "test")
    assert test.images.shape == (10_000, 28, 28) and test.images.dtype == np.uint8
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert test.class_names[7] == "sneaker"


def test_eval_picks_the_shipped_classifier_trained_on_the_datas_classes():
    from genkit.imaging.ruler import shipped_classifier
    from genkit_image.data import FASHION_CLASSES

    assert shipped_classifier([str(d) for d in range(10)]).name == "classifier-mnist.safetensors"
    assert shipped_classifier(list(FASHION_CLASSES)).name == "classifier-fashion.safetensors"


def test_the_shipped_emoji_weights_draw_the_asked_category_in_64x64_colour(tmp_path):
    proc = run_genkit(
        "image",
        "--weights",
        "emoji",
        "--class",
        "Animals",
        "--n",
        "3",
        "--seed",
        "2",
        "-o",
        tmp_path / "e",
        "--json",
        check=0,
    )
    files = json.loads(proc.stdout)["files"]
    assert [f["class"] for f in files] == ["animals"] * 3
    with Image.open(files[0]["path"]) as im:
        assert im.size == (64, 64) and im.mode == "RGB"
        pixels = np.asarray(im).astype(int)
    assert np.abs(pixels[..., 0] - pixels[..., 2]).max() > 20  # colour, not grey in RGB
    assert_user_error(run_genkit("image", "--weights", "emoji", "--class", "sneaker", "-o", tmp_path / "x"), "smileys")
