"""`genkit video`: looping latent walks through any generator with a latent space."""

import os

import numpy as np
import pytest
from conftest import REPO, assert_user_error, run_genkit
from PIL import Image

FIXTURES = {
    "PYTHONPATH": str(REPO / "tests" / "plugins") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    "GENKIT_PLUGINS": "genkit_duplicate",
}


def gif_frames(path):
    with Image.open(path) as im:
        frames = []
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB"), dtype=np.float64))
        return frames, im.info.get("duration"), im.info.get("loop")


def test_a_walk_has_the_asked_frames_size_rate_and_loops_smoothly(tmp_path):
    out = tmp_path / "walk.gif"
    run_genkit(
        "video",
        "--source",
        "hello",
        "--frames",
        "36",
        "--fps",
        "12",
        "--keyframes",
        "3",
        "--scale",
        "2",
        "--seed",
        "5",
        "-o",
        out,
        check=0,
    )
    frames, duration, loop = gif_frames(out)
    assert len(frames) == 36 and frames[0].shape == (64, 64, 3)
    assert duration == 80 and loop == 0  # GIF keeps delays in 10 ms steps: 1000/12 ms -> 80 ms
    steps = [np.abs(frames[k + 1] - frames[k]).mean() for k in range(35)]
    wrap = np.abs(frames[0] - frames[-1]).mean()
    assert wrap <= 2.5 * np.median(steps), (wrap, np.median(steps))  # no jump at the seam
    assert np.median(steps) > 0.5  # and it does move


def test_the_same_seed_gives_the_same_file_and_frames_dir_holds_every_frame(tmp_path):
    for name in ("a", "b"):
        run_genkit(
            "video",
            "--source",
            "hello",
            "--frames",
            "8",
            "--seed",
            "2",
            "-o",
            tmp_path / f"{name}.gif",
            "--frames-dir",
            tmp_path / f"frames_{name}",
            check=0,
        )
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()
    assert sorted(p.name for p in (tmp_path / "frames_a").iterdir()) == [f"frame_{k:04d}.png" for k in range(8)]


def test_webp_output_and_mp4_when_pyav_is_installed(tmp_path):
    run_genkit("video", "--source", "hello", "--frames", "6", "-o", tmp_path / "w.webp", check=0)
    with Image.open(tmp_path / "w.webp") as im:
        assert im.n_frames == 6
    av = pytest.importorskip("av")
    run_genkit("video", "--source", "hello", "--frames", "6", "--scale", "3", "-o", tmp_path / "w.mp4", check=0)
    with av.open(str(tmp_path / "w.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 6


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--frames", "1"], "--frames"),
        (["--frames", "100000"], "--frames"),
        (["--fps", "0"], "--fps"),
        (["--fps", "-2"], "--fps"),
        (["--classes", "sneaker"], "classes"),
        (["-o", "walk.avi"], ".avi"),
        (["--source", "nosuch"], "no generator of that name"),
    ],
)
def test_bad_video_input_is_a_user_error(tmp_path, args, fragment):
    proc = run_genkit("video", "--source", "hello", *args, cwd=tmp_path)
    assert_user_error(proc, fragment)
    assert list(tmp_path.iterdir()) == []


def test_a_source_without_a_latent_space_is_named(tmp_path):
    proc = run_genkit("video", "--source", "crashy", cwd=tmp_path, env=FIXTURES)
    assert_user_error(proc, "crashy", "latent space")


def test_a_class_morph_passes_through_the_named_classes_by_the_eval_classifier(tmp_path):
    torch = pytest.importorskip("torch")
    from genkit.imaging.ruler import EvalClassifier

    wanted = ["sneaker", "trouser", "bag"]
    run_genkit(
        "video",
        "--source",
        "image",
        "--classes",
        "sneaker,trouser,bag",
        "--frames",
        "12",
        "--seed",
        "1",
        "-o",
        tmp_path / "morph.gif",
        "--frames-dir",
        tmp_path / "frames",
        check=0,
    )
    frames = np.stack(
        [np.asarray(Image.open(tmp_path / "frames" / f"frame_{k:04d}.png").convert("L")) for k in (0, 4, 8)]
    )  # the three keyframes: 12 frames / 3 classes
    names = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
    ruler = EvalClassifier(None, names, torch.device("cpu"))
    _, predicted = ruler.run(torch.tensor(frames, dtype=torch.float32)[:, None] / 127.5 - 1)
    assert [names[p] for p in predicted] == wanted  # starts on the first class, ends the loop on the last


def test_video_classes_accept_one_word_of_a_name_and_list_the_valid_ones_for_an_unknown_one(tmp_path):
    run_genkit(
        "video", "--source", "image", "--classes", "boot,bag", "--frames", "4", "-o", tmp_path / "a.gif", check=0
    )
    proc = run_genkit("video", "--source", "image", "--classes", "shirt-ish", "-o", tmp_path / "b.gif")
    assert_user_error(proc, "unknown class", "ankle-boot")


def test_a_word_shared_by_two_class_names_is_ambiguous():
    from genkit.classnames import find_class
    from genkit.errors import GenkitError

    names = ["t-shirt", "polo-shirt", "ankle-boot"]
    assert find_class("Ankle Boot", names) == 2 and find_class("boot", names) == 2 and find_class("1", names) == 1
    with pytest.raises(GenkitError, match="ambiguous: t-shirt, polo-shirt"):
        find_class("shirt", names)


def test_a_walk_through_the_shipped_emoji_gan_is_in_colour(tmp_path):
    run_genkit(
        "video",
        "--source",
        "image",
        "--weights",
        "emoji",
        "--classes",
        "food,flags",
        "--frames",
        "6",
        "-o",
        tmp_path / "emoji.gif",
        check=0,
    )
    with Image.open(tmp_path / "emoji.gif") as im:
        assert im.n_frames == 6 and im.size == (64, 64)
        im.seek(2)
        rgb = np.asarray(im.convert("RGB")).astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 2]).max() > 30
