"""Interruptions, full disks, hostile patterns and concurrent runs never lose or corrupt files."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import REPO, assert_user_error, run_genkit


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
main(["hello", "--n", "5", "--seed", "3", "-o", {str(tmp_path / 'disk')!r}])
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
    cmds = [[sys.executable, "-m", "genkit", "hello", "--n", "150", "--seed", str(s), "--size", "64",
             "-o", str(folder / "img_{i:04d}.png")] for s in (1, 2)]
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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.one_of(st.integers(-5, 6), st.text(max_size=4)),
    size=st.one_of(st.integers(-10, 600), st.sampled_from(["", "x", "1e3", "7.5"])),
    palette=st.one_of(st.sampled_from(["warm", "cool", "grey", "WARM"]), st.text(max_size=5)),
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
    code = ("import resource, subprocess, sys\n"
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "sys.stdout.write(p.stderr)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
            "sys.exit(p.returncode)\n")
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "genkit", *map(str, args)],
                          capture_output=True, text=True, env=full_env)
    *stderr, rss = proc.stdout.strip().splitlines()
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", "\n".join(stderr) + "\n"), float(rss)


def lying_safetensors(path, declared_elements):
    """A safetensors header that declares a huge tensor backed by 16 bytes of data."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [declared_elements],
                               "data_offsets": [0, declared_elements * 4]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 16)


def test_a_lying_weights_header_is_refused_with_bounded_memory(tmp_path):
    bad = tmp_path / "liar.safetensors"
    lying_safetensors(bad, 10**12)  # claims 4 TB
    proc, rss = child_peak_rss_mb(["hello", "--weights", bad, "-o", tmp_path / "x.png"])
    assert_user_error(proc, "truncated")
    assert rss < 400, f"peak RSS {rss:.0f} MB"
    huge_header = tmp_path / "bigheader.safetensors"
    huge_header.write_bytes((2**62).to_bytes(8, "little") + b"{" + b" " * 64)
    assert_user_error(run_genkit("hello", "--weights", huge_header), "truncated")


def test_weights_with_wrong_shapes_or_dtypes_are_refused_clearly(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    env = {"PYTHONPATH": str(REPO / "tests" / "plugins") + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "GENKIT_PLUGINS": "genkit_tiny"}
    numbers = tmp_path / "n.txt"
    numbers.write_text(" ".join(map(str, range(10))))
    meta = {"config": json.dumps({"hidden": 8})}
    wrong_shape = {"body.0.weight": torch.zeros(8, 5), "body.0.bias": torch.zeros(8),
                   "body.2.weight": torch.zeros(1, 8), "body.2.bias": torch.zeros(1)}
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
