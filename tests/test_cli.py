"""The command line a user meets: help, version, errors, seeds, outputs, provenance."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import assert_user_error, run_genkit
from PIL import Image
from terminal import in_a_terminal


@pytest.mark.fast
def test_help_and_version_work_from_the_script_and_python_m():
    assert "hello" in run_genkit("--help", check=0).stdout
    assert run_genkit("--version", check=0).stdout.strip().startswith("genkit ")
    script = subprocess.run(["genkit", "--help"], capture_output=True, text=True)
    assert script.returncode == 0 and "hello" in script.stdout


@pytest.mark.fast
@pytest.mark.parametrize("value", ["0", "-3", "abc"])
def test_bad_counts_are_user_errors(value, tmp_path):
    proc = run_genkit("hello", "--n", value, cwd=tmp_path)
    assert_user_error(proc, "--n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.fast
def test_an_unknown_option_is_a_user_error():
    assert_user_error(run_genkit("hello", "--colour", "red"), "--colour")


@pytest.mark.fast
def test_an_option_out_of_range_is_a_user_error_naming_the_range(tmp_path):
    assert_user_error(run_genkit("hello", "--size", "9999", cwd=tmp_path), "--size", "512")


@pytest.mark.fast
@pytest.mark.parametrize("value", ["nan", "NaN", "inf"])
def test_a_non_finite_number_is_a_user_error(tmp_path, value):
    # NaN compares false with every bound, so a range check alone would let it through
    assert_user_error(run_genkit("image", "--truncation", value, cwd=tmp_path), "--truncation")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.fast
def test_output_under_a_file_is_refused(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert_user_error(run_genkit("hello", "-o", tmp_path / "afile" / "x.png"), "is a file")


@pytest.mark.fast
def test_an_unwritable_folder_is_a_user_error(tmp_path):
    if os.geteuid() == 0:
        target = "/proc/genkit-test/x.png"  # root may write anywhere except pseudo file systems
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "sub" / "x.png"
    assert_user_error(run_genkit("hello", "-o", target), "cannot create folder")


@pytest.mark.fast
def test_an_existing_output_is_never_overwritten_and_nothing_is_written(tmp_path):
    keep = tmp_path / "img-001.png"
    keep.write_bytes(b"precious")
    proc = run_genkit("hello", "--n", "3", "-o", tmp_path / "img-{i:03d}.png", "--seed", "1")
    assert_user_error(proc, "img-001.png", "--overwrite")
    assert keep.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img-001.png"]
    run_genkit("hello", "--n", "3", "-o", tmp_path / "img-{i:03d}.png", "--seed", "1", "--overwrite", check=0)
    assert keep.read_bytes().startswith(b"\x89PNG")


def test_asking_for_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    # music uses torch (hello, a torch-free generator, runs on the CPU: see test_contract)
    assert_user_error(run_genkit("music", "--device", "cuda", cwd=tmp_path), "cuda")
    assert_user_error(run_genkit("music", cwd=tmp_path, env={"GENKIT_DEVICE": "cuda"}), "cuda")
    assert_user_error(run_genkit("music", "--device", "tpu", cwd=tmp_path), "tpu")
    assert not list(tmp_path.iterdir())


@pytest.mark.fast
def test_same_seed_gives_identical_files_and_item_k_does_not_depend_on_n(tmp_path):
    run_genkit("hello", "--n", "16", "--seed", "42", "-o", tmp_path / "a", check=0)
    run_genkit("hello", "--n", "16", "--seed", "42", "-o", tmp_path / "b", check=0)
    run_genkit("hello", "--n", "64", "--seed", "42", "-o", tmp_path / "c", check=0)
    a = sorted((tmp_path / "a").iterdir())
    b = sorted((tmp_path / "b").iterdir())
    c = sorted((tmp_path / "c").iterdir())
    assert len(a) == 16 and len(c) == 64
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert a[5].read_bytes() == c[5].read_bytes()
    assert a[5].read_bytes() != a[6].read_bytes()


@pytest.mark.fast
def test_provenance_is_embedded_and_inspect_prints_the_reproducing_command(tmp_path):
    run_genkit("hello", "--n", "4", "--seed", "9", "--palette", "cool", "-o", tmp_path / "h_{i}.png", check=0)
    with Image.open(tmp_path / "h_2.png") as im:
        prov = json.loads(im.info["genkit"])
    assert prov["generator"] == "hello" and prov["seed"] == 9 and prov["index"] == 2
    assert prov["options"]["palette"] == "cool"
    shown = run_genkit("inspect", tmp_path / "h_2.png", check=0).stdout
    command = [line for line in shown.splitlines() if line.startswith("reproduce")][0].split(None, 1)[1].split("#")[0]
    assert "--palette cool" in command and "--seed 9" in command
    # Running the printed command reproduces the file as its last item.
    args = command.split()[1:] + ["-o", str(tmp_path / "again")]
    run_genkit(*args, check=0)
    again = sorted((tmp_path / "again").iterdir())[-1]
    assert np.array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(tmp_path / "h_2.png")))


@pytest.mark.fast
def test_inspect_on_a_file_without_provenance_is_a_user_error(tmp_path):
    Image.new("L", (4, 4)).save(tmp_path / "plain.png")
    assert_user_error(run_genkit("inspect", tmp_path / "plain.png"), "provenance")


@pytest.mark.fast
def test_json_prints_a_manifest_on_stdout_and_nothing_else(tmp_path):
    proc = run_genkit("hello", "--n", "2", "--seed", "5", "-o", tmp_path, "--json", check=0)
    manifest = json.loads(proc.stdout)
    assert manifest["seed"] == 5 and len(manifest["files"]) == 2
    assert all(os.path.exists(f["path"]) for f in manifest["files"])
    assert proc.stderr == ""


def test_quiet_and_a_non_terminal_stderr_show_no_progress(tmp_path):
    proc = run_genkit("hello", "--n", "3", "-o", tmp_path / "a", check=0)
    assert proc.stderr.startswith("wrote 3 files") and "━" not in proc.stderr
    quiet = run_genkit("hello", "--n", "3", "-o", tmp_path / "b", "--quiet", check=0)
    assert quiet.stderr == "" and quiet.stdout == ""


@pytest.mark.fast
def test_patterns_may_only_use_index_seed_and_n(tmp_path):
    assert_user_error(run_genkit("hello", "-o", tmp_path / "{user}.png"), "{i}")
    assert_user_error(run_genkit("hello", "--n", "2", "-o", tmp_path / "same{seed}.png"), "same name")


@pytest.mark.fast
def test_an_unsupported_extension_is_refused(tmp_path):
    assert_user_error(run_genkit("hello", "-o", tmp_path / "x.jpg"), ".jpg", ".png")


def test_a_file_name_with_several_items_gets_numbered(tmp_path):
    run_genkit("hello", "--n", "3", "-o", tmp_path / "pic.png", check=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pic-000.png", "pic-001.png", "pic-002.png"]


def test_the_grid_and_scale_options_of_image_generators(tmp_path):
    run_genkit(
        "hello", "--n", "4", "--size", "8", "--scale", "3", "-o", tmp_path / "s", "--grid", tmp_path / "g.png", check=0
    )
    first = sorted((tmp_path / "s").iterdir())[0]
    assert Image.open(first).size == (24, 24)
    assert Image.open(tmp_path / "g.png").size == (3 * (2 * (8 + 2) + 2),) * 2  # 2x2 tiles, 2 px gaps, scaled
    assert_user_error(run_genkit("hello", "--scale", "0", "-o", tmp_path / "z"), "--scale")


@pytest.mark.fast
def test_weights_that_are_missing_truncated_or_pickled_are_refused_without_unpickling(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    assert_user_error(run_genkit("image", "--weights", tmp_path / "nope.safetensors"), "not found")
    good = tmp_path / "good.safetensors"
    save_file({"w": torch.zeros(100)}, str(good))
    (tmp_path / "cut.safetensors").write_bytes(good.read_bytes()[:60])
    assert_user_error(run_genkit("image", "--weights", tmp_path / "cut.safetensors"), "truncated")
    # A pickle whose loading would create a file: refusing it must not run it.
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.safetensors"
    code = f"import pickle, os\nclass E:\n    def __reduce__(self):\n        return (os.system, ('touch {marker}',))\npickle.dump(E(), open({str(evil)!r}, 'wb'))\n"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert_user_error(run_genkit("image", "--weights", evil), "pickle")
    torch.save({"w": torch.zeros(3)}, tmp_path / "ckpt.safetensors")
    assert_user_error(run_genkit("image", "--weights", tmp_path / "ckpt.safetensors"), "never unpickles")
    assert not marker.exists()


@pytest.mark.fast
def test_python_api_loads_once_and_generates_in_memory():
    code = (
        "import genkit, sys\n"
        "g = genkit.load('hello', device='cpu')\n"
        "a = g.generate(n=3, seed=0, size=8)\n"
        "b = g.generate(n=5, seed=0, size=8)\n"
        "assert len(a) == 3 and a[0].pixels.shape == (8, 8, 3)\n"
        "assert (a[2].pixels == b[2].pixels).all()\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_shell_completion_offers_generators_and_their_options():
    words = run_genkit(env={"_GENKIT_COMPLETE": "complete_bash", "COMP_WORDS": "genkit hel", "COMP_CWORD": "1"})
    assert words.stdout.split() == ["hello"]
    opts = run_genkit(env={"_GENKIT_COMPLETE": "complete_bash", "COMP_WORDS": "genkit hello --pal", "COMP_CWORD": "2"})
    assert opts.stdout.split() == ["--palette"]


def test_a_terminal_gets_a_progress_bar_on_stderr_and_stdout_stays_clean(tmp_path):
    with open(tmp_path / "stdout", "w+") as stdout:
        status, seen = in_a_terminal(["hello", "--n", "400", "--size", "128", "-o", tmp_path], tmp_path, stdout=stdout)
        stdout.seek(0)
        assert status == 0
        assert "genkit hello" in seen and "/400" in seen  # the bar's label and its count
        assert stdout.read() == ""
