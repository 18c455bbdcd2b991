"""Interruptions, full disks, hostile patterns and concurrent runs never lose or corrupt files."""

import functools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO, assert_user_error, run_genkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image


def complete_pngs(folder):
    """Open every PNG fully (a truncated one raises) and return how many there are."""
    count = 0
    for path in folder.iterdir():
        assert not path.name.endswith(".tmp"), f"temporary file left behind: {path.name}"
        with Image.open(path) as im:
            im.load()
        count += 1
    return count


def start_long_run(folder):
    cmd = [sys.executable, "-m", "genkit", "hello", "--n", "100000", "--size", "256", "--seed", "1", "-o", str(folder)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_files(folder, count, limit=60):
    deadline = time.time() + limit
    while time.time() < deadline:
        if folder.exists() and len([p for p in folder.iterdir() if p.suffix == ".png"]) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the run wrote too few files in time")


def test_sigint_while_writing_leaves_only_complete_files_and_keeps_old_ones(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    keep = folder / "mine.png"
    Image.new("L", (3, 3), 7).save(keep)
    before = keep.read_bytes()
    proc = start_long_run(folder)
    wait_for_files(folder, 20)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert complete_pngs(folder) >= 20
    assert keep.read_bytes() == before


def test_sigkill_leftovers_are_cleaned_by_the_next_run(tmp_path):
    folder = tmp_path / "out"
    for attempt in range(3):  # kill at a few moments; each time only complete files survive
        proc = start_long_run(folder)
        wait_for_files(folder, 5 + attempt * 5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        pngs = [p for p in folder.iterdir() if p.suffix == ".png"]
        for path in pngs:
            with Image.open(path) as im:
                im.load()
        # The next run into the folder removes temporaries of dead processes.
        run_genkit("hello", "--seed", str(100 + attempt), "-o", folder, check=0)
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
        for path in pngs:
            path.unlink()


def test_a_full_disk_gives_a_clear_error_and_no_partial_file(tmp_path):
    """ENOSPC injected into the write of the third file (no tmpfs needed)."""
    code = f"""
import errno, os, sys
import genkit.files as files
real_fsync, calls = os.fsync, []
def failing_fsync(fd):
    calls.append(fd)
    if len(calls) >= 3:
        raise OSError(errno.ENOSPC, "No space left on device")
    real_fsync(fd)
files.os.fsync = failing_fsync
from genkit.cli import main
main(["hello", "--n", "5", "--seed", "3", "-o", {str(tmp_path / "disk")!r}])
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("genkit: error: no space left on device")
    names = sorted(p.name for p in (tmp_path / "disk").iterdir())
    assert names == ["hello-3-000.png", "hello-3-001.png"]  # the two finished ones, nothing else
    assert complete_pngs(tmp_path / "disk") == 2


@pytest.mark.parametrize("pattern", ["x{i:/>6}.png", "x{i!r}.png", "{i.__class__}.png", "{os}.png"])
def test_patterns_cannot_inject_paths(tmp_path, pattern):
    proc = run_genkit("hello", "--n", "2", "-o", pattern, cwd=tmp_path)
    assert_user_error(proc)
    assert list(tmp_path.iterdir()) == []


def test_two_runs_writing_the_same_names_at_once_never_overwrite_each_other(tmp_path):
    folder = tmp_path / "shared"
    cmds = [
        [
            sys.executable,
            "-m",
            "genkit",
            "hello",
            "--n",
            "150",
            "--seed",
            str(s),
            "--size",
            "64",
            "-o",
            str(folder / "img_{i:04d}.png"),
        ]
        for s in (1, 2)
    ]
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert complete_pngs(folder) == 150
    seeds = set()
    for path in folder.iterdir():
        with Image.open(path) as im:
            seeds.add(json.loads(im.info["genkit"])["seed"])
    codes = sorted(code for code, _ in results)
    if len(seeds) == 2:  # they raced: the loser stopped at the first taken name
        assert codes == [0, 2] or codes == [2, 2], results
    for code, err in results:
        assert code in (0, 2) and "Traceback" not in err


ARGV_CHARACTERS = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))  # argv cannot hold NUL


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.one_of(st.integers(-5, 6), st.text(ARGV_CHARACTERS, max_size=4)),
    size=st.one_of(st.integers(-10, 600), st.sampled_from(["", "x", "1e3", "7.5"])),
    palette=st.one_of(st.sampled_from(["warm", "cool", "grey", "WARM"]), st.text(ARGV_CHARACTERS, max_size=5)),
    seed=st.one_of(st.integers(-3, 2**64), st.just("s")),
)
def test_fuzzed_options_either_succeed_or_fail_cleanly(tmp_path, n, size, palette, seed):
    out = tmp_path / f"f{time.monotonic_ns()}"
    proc = run_genkit("hello", "--n", n, "--size", size, "--palette", palette, "--seed", seed, "-o", out)
    assert "Traceback" not in proc.stderr
    if proc.returncode == 0:
        assert complete_pngs(out) == int(n)
    else:
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert not out.exists() or not list(out.iterdir())


def child_peak_rss_mb(args, env=None):
    """Run genkit in a child and return (CompletedProcess, its peak resident memory in MB)."""
    code = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(p.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
        "sys.exit(p.returncode)\n"
    )
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run(
        [sys.executable, "-c", code, sys.executable, "-m", "genkit", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
    )
    *stderr, rss = proc.stdout.strip().splitlines()
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", "\n".join(stderr) + "\n"), float(rss)


@functools.cache
def baseline_rss_mb(imports: str) -> float:
    """Peak memory of a child that only imports ``imports``: the yardstick for the bounds below
    (absolute megabytes differ between machines and installs; the ratio to this does not)."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', sys.argv[1]], check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, f"import {imports}"], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def bounded(rss: float, imports: str = "torch, numpy, PIL.Image, genkit.cli", slack_mb: float = 64) -> bool:
    """Within 1.3x of what merely importing the run's libraries costs, plus a little slack."""
    return rss < 1.3 * baseline_rss_mb(imports) + slack_mb


def lying_safetensors(path, declared_elements):
    """A safetensors header that declares a huge tensor backed by 16 bytes of data."""
    header = json.dumps(
        {"w": {"dtype": "F32", "shape": [declared_elements], "data_offsets": [0, declared_elements * 4]}}
    ).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 16)


def test_a_lying_weights_header_is_refused_with_bounded_memory(tmp_path):
    bad = tmp_path / "liar.safetensors"
    lying_safetensors(bad, 10**12)  # claims 4 TB
    proc, rss = child_peak_rss_mb(["vae", "--weights", bad, "-o", tmp_path / "x.png"])
    assert_user_error(proc, "truncated")
    assert bounded(rss), f"peak RSS {rss:.0f} MB"
    huge_header = tmp_path / "bigheader.safetensors"
    huge_header.write_bytes((2**62).to_bytes(8, "little") + b"{" + b" " * 64)
    assert_user_error(run_genkit("vae", "--weights", huge_header), "truncated")


def test_weights_with_wrong_shapes_or_dtypes_are_refused_clearly(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    env = {
        "PYTHONPATH": str(REPO / "tests" / "plugins") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "GENKIT_PLUGINS": "genkit_tiny",
    }
    numbers = tmp_path / "n.txt"
    numbers.write_text(" ".join(map(str, range(10))))
    meta = {"config": json.dumps({"hidden": 8})}
    wrong_shape = {
        "body.0.weight": torch.zeros(8, 5),
        "body.0.bias": torch.zeros(8),
        "body.2.weight": torch.zeros(1, 8),
        "body.2.bias": torch.zeros(1),
    }
    save_file(wrong_shape, str(tmp_path / "shape.safetensors"), metadata=meta)
    proc = run_genkit("eval", "tiny", "--data", numbers, "--weights", tmp_path / "shape.safetensors", env=env)
    assert_user_error(proc, "body.0.weight", "shape")
    wrong_dtype = dict(wrong_shape, **{"body.0.weight": torch.zeros(8, 4, dtype=torch.int64)})
    save_file(wrong_dtype, str(tmp_path / "dtype.safetensors"), metadata=meta)
    proc = run_genkit("eval", "tiny", "--data", numbers, "--weights", tmp_path / "dtype.safetensors", env=env)
    assert_user_error(proc, "dtype")


def test_a_ctrl_c_swallowed_by_a_destructor_still_stops_the_run():
    """A KeyboardInterrupt raised inside __del__ is printed as 'ignored' by Python; the handler
    remembers the request so the output loop's check between files still stops."""
    from genkit import interrupts

    previous = interrupts.install()
    try:
        interrupts.check()  # nothing requested yet
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs here
        except KeyboardInterrupt:
            pass  # swallowed, as a destructor would
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    finally:
        interrupts.restore(interrupts.install())  # install() clears the request for later tests
        interrupts.restore(previous)


# ---------------------------------------------------------------- untrusted files shown to a terminal (class 7)


def png_with_provenance(path, provenance):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("genkit", provenance if isinstance(provenance, str) else json.dumps(provenance))
    Image.new("L", (4, 4)).save(path, pnginfo=info)


def test_inspect_escapes_control_characters_and_quotes_the_reproduce_command(tmp_path):
    hostile = {
        "generator": "image\x1b]0;pwned\x07",
        "seed": 1,
        "device": "cpu\x1b[2J\u202e",
        "options": {"class": "\x1b[31mred"},
        "command": "genkit image --seed 1; rm -rf ~ $(touch x) `id`",
    }
    png_with_provenance(tmp_path / "evil.png", hostile)
    proc = run_genkit("inspect", tmp_path / "evil.png", check=0)
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "\u202e" not in proc.stdout
    assert "\\x1b" in proc.stdout
    reproduce = [line for line in proc.stdout.splitlines() if line.startswith("reproduce")][0].split(None, 1)[1]
    # Pasted into a shell, the command is genkit with inert arguments: no ;, $( or ` acts.
    echoed = subprocess.run(
        ["bash", "-c", "printf '%s\\n' " + reproduce.split("   #")[0].split(None, 1)[1]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert echoed.stdout.splitlines() == ["image", "--seed", "1;", "rm", "-rf", "~", "$(touch", "x)", "`id`"]
    assert not (tmp_path / "x").exists()
    as_json = run_genkit("inspect", tmp_path / "evil.png", "--json", check=0).stdout
    assert "\x1b" not in as_json and json.loads(as_json)["options"]["class"] == "\x1b[31mred"


def test_inspect_refuses_fifos_devices_huge_and_corrupt_sidecars_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    assert_user_error(run_genkit("inspect", fifo, timeout=30), "not a regular file")
    assert_user_error(run_genkit("inspect", "/dev/zero", timeout=30), "not a regular file")
    (tmp_path / "a.txt").write_text("hello")
    sidecar = tmp_path / "a.txt.genkit.json"
    sidecar.write_text('{"generator": "text", "seed": ')  # cut short
    assert_user_error(run_genkit("inspect", tmp_path / "a.txt"), "not valid JSON")
    sidecar.write_text("[1, 2]")
    small, small_rss = child_peak_rss_mb(["inspect", tmp_path / "a.txt"])
    assert_user_error(small, "not a JSON object")
    with open(sidecar, "wb") as fh:  # 50 MB of sparse nothing
        fh.truncate(50 << 20)
    proc, rss = child_peak_rss_mb(["inspect", tmp_path / "a.txt"])
    assert_user_error(proc, "larger than")
    assert rss < small_rss + 25, (rss, small_rss)  # the 50 MB sidecar was not read
    sidecar.unlink()
    os.mkfifo(sidecar)
    assert_user_error(run_genkit("inspect", tmp_path / "a.txt", timeout=30), "not a regular file")
    png_with_provenance(tmp_path / "bad.png", "{not json")
    assert_user_error(run_genkit("inspect", tmp_path / "bad.png"), "not valid JSON")


# ---------------------------------------------------------------- output names (class 8)


@pytest.mark.parametrize(
    "pattern",
    [
        "x{i:c}.png",
        "x{n:c}-{i}.png",
        "x{i:\\>4}.png",
        "x{i:\x01>4}.png",
        "x{i:{n}}.png",
        "x{i:99999999}.png",
        "x{i:s}.png",
    ],
)
def test_patterns_that_could_yield_a_separator_or_nul_for_some_value_are_refused(tmp_path, pattern):
    """{i:c} is '/' for i=47 and NUL for i=0; a fill character repeats for some widths only."""
    proc = run_genkit("hello", "--n", "50", "-o", pattern, cwd=tmp_path)
    assert_user_error(proc)
    assert list(tmp_path.iterdir()) == []


def test_a_nul_in_an_output_name_is_refused_through_the_python_api():
    from genkit.errors import GenkitError
    from genkit.files import OutputPlan

    with pytest.raises(GenkitError, match="NUL"):
        OutputPlan("x\x00{i}.png", "hello", ("png",), 2, 1)


def test_names_up_to_the_file_system_limit_work_and_longer_ones_fail_before_any_work(tmp_path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    longest = "a" * (limit - 4) + ".png"
    run_genkit("hello", "-o", tmp_path / longest, check=0)
    with Image.open(tmp_path / longest) as im:
        im.load()
    proc = run_genkit("hello", "-o", tmp_path / ("b" * (limit - 3) + ".png"))
    assert_user_error(proc, "bytes", str(limit))
    assert sorted(p.name for p in tmp_path.iterdir()) == [longest]


def test_dash_as_output_is_refused_clearly(tmp_path):
    assert_user_error(run_genkit("hello", "-o", "-", cwd=tmp_path), "standard output")
    assert list(tmp_path.iterdir()) == []


def test_default_names_are_wide_enough_to_sort_past_999(tmp_path):
    run_genkit("hello", "--n", "1001", "--size", "8", "--seed", "5", "-o", tmp_path, check=0)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0] == "hello-5-0000.png" and names[-1] == "hello-5-1000.png"


def test_stale_temporaries_of_old_and_new_names_are_cleaned(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    old = tmp_path / f".hello-1-000.png.genkit-{pid}-0a1b2c3d.tmp"
    new = tmp_path / f".gk-{pid}-0a1b2c3d.tmp"
    mine = tmp_path / ".gk-notes.tmp"  # not a genkit name: left alone
    for path in (old, new, mine):
        path.write_bytes(b"partial")
    run_genkit("hello", "-o", tmp_path, check=0)
    assert not old.exists() and not new.exists() and mine.exists()


# ---------------------------------------------------------------- streams and file systems (class 9)


def test_closed_stdout_or_stderr_still_writes_the_files(tmp_path):
    for redirect, folder in ((">&-", "no_stdout"), ("2>&-", "no_stderr"), (">&- 2>&-", "neither")):
        out = tmp_path / folder
        shell = f'"{sys.executable}" -m genkit hello --n 3 --seed 2 -o "{out}" {redirect}'
        proc = subprocess.run(["bash", "-c", shell + "; echo rc=$?"], capture_output=True, text=True)
        assert "rc=0" in proc.stdout, (redirect, proc.stdout, proc.stderr)
        assert complete_pngs(out) == 3
    # with stdout closed, an error still goes to stderr, never into a file
    proc = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m genkit hello --n 0 >&-'], capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stderr.startswith("genkit: error:")


def test_a_broken_pipe_exits_quietly():
    proc = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m genkit plugins --json | head -c 1; echo " rc=${{PIPESTATUS[0]}}"'],
        capture_output=True,
        text=True,
    )
    assert proc.stdout.strip().endswith("rc=0") and proc.stderr == "", proc
    proc = subprocess.run(
        [
            "bash",
            "-c",
            f'"{sys.executable}" -m genkit text --max-tokens 5000 -n 3 | head -c 5; echo " rc=${{PIPESTATUS[0]}}"',
        ],
        capture_output=True,
        text=True,
    )
    assert proc.stdout.strip().endswith("rc=0") and proc.stderr == "", proc


def test_never_clobber_writes_work_without_hard_links(tmp_path):
    """FAT, exFAT and many network shares refuse link(): the exclusive-create fallback takes over."""
    code = f"""
import errno, os
def no_links(*args, **kwargs):
    raise PermissionError(errno.EPERM, "Operation not permitted")
os.link = no_links
from genkit.cli import main
main(["hello", "--n", "3", "--seed", "1", "-o", {str(tmp_path / "fat")!r}])
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert complete_pngs(tmp_path / "fat") == 3
    keep = tmp_path / "fat" / "hello-1-001.png"
    before = keep.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-c", code.replace('"--seed", "1"', '"--seed", "1", "--size", "64"')],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "already exists" in proc.stderr  # still never-clobber
    assert keep.read_bytes() == before and complete_pngs(tmp_path / "fat") == 3


def test_the_no_hard_link_claim_refuses_a_name_taken_between_check_and_write(tmp_path):
    import errno

    from genkit import files
    from genkit.errors import GenkitError

    target = tmp_path / "taken.bin"
    target.write_bytes(b"theirs")
    real_link = os.link

    def no_links(*args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    os.link = no_links
    try:
        with pytest.raises(GenkitError, match="already exists"):
            files.write_atomic(target, b"mine")
        files.write_atomic(tmp_path / "free.bin", b"mine")
    finally:
        os.link = real_link
    assert target.read_bytes() == b"theirs" and (tmp_path / "free.bin").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["free.bin", "taken.bin"]


# ---------------------------------------------------------------- weights metadata before shapes (class 3)

HUGE_CONFIGS = {  # each within the config bounds or just past them, none matching the 16 bytes it carries
    "vae": [{"latent": 50, "hidden": 10**9, "channels": 32}, {"latent": 4000, "hidden": 60000, "channels": 4000}],
    "image": [{"arch": "dcgan", "z_dim": 4096, "num_classes": 0, "width": 4096, "embed_dim": 0, "class_names": []}],
    "text": [
        {"vocab": "ab", "vocab_size": 2, "block_size": 10**10, "n_layer": 1, "n_head": 1, "n_embd": 8, "dropout": 0.0}
    ],
    "music": [{"embed": 4096, "hidden": 8192, "layers": 16, "dropout": 0.0, "lookbacks": [1], "meters": None}],
    "video": [  # 100,000 channels once tried to allocate 360 GB; 4096 x 32 blocks is in bounds, refused on meta
        {"context": 10, "horizon": 10, "size": 64, "patch": 4, "channels": 100_000, "blocks": 2},
        {"context": 64, "horizon": 64, "size": 512, "patch": 4, "channels": 4096, "blocks": 32},
    ],
}


def tiny_weights(path, config, **extra_meta):
    """A ~200-byte safetensors file: one 4-float tensor and whatever config it claims."""
    header = {
        "__metadata__": {"config": json.dumps(config), **{k: json.dumps(v) for k, v in extra_meta.items()}},
        "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
    }
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + b"\0" * 16)


@pytest.mark.parametrize("generator", sorted(HUGE_CONFIGS))
def test_a_tiny_weights_file_claiming_a_huge_model_is_refused_with_bounded_memory(tmp_path, generator):
    for k, config in enumerate(HUGE_CONFIGS[generator]):
        if generator == "music":
            from genkit_music import data as music_data

            config = dict(config, meters=list(music_data.METERS))
        path = tmp_path / f"huge{k}.safetensors"
        tiny_weights(path, config)
        assert path.stat().st_size < 600
        proc, rss = child_peak_rss_mb([generator, "--weights", path, "-o", tmp_path / f"out{k}"])
        assert_user_error(proc, str(path.name))
        assert bounded(rss), f"{generator}: peak RSS {rss:.0f} MB"
        assert not (tmp_path / f"out{k}").exists()


def test_checking_weights_on_the_meta_device_does_not_import_the_compiler(tmp_path):
    """Building a network on the meta device to check a weights file must not pull in torch._dynamo
    (PyTorch's Python normal_ for meta tensors imports it: about 2 s of every run)."""
    code = (
        "import runpy, sys\n"
        "for name, out in [('music', 'a.mid'), ('vae', 'b.png'), ('video', 'c.gif'), ('image', 'd.png')]:\n"
        "    sys.argv = ['genkit', name, '--seed', '1', '--quiet', '-o', out]\n"
        "    try:\n"
        "        runpy.run_module('genkit', run_name='__main__')\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, (name, exc.code)\n"
        "    assert 'torch._dynamo' not in sys.modules, name + ' imported torch._dynamo'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in tmp_path.iterdir()} == {"a.mid", "b.png", "c.gif", "d.png"}


def test_weights_of_another_generator_are_refused_in_one_line(tmp_path):
    shipped = REPO / "plugins"
    for generator, foreign in (
        ("vae", "genkit_image/weights/image-fashion.safetensors"),
        ("image", "genkit_vae/weights/vae-mnist.safetensors"),
        ("text", "genkit_music/weights/music-nottingham.safetensors"),
    ):
        proc = run_genkit(generator, "--weights", shipped / foreign, "-o", tmp_path / generator)
        assert_user_error(proc, foreign.split("/")[-1])


def test_a_header_whose_shape_disagrees_with_its_bytes_is_refused(tmp_path):
    from genkit.errors import GenkitError
    from genkit.weights_check import declared_shapes

    header = {"w": {"dtype": "F32", "shape": [10**6], "data_offsets": [0, 16]}}
    raw = json.dumps(header).encode()
    (tmp_path / "w.safetensors").write_bytes(len(raw).to_bytes(8, "little") + raw + b"\0" * 16)
    with pytest.raises(GenkitError, match="holds 16 bytes"):
        declared_shapes(tmp_path / "w.safetensors")


# ---------------------------------------------------------------- inputs of every kind (class 10)


def bomb_png(path, width=20000, height=20000):
    """A PNG whose header claims width x height pixels, with no pixel data at all (a few dozen bytes)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_images_of_every_mode_are_read_with_their_real_values(tmp_path):
    from genkit.datasets import read_image, to_grey

    grey16 = np.full((8, 8), 4096, np.uint16)  # a dark grey background: 4096 / 65535 = 0.0625
    grey16[2:6, 2:6] = 60000
    Image.fromarray(grey16).save(tmp_path / "grey16.png")
    x = read_image(tmp_path / "grey16.png")
    assert x[0, 0] == pytest.approx(4096 / 65535, abs=1e-6) and x[3, 3] == pytest.approx(60000 / 65535, abs=1e-6)
    Image.fromarray(np.full((4, 4), 70000, np.int32), "I").save(tmp_path / "int32.tif")
    assert read_image(tmp_path / "int32.tif")[0, 0] == pytest.approx(1.0)
    Image.fromarray(np.full((4, 4), 0.25, np.float32), "F").save(tmp_path / "float.tif")
    assert read_image(tmp_path / "float.tif")[0, 0] == pytest.approx(0.25)
    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 200, 100, 50] + [0] * 762)
    palette.save(tmp_path / "palette.png")
    assert read_image(tmp_path / "palette.png")[0, 0].tolist() == pytest.approx([200 / 255, 100 / 255, 50 / 255])
    Image.new("LA", (4, 4), (0, 0)).save(tmp_path / "clear.png")  # fully transparent black: the white page shows
    assert read_image(tmp_path / "clear.png")[0, 0] == pytest.approx(1.0)
    Image.new("LA", (4, 4), (0, 255)).save(tmp_path / "opaque.png")
    assert read_image(tmp_path / "opaque.png")[0, 0] == pytest.approx(0.0)
    Image.new("CMYK", (4, 4), (0, 0, 0, 255)).save(tmp_path / "cmyk.jpg")
    assert to_grey(read_image(tmp_path / "cmyk.jpg"))[0, 0] < 0.1
    tall = Image.new("L", (2, 6), 0)  # stored 2 wide, 6 tall; EXIF orientation 6 rotates it on display
    exif = Image.Exif()
    exif[0x0112] = 6
    tall.save(tmp_path / "rotated.jpg", exif=exif)
    assert read_image(tmp_path / "rotated.jpg").shape == (2, 6)


def test_a_16_bit_input_is_not_read_as_black_or_white_by_the_vae(tmp_path):
    grey16 = np.full((28, 28), 8192, np.uint16)  # 0.125: dark grey, not black
    Image.fromarray(grey16).save(tmp_path / "dark16.png")
    run_genkit("vae", "--reconstruct", tmp_path / "dark16.png", "-o", tmp_path / "r.png", check=0)
    with Image.open(tmp_path / "r.png") as im:
        left = np.asarray(im.convert("L"))[:, : im.width // 2]
    assert abs(int(np.median(left)) - 32) <= 1, np.median(left)  # 0.125 * 255


def test_a_decompression_bomb_is_one_line_with_bounded_memory(tmp_path):
    bomb_png(tmp_path / "bomb.png")
    assert (tmp_path / "bomb.png").stat().st_size < 200
    proc, rss = child_peak_rss_mb(["vae", "--reconstruct", tmp_path / "bomb.png", "-o", tmp_path / "out.png"])
    assert_user_error(proc, "bomb.png", "decompression bomb")
    assert bounded(rss), rss
    folder = tmp_path / "data" / "cat"
    folder.mkdir(parents=True)
    bomb_png(folder / "b.png")
    code = f"from genkit.datasets import load\nload({str(tmp_path / 'data')!r})"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "decompression bomb" in proc.stderr and "GenkitError" in proc.stderr


def test_a_fifo_as_an_input_or_inside_a_data_folder_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    assert_user_error(
        run_genkit("vae", "--reconstruct", tmp_path / "pipe.png", "-o", tmp_path / "o.png", timeout=60),
        "not a regular file",
    )
    folder = tmp_path / "data" / "cat"
    folder.mkdir(parents=True)
    Image.new("L", (28, 28)).save(folder / "a.png")
    os.mkfifo(folder / "b.png")
    os.mkfifo(tmp_path / "data.npz")
    for target in (tmp_path / "data", tmp_path / "data.npz"):
        code = f"from genkit.datasets import load\nload({str(target)!r})"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert "not a regular file" in proc.stderr, proc.stderr[-300:]


def test_oversized_primers_are_one_line_errors(tmp_path):
    import mido

    long = mido.MidiFile()
    track = mido.MidiTrack()
    long.tracks.append(track)
    track += [mido.Message("note_on", note=60, velocity=64, time=0), mido.Message("note_off", note=60, time=2**27)]
    long.save(tmp_path / "long.mid")  # 30 bytes whose last tick would make pretty_midi allocate 1 GB
    proc, rss = child_peak_rss_mb(["music", "--primer-midi", tmp_path / "long.mid", "-o", tmp_path / "a.mid"])
    assert_user_error(proc, "ticks")
    (tmp_path / "big.mid").write_bytes(b"MThd" + os.urandom(2_000_000))
    proc, baseline = child_peak_rss_mb(["music", "--primer-midi", tmp_path / "big.mid", "-o", tmp_path / "b.mid"])
    assert_user_error(proc, "at most")
    assert rss - baseline < 200, (rss, baseline)  # the model is loaded either way; the primer adds nothing
    os.mkfifo(tmp_path / "fifo.mid")
    assert_user_error(
        run_genkit("music", "--primer-midi", tmp_path / "fifo.mid", "-o", tmp_path / "c.mid", timeout=60),
        "not a regular file",
    )
    proc = run_genkit("text", "-", "--max-tokens", "5", input="a" * 3_000_000)
    assert_user_error(proc, "longer than")
    assert not list(tmp_path.glob("[abc].mid"))
