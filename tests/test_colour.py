"""Colour pictures at any size for `genkit train image|vae` on a user's own folder (issue 15)."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_user_error, run_genkit
from PIL import Image
from safetensors import safe_open

from genkit import weights as gk_weights

CLASSES = {"red disc": (220, 30, 30), "grün bar": (30, 190, 40), "blue square": (40, 40, 220)}
FAST = ["--max-steps", "3", "--batch-size", "8", "--quiet"]


def draw(name, colour, rng, size=32):
    yy, xx = np.mgrid[0:size, 0:size] * (32 / size)
    cx, cy = rng.integers(12, 20, 2)
    if "disc" in name or "ring" in name:
        mask = (xx - cx) ** 2 + (yy - cy) ** 2 < 36
    elif "bar" in name:
        mask = abs(xx - cx) < 3
    else:
        mask = (abs(xx - cx) < 6) & (abs(yy - cy) < 6)
    pic = np.full((size, size, 3), 255, np.uint8)
    pic[mask] = colour
    return pic


def write_colour(root, classes=CLASSES, per_class=20, size=32):
    """Class sub-folders of coloured shapes on white (RGB PNGs); names with spaces and non-ASCII letters."""
    rng = np.random.default_rng(0)
    for name, colour in classes.items():
        (root / name).mkdir(parents=True)
        for k in range(per_class):
            Image.fromarray(draw(name, colour, rng, size)).save(root / name / f"{k:02d}.png")
    return root


def config_of(path):
    return gk_weights.metadata(path)["config"]


def image_of(path):
    with Image.open(path) as im:
        return im.size, im.mode


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("colour")
    data = write_colour(root / "shapes")
    env = {"XDG_CACHE_HOME": str(root / "cache"), "OMP_NUM_THREADS": "1"}
    proc = run_genkit("train", "image", "--data", data, "--out", root / "run", "--width", "8", *FAST, env=env, check=0)
    return data, root / "run", env, proc


def test_a_folder_of_colour_classes_trains_writes_colour_and_eval_trains_its_own_classifier(colour_run, tmp_path):
    data, run, env, proc = colour_run
    assert "training one on the data's train split" in proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["metrics"]["classifier_trained_by_eval"] == 1.0
    assert "trained by eval on the data's own train split" in (run / "MODEL_CARD.md").read_text()
    cached = list(run.glob("eval-classifier-*.safetensors"))  # beside the run, not in the user's cache
    assert len(cached) == 1 and not (Path(env["XDG_CACHE_HOME"]) / "genkit" / "eval-classifiers").exists()
    out = run_genkit(
        "image", "--weights", run, "--class", "grün bar", "--n", "2", "-o", tmp_path / "img", "--json", check=0
    )
    files = json.loads(out.stdout)["files"]
    assert [f["class"] for f in files] == ["grün bar", "grün bar"]
    assert image_of(files[0]["path"]) == ((32, 32), "RGB")
    assert_user_error(run_genkit("image", "--weights", run, "--class", "sofa", "-o", tmp_path / "x"), "grün bar")
    proc = run_genkit("eval", "image", "--data", data, "--weights", run, "--json", env=env, check=0)
    assert "using the one trained earlier" in proc.stderr  # cached: not trained twice
    assert json.loads(proc.stdout)["classifier_trained_by_eval"] == 1.0
    loose = tmp_path / "loose.safetensors"  # weights outside a run: the classifier goes to the user's cache
    shutil.copy(run / "image.safetensors", loose)
    proc = run_genkit("eval", "image", "--data", data, "--weights", loose, "--json", env=env, check=0)
    assert "training one" in proc.stderr
    assert list((Path(env["XDG_CACHE_HOME"]) / "genkit" / "eval-classifiers").glob("*.safetensors"))


def test_video_walks_a_colour_model(colour_run, tmp_path):
    _, run, _, _ = colour_run
    # With --source, --weights names the walked generator's weights (here a run folder of image).
    proc = run_genkit(
        "video", "--source", "image", "--weights", run, "--frames", "8", "-o", tmp_path / "walk.gif", "--json", check=0
    )
    assert json.loads(proc.stdout)["weights"] == "image.safetensors"
    with Image.open(tmp_path / "walk.gif") as im:
        assert im.n_frames == 8 and im.size == (32, 32)
        im.seek(3)
        rgb = np.asarray(im.convert("RGB")).astype(int)
        assert (np.abs(rgb[..., 0] - rgb[..., 1]) > 30).any()  # colour, not grey
    proc = run_genkit("video", "--source", "imagez", "--weights", run, "-o", tmp_path / "x.gif")
    assert_user_error(proc, "--source imagez")


def test_size_option_and_unsupported_sizes(colour_run, tmp_path):
    data, _, env, _ = colour_run
    run_genkit(
        "train",
        "image",
        "--data",
        data,
        "--out",
        tmp_path / "s16",
        "--size",
        "16",
        "--width",
        "8",
        "--no-eval",
        *FAST,
        env=env,
        check=0,
    )
    run_genkit("image", "--weights", tmp_path / "s16", "--n", "1", "-o", tmp_path / "img", check=0)
    assert image_of(next((tmp_path / "img").glob("*.png"))) == ((16, 16), "RGB")
    for size in ("100", "5"):
        proc = run_genkit("train", "image", "--data", data, "--out", tmp_path / "bad", "--size", size, *FAST)
        assert_user_error(proc, f"--size {size}", "8, 14, 16, 28, 32, 56, 64, 112, 128")


def test_mixed_sizes_are_cropped_by_default_and_refused_on_request(tmp_path):
    data = write_colour(tmp_path / "mixed", classes={"red disc": (220, 30, 30), "blue square": (40, 40, 220)})
    Image.new("RGB", (60, 30), "yellow").save(data / "red disc" / "wide.png")  # 30 after the centre crop
    run_genkit("train", "image", "--data", data, "--out", tmp_path / "run", "--width", "8", "--no-eval", *FAST, check=0)
    run_genkit("image", "--weights", tmp_path / "run", "--n", "1", "-o", tmp_path / "img", check=0)
    assert image_of(next((tmp_path / "img").glob("*.png"))) == ((28, 28), "RGB")  # 30 rounds down to 28
    proc = run_genkit("train", "image", "--data", data, "--out", tmp_path / "r2", "--mixed-sizes", "refuse", *FAST)
    assert_user_error(proc, "mixed sizes", "wide.png")


def last_learning_rates(run):
    from genkit.train import checkpoint

    saved = checkpoint.load(run / "checkpoint.safetensors", "image")
    return [group["lr"] for opt in saved.meta["optimizers"] for group in opt["param_groups"]]


def test_a_cosine_learning_rate_falls_toward_a_tenth_and_resumes_where_it_was(tmp_path):
    data = write_colour(tmp_path / "shapes", classes={"red disc": (220, 30, 30), "blue square": (40, 40, 220)})
    tiny = ["--width", "8", "--batch-size", "8", "--quiet", "--no-eval"]
    run_genkit(
        "train",
        "image",
        "--data",
        data,
        "--out",
        tmp_path / "cos",
        "--max-steps",
        "2",
        "--lr-schedule",
        "cosine",
        *tiny,
        check=0,
    )
    # The schedule is part of the run: changing it on resume is refused; not repeating it keeps it.
    proc = run_genkit(
        "train",
        "image",
        "--data",
        data,
        "--out",
        tmp_path / "cos",
        "--resume",
        "--max-steps",
        "4",
        "--lr-schedule",
        "constant",
        *tiny,
    )
    assert_user_error(proc, "lr_schedule")
    run_genkit(
        "train", "image", "--data", data, "--out", tmp_path / "cos", "--resume", "--max-steps", "4", *tiny, check=0
    )
    last = 2e-4 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 3 / 4)))  # the rate of step 3 of 4
    assert last_learning_rates(tmp_path / "cos") == pytest.approx([last, last])  # G's and D's
    assert config_of(tmp_path / "cos" / "image.safetensors")["lr_schedule"] == "cosine"
    assert "--lr-schedule cosine" in (tmp_path / "cos" / "MODEL_CARD.md").read_text()
    run_genkit("train", "image", "--data", data, "--out", tmp_path / "flat", "--max-steps", "4", *tiny, check=0)
    assert last_learning_rates(tmp_path / "flat") == pytest.approx([2e-4, 2e-4])
    assert "lr_schedule" not in config_of(tmp_path / "flat" / "image.safetensors")


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--arch", "mlp", "--diffaugment"], ["--diffaugment", "dcgan only", "mlp"]),
        (["--arch", "classifier", "--lr-schedule", "cosine"], ["--lr-schedule", "dcgan or mlp only", "classifier"]),
        (["--arch", "classifier", "--width", "16"], ["--width", "dcgan only", "classifier"]),
    ],
)
def test_an_option_the_arch_does_not_use_is_refused_not_ignored(tmp_path, args, fragments):
    data = write_colour(tmp_path / "shapes", per_class=2)
    proc = run_genkit("train", "image", "--data", data, "--out", tmp_path / "run", *args, *FAST)
    assert_user_error(proc, *fragments)
    assert not (tmp_path / "run").exists()


def test_a_single_class_trains_an_unconditional_model_with_diffaugment(tmp_path):
    data = write_colour(tmp_path / "one", classes={"red disc": (220, 30, 30)})
    run_genkit(
        "train",
        "image",
        "--data",
        data,
        "--out",
        tmp_path / "run",
        "--width",
        "8",
        "--no-eval",
        "--diffaugment",
        *FAST,
        check=0,
    )
    card = (tmp_path / "run" / "MODEL_CARD.md").read_text()
    assert "--diffaugment" in card
    run_genkit("image", "--weights", tmp_path / "run", "--n", "1", "-o", tmp_path / "img", check=0)
    assert_user_error(
        run_genkit("image", "--weights", tmp_path / "run", "--class", "red disc", "-o", tmp_path / "x"),
        "not class-conditional",
    )


def _no_image(p):
    (p / "d" / "cats").mkdir(parents=True)
    (p / "d" / "cats" / "a.png").write_text("not a picture")
    return p / "d"


def _one_image(p):
    return write_colour(p / "d", classes={"red disc": (220, 30, 30)}, per_class=1)


def _tiny(p):
    return write_colour(p / "d", per_class=3, size=6)


def _bomb(p):
    data = write_colour(p / "d", per_class=3)
    Image.new("1", (20000, 20000)).save(data / "red disc" / "bomb.png")  # a few KB, 400 megapixels decoded
    return data


@pytest.mark.parametrize(
    "make, fragments",
    [
        (lambda p: (p / "d" / "cats").mkdir(parents=True) or p / "d", ["no images found"]),
        (_no_image, ["a.png", "not an image"]),
        (_one_image, ["1 training examples"]),
        (_tiny, ["6x6", "at least 8x8"]),
        (_bomb, ["bomb.png", "decompression bomb"]),
    ],
)
def test_bad_folders_are_one_line_errors(tmp_path, make, fragments):
    proc = run_genkit("train", "image", "--data", make(tmp_path), "--out", tmp_path / "out", *FAST)
    assert_user_error(proc, *fragments)
    assert not (tmp_path / "out" / "image.safetensors").exists()


def test_fine_tuning_adapts_the_classes_and_reads_other_pictures_at_the_start_weights_size(colour_run, tmp_path):
    _, run, env, _ = colour_run
    data = write_colour(tmp_path / "new", classes={"red disc": (220, 30, 30), "violet ring": (150, 40, 200)})
    proc = run_genkit(
        "train",
        "image",
        "--data",
        data,
        "--out",
        tmp_path / "ft",
        "--weights",
        run,
        "--no-eval",
        "--class-loss",
        "0.5",
        *FAST,
        env=env,
        check=0,
    )
    # The class loss is this run's choice (not the start's): in the config, and D has its class head.
    assert config_of(tmp_path / "ft" / "image.safetensors")["class_loss"] == 0.5
    assert "class_loss" not in config_of(run / "image.safetensors")
    with safe_open(tmp_path / "ft" / "checkpoint.safetensors", "pt") as ckpt:
        assert {"model.D.classify.weight", "model.D.classify.bias"} <= set(ckpt.keys())
    out = run_genkit(
        "image",
        "--weights",
        tmp_path / "ft",
        "--class",
        "violet ring",
        "--n",
        "1",
        "-o",
        tmp_path / "img",
        "--json",
        check=0,
    )
    assert image_of(json.loads(out.stdout)["files"][0]["path"]) == ((32, 32), "RGB")
    assert "Fine-tuned from image.safetensors" in (tmp_path / "ft" / "MODEL_CARD.md").read_text(), proc.stderr
    # Colour 32x32 pictures fine-tune the 28x28 grey shipped model at its own size and channels.
    run_genkit("train", "image", "--data", data, "--out", tmp_path / "grey", "--weights", "fashion", "--no-eval", *FAST)
    grey = config_of(tmp_path / "grey" / "image.safetensors")
    assert (grey["size"], grey["channels"], grey["class_names"]) == (28, 1, ["red disc", "violet ring"])


def test_vae_trains_on_colour_with_bits_per_dim_and_fine_tunes(colour_run, tmp_path):
    data, _, env, _ = colour_run
    eval_args = ["--eval-k", "8", "--eval-images", "6"]
    proc = run_genkit("train", "vae", "--data", data, "--out", tmp_path / "vae", *FAST, *eval_args, env=env, check=0)
    metrics = json.loads(proc.stdout)["metrics"]
    for key in ("test_bits_per_dim", "test_elbo_bits_per_dim", "baseline_pixel_categorical_bits_per_dim"):
        assert 0 < metrics[key] < 8.5, (key, metrics)
    run_genkit("vae", "--weights", tmp_path / "vae", "--n", "1", "-o", tmp_path / "img", check=0)
    assert image_of(next((tmp_path / "img").glob("*.png"))) == ((32, 32), "RGB")
    assert config_of(tmp_path / "vae" / "vae.safetensors")["decoder"] == "conv"  # colour: the conv decoder
    run_genkit(
        "train",
        "vae",
        "--data",
        data,
        "--out",
        tmp_path / "ft",
        "--weights",
        tmp_path / "vae",
        "--iwae-k",
        "3",
        "--no-eval",
        *FAST,
        env=env,
        check=0,
    )
    assert config_of(tmp_path / "ft" / "vae.safetensors")["iwae_k"] == 3
    assert "3-sample IWAE bound" in (tmp_path / "ft" / "MODEL_CARD.md").read_text()
    proc = run_genkit("train", "vae", "--data", data, "--out", tmp_path / "bad", "--weights", "mnist", *FAST)
    assert_user_error(proc, "28x28 grey", "32x32 colour")
