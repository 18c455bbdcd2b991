"""`genkit video` with the motion model: Moving MNIST data, new clips, primers, training and eval."""

import json

import numpy as np
import pytest
from conftest import DATA, assert_user_error, needs_data, run_genkit
from PIL import Image

torch = pytest.importorskip("torch")

MNIST = DATA / "images" / "mnist"


def tiny_weights(path, channels=8):
    """A small untrained motion model saved as genkit train would: enough to exercise every path."""
    from genkit import weights
    from genkit_video.motion import MotionConfig, MotionNet

    cfg = MotionConfig(channels=channels, blocks=1)
    torch.manual_seed(0)
    weights.save_tensors(MotionNet(cfg).state_dict(), {"generator": "video", "config": cfg.__dict__}, path)
    return path


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return tiny_weights(tmp_path_factory.mktemp("weights") / "tiny.safetensors")


def frames_of(path):
    with Image.open(path) as im:
        out = []
        for k in range(im.n_frames):
            im.seek(k)
            out.append(np.asarray(im.convert("L")))
        return out


def write_gif(path, frames, mode="L"):
    images = [Image.fromarray(f).convert(mode) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=80, loop=0)
    return path


def moving_square(count, size=64, step=(2, 3)):
    """A bright 8x8 square moving at constant velocity, uint8 frames."""
    frames = np.zeros((count, size, size), dtype=np.uint8)
    for f in range(count):
        top, left = 10 + f * step[0], 5 + f * step[1]
        frames[f, top : top + 8, left : left + 8] = 255
    return frames


# ---------------------------------------------------------------- the data


def test_moving_mnist_is_deterministic_bounces_and_combines_by_maximum():
    from genkit_video import moving_mnist as mm

    digits = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    a, b = mm.sequence(digits, (7, 3)), mm.sequence(digits, (7, 3))
    assert a.shape == (20, 64, 64) and a.dtype == np.uint8 and np.array_equal(a, b)
    assert not np.array_equal(a, mm.sequence(digits, (7, 4)))
    places = mm.trajectory(np.random.default_rng(1), 200)
    assert places.min() >= 0 and places.max() <= 36  # the digit never leaves the canvas
    steps = np.abs(np.diff(places, axis=0)).max(1)
    assert steps.max() <= 4 and np.median(np.hypot(*np.diff(places, axis=0).T)) > 2.5  # 3.6 px a frame
    one = mm.paste([digits[0]], [places[:1]])[0]
    both = mm.paste([digits[0], digits[1]], [places[:1], places[:1]])[0]
    top, left = places[0]
    assert np.array_equal(both[top : top + 28, left : left + 28], np.maximum(digits[0], digits[1]))
    assert np.array_equal(one[top : top + 28, left : left + 28], digits[0])


def test_training_rows_do_not_depend_on_how_the_batch_is_split_among_processes():
    from genkit_video.task import step_sequences

    digits = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    whole = step_sequences(digits, 99, 0, 4)
    halves = torch.cat([step_sequences(digits, 99, 0, 2), step_sequences(digits, 99, 2, 2)])
    assert torch.equal(whole, halves) and not torch.equal(whole, step_sequences(digits, 100, 0, 4))


# ---------------------------------------------------------------- model and scores


def test_the_model_rolls_forward_any_number_of_frames_in_unit_range():
    from genkit_video.motion import MotionConfig, MotionNet

    model = MotionNet(MotionConfig(channels=8, blocks=1)).eval()
    out = model.rollout(torch.rand(2, 10, 64, 64), 23)
    assert out.shape == (2, 23, 64, 64) and out.min() >= 0 and out.max() <= 1


def test_the_linear_baseline_is_exact_on_constant_motion_and_copy_last_is_not():
    from genkit_video import scores

    clip = torch.from_numpy(moving_square(15)).float()[None] / 255
    past, future = clip[:, :10], clip[:, 10:]
    assert scores.squared_error_per_frame(scores.linear_motion(past, 5), future).max() == 0
    assert scores.squared_error_per_frame(scores.copy_last(past, 5), future).min() > 0
    assert torch.allclose(scores.ssim_per_frame(future, future), torch.ones(1, 5))
    assert scores.ssim_per_frame(scores.copy_last(past, 5), future).max() < 0.9


# ---------------------------------------------------------------- making and continuing clips


def test_a_new_clip_has_the_asked_frames_and_the_same_seed_gives_the_same_file(tmp_path, model_file):
    for name in ("a", "b"):
        run_genkit("video", "--weights", model_file, "--seed", "3", "-o", tmp_path / f"{name}.gif", check=0)
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()
    frames = frames_of(tmp_path / "a.gif")
    assert len(frames) == 20 and frames[0].shape == (64, 64)
    run_genkit(
        "video",
        "--weights",
        model_file,
        "--frames",
        "5",
        "--with-context",
        "--scale",
        "2",
        "-o",
        tmp_path / "c.gif",
        check=0,
    )
    frames = frames_of(tmp_path / "c.gif")
    assert len(frames) == 15 and frames[0].shape == (128, 128)
    assert frames[0].max() > 100  # the context frames hold the GAN's digits


def test_a_primer_gif_or_png_folder_is_continued_and_provenance_is_inspectable(tmp_path, model_file):
    clip = moving_square(12)
    write_gif(tmp_path / "in.gif", clip)
    folder = tmp_path / "pngs"
    folder.mkdir()
    for k, frame in enumerate(clip):  # natural order: frame_2 before frame_10
        Image.fromarray(frame).save(folder / f"frame_{k}.png")
    for primer, out in ((tmp_path / "in.gif", "g.gif"), (folder, "f.gif")):
        run_genkit("video", "--weights", model_file, "--primer", primer, "--frames", "7", "-o", tmp_path / out, check=0)
        assert len(frames_of(tmp_path / out)) == 7
    assert (tmp_path / "g.gif").read_bytes() != b""
    assert frames_of(tmp_path / "g.gif")[0].tolist() == frames_of(tmp_path / "f.gif")[0].tolist()
    proc = run_genkit("inspect", tmp_path / "g.gif", check=0)
    assert "video" in proc.stdout and "primer" in proc.stdout


def test_colour_and_16_bit_primers_read_as_their_grey_levels(tmp_path):
    from genkit_video.primer import read_primer

    clip = moving_square(10)
    grey = read_primer(write_gif(tmp_path / "grey.gif", clip), 10, 64)
    red = np.zeros(clip.shape + (3,), dtype=np.uint8)
    red[..., 0] = clip  # pure red: ITU-R 601 luma keeps 0.299 of it
    write_gif(tmp_path / "red.gif", red, mode="RGB")
    assert np.allclose(read_primer(tmp_path / "red.gif", 10, 64), grey * 0.299, atol=0.02)
    folder = tmp_path / "deep"
    folder.mkdir()
    for k, frame in enumerate(clip.astype(np.uint16) * 257):  # 16-bit: 65535 is white, not clipped at 255
        Image.fromarray(frame).save(folder / f"{k:03d}.png")
    assert np.allclose(read_primer(folder, 10, 64), grey, atol=1e-3)


def test_a_10000_frame_primer_is_read_in_bounded_memory_and_its_last_frames_kept(tmp_path):
    import tracemalloc

    from genkit_video.primer import read_primer

    frames = [np.full((8, 8), k % 100, dtype=np.uint8) for k in range(10_000)]
    write_gif(tmp_path / "long.gif", frames)
    tracemalloc.start()
    kept = read_primer(tmp_path / "long.gif", 10, 64)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20e6  # all 10,000 frames at 64x64 float would be 164 MB
    assert np.allclose(kept[:, 0, 0] * 255, [k % 100 for k in range(9990, 10_000)], atol=1)


@pytest.mark.parametrize(
    "make, args, fragments",
    [
        (
            lambda p: Image.fromarray(moving_square(1)[0]).save(p / "still.png") or p / "still.png",
            [],
            ["still image", "at least 10"],
        ),
        (lambda p: write_gif(p / "short.gif", moving_square(4)), [], ["4 frames", "at least 10"]),
        (lambda p: (p / "notes.gif").write_text("not a picture") and p / "notes.gif", [], ["not an image"]),
        (lambda p: p / "missing.gif", [], ["no such file"]),
        (lambda p: write_gif(p / "ok.gif", moving_square(10)), ["--frames", "0"], ["--frames"]),
        (lambda p: write_gif(p / "ok.gif", moving_square(10)), ["--frames", "201"], ["at most 200"]),
        (lambda p: write_gif(p / "ok.gif", moving_square(10)), ["--source", "hello"], ["--primer", "--source"]),
    ],
)
def test_bad_primers_and_frame_counts_are_one_line_errors(tmp_path, model_file, make, args, fragments):
    primer = make(tmp_path)
    proc = run_genkit("video", "--weights", model_file, "--primer", primer, *args, "-o", tmp_path / "out.gif")
    assert_user_error(proc, *fragments)
    assert not (tmp_path / "out.gif").exists()


def test_a_primer_folder_with_mixed_frame_sizes_is_refused(tmp_path, model_file):
    for k, side in enumerate((64, 64, 32)):
        Image.fromarray(np.zeros((side, side), dtype=np.uint8)).save(tmp_path / f"f{k}.png")
    proc = run_genkit("video", "--weights", model_file, "--primer", tmp_path, "-o", tmp_path / "out.gif")
    assert_user_error(proc, "differ in size", "f2.png")


def test_walk_options_without_a_source_are_named(tmp_path, model_file):
    proc = run_genkit("video", "--weights", model_file, "--classes", "3,7", "-o", tmp_path / "out.gif")
    assert_user_error(proc, "--classes", "--source")


def test_an_mp4_primer_is_read_when_pyav_is_installed(tmp_path, model_file):
    pytest.importorskip("av")
    run_genkit("video", "--source", "hello", "--frames", "12", "-o", tmp_path / "in.mp4", check=0)
    run_genkit(
        "video",
        "--weights",
        model_file,
        "--primer",
        tmp_path / "in.mp4",
        "--frames",
        "3",
        "-o",
        tmp_path / "out.gif",
        check=0,
    )
    assert len(frames_of(tmp_path / "out.gif")) == 3


# ---------------------------------------------------------------- training and evaluation


@needs_data("images/mnist/train-images-idx3-ubyte.gz")
def test_train_then_eval_report_the_model_and_both_baselines(tmp_path):
    run = tmp_path / "run"
    proc = run_genkit(
        "train",
        "video",
        "--data",
        MNIST,
        "--channels",
        "8",
        "--blocks",
        "1",
        "--sequences",
        "32",
        "--batch-size",
        "16",
        "--eval-sequences",
        "16",
        "--out",
        run,
        "-q",
        check=0,
    )
    trained = json.loads(proc.stdout)["metrics"]
    assert trained["test_sequences"] == 16
    proc = run_genkit(
        "eval",
        "video",
        "--data",
        MNIST,
        "--weights",
        run / "video.safetensors",
        "--eval-sequences",
        "16",
        "--json",
        check=0,
    )
    metrics = json.loads(proc.stdout)
    for key in ("mse_per_frame", "ssim", "baseline_copy_last_mse_per_frame", "baseline_linear_mse_per_frame"):
        assert np.isfinite(metrics[key]), key
    assert abs(metrics["mse_per_frame"] - trained["mse_per_frame"]) < 1e-3 * trained["mse_per_frame"]
    assert metrics["baseline_linear_mse_per_frame"] < metrics["baseline_copy_last_mse_per_frame"]
    for key in ("mse_per_frame", "ssim", "baseline_copy_last_ssim", "baseline_linear_mse_per_frame"):
        curve = metrics[f"{key}_by_step"]  # predicted frame 1 first; their mean is the headline figure
        assert len(curve) == 10 and abs(np.mean(curve) - metrics[key]) < 1e-3 * abs(metrics[key]) + 1e-4, key
    run_genkit("video", "--weights", run / "video.safetensors", "--frames", "4", "-o", tmp_path / "x.gif", check=0)


@needs_data("images/mnist/t10k-images-idx3-ubyte.gz")
def test_the_shipped_model_is_measured_frame_by_frame_and_beats_both_baselines_at_every_frame():
    proc = run_genkit("eval", "video", "--data", MNIST, "--eval-sequences", "32", "--json", "-q", check=0)
    m = json.loads(proc.stdout)
    model, ssim = m["mse_per_frame_by_step"], m["ssim_by_step"]
    assert all(a < b for a, b in zip(model, model[1:])), model  # each predicted frame is further from the truth
    assert all(a > b for a, b in zip(ssim, ssim[1:])), ssim
    for k, error in enumerate(model):
        assert error < m["baseline_linear_mse_per_frame_by_step"][k] < m["baseline_copy_last_mse_per_frame_by_step"][k]
        assert ssim[k] > m["baseline_linear_ssim_by_step"][k] > m["baseline_copy_last_ssim_by_step"][k]
    assert model[0] < 0.5 * model[-1]  # the first frame is far sharper than the tenth (all 10,000: 34.2 and 94.3)


@needs_data("images/mnist/train-images-idx3-ubyte.gz")
def test_a_run_stopped_anywhere_and_resumed_ends_with_the_weights_of_an_unbroken_one(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from safetensors.torch import load_file

    common = [
        "train",
        "video",
        "--data",
        MNIST,
        "--channels",
        "8",
        "--blocks",
        "1",
        "--sequences",
        "160",
        "--batch-size",
        "16",
        "--eval-sequences",
        "8",
        "--no-eval",
        "--checkpoint-every",
        "0",
        "-q",
    ]
    run_genkit(*common, "--out", tmp_path / "whole", check=0)
    split = tmp_path / "split"
    child = subprocess.Popen(
        [sys.executable, "-m", "genkit", *map(str, common), "--out", str(split)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while not (split / "checkpoint.safetensors").exists() and child.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    if child.poll() is None:  # stopped mid-run: SIGTERM saves a checkpoint and exits
        os.kill(child.pid, signal.SIGTERM)
    child.wait(timeout=120)
    run_genkit(*common, "--out", split, "--resume", "--overwrite", check=0)
    whole, resumed = (load_file(d / "video.safetensors") for d in (tmp_path / "whole", split))
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
