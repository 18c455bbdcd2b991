"""`genkit train` / `genkit eval` options and outputs: ranges enforced, nothing replaced, one-line errors,
interrupts that keep a resumable checkpoint, precision, and the task protocol's check."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import TINY_PLUGIN_ENV, assert_user_error, run_genkit

torch = pytest.importorskip("torch")
from safetensors.torch import load_file

from genkit import weights
from genkit.errors import GenkitError
from genkit.train import checkpoint

ENV = TINY_PLUGIN_ENV


def train(*args, **kw):
    return run_genkit("train", "tiny", "--quiet", *args, env=ENV, **kw)


# ---------------------------------------------------------------- option ranges


@pytest.mark.parametrize(
    "flag,value,fragment",
    [
        ("--batch-size", "0", "--batch-size must be in [1, 65536]"),
        ("--epochs", "0", "--epochs must be in"),
        ("--max-steps", "0", "--max-steps must be in"),
        ("--max-minutes", "0", "--max-minutes must be in (0,"),
        ("--max-minutes", "inf", "finite"),
        ("--lr", "nan", "finite"),
        ("--lr", "0", "--lr must be in (0,"),
        ("--lr", "-1e-3", "--lr must be in"),
        ("--checkpoint-every", "-1", "--checkpoint-every must be in"),
        ("--nproc", "0", "--nproc must be in [1,"),
        ("--seed", "-1", "--seed must be in"),
        ("--hidden", "0", "--hidden must be in [1, 64]"),  # the generator's own train option
    ],
)
def test_every_range_shown_in_help_is_enforced(numbers, tmp_path, flag, value, fragment):
    assert_user_error(train("--data", numbers, "--out", tmp_path / "r", flag, value), fragment)
    assert not (tmp_path / "r").exists()


def test_help_shows_the_ranges_and_eval_help_only_what_eval_uses():
    train_help = " ".join(run_genkit("train", "tiny", "--help", env=ENV, check=0).stdout.split())
    for text in ("--batch-size", "range [1, 65536]", "--precision", "--checkpoint-every", "--hidden"):
        assert text in train_help, text
    eval_help = run_genkit("eval", "tiny", "--help", env=ENV, check=0).stdout
    for gone in ("--batch-size", "--epochs", "--resume", "--nproc", "--precision", "--out", "--debug"):
        assert gone not in eval_help, gone
    for kept in ("--data", "--weights", "--json", "--seed", "--device"):
        assert kept in eval_help, kept
    assert_user_error(run_genkit("eval", "tiny", "--data", "x", "--batch-size", "4", env=ENV), "--batch-size")


# ---------------------------------------------------------------- outputs and bad input


def test_a_folder_holding_any_part_of_a_run_needs_resume_or_overwrite(numbers, tmp_path):
    for part in ("loss.png", "MODEL_CARD.md", "checkpoint.safetensors", "tiny.safetensors"):
        out = tmp_path / part.replace(".", "-")
        out.mkdir()
        (out / part).write_bytes(b"keep me")
        assert_user_error(train("--data", numbers, "--out", out), "already holds a training run", part)
        assert (out / part).read_bytes() == b"keep me"
    out = tmp_path / "loss-png"
    train("--data", numbers, "--out", out, "--max-steps", "2", "--no-eval", "--overwrite", check=0)
    assert (out / "loss.png").read_bytes() != b"keep me"


def test_out_that_is_a_file_and_bad_checkpoint_metadata_are_one_line_errors(numbers, tmp_path):
    (tmp_path / "file").write_text("x")
    assert_user_error(train("--data", numbers, "--out", tmp_path / "file"), "is a file")
    assert_user_error(train("--data", numbers, "--out", tmp_path / "file" / "run"), "is a file")
    out = tmp_path / "run"
    train("--data", numbers, "--out", out, "--max-steps", "2", "--no-eval", check=0)
    ckpt = out / "checkpoint.safetensors"
    tensors, meta = weights.load_tensors(ckpt)
    for key, bad in (("step", "two"), ("optimizers", [1]), ("config", None), ("history", {"a": 1})):
        weights.save_tensors(tensors, {**meta, key: bad}, ckpt)
        assert_user_error(train("--data", numbers, "--out", out, "--resume"), "--resume")
    ckpt.write_bytes(b"not a checkpoint at all")
    assert_user_error(train("--data", numbers, "--out", out, "--resume"))


def test_a_fifo_as_data_or_inside_a_data_folder_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "numbers.txt"
    os.mkfifo(fifo)
    assert_user_error(train("--data", fifo, "--out", tmp_path / "r", timeout=60), "not a regular file")
    folder = tmp_path / "shapes" / "bar"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "001.png")
    proc = run_genkit("train", "image", "--data", tmp_path / "shapes", "--out", tmp_path / "r", timeout=60)
    assert_user_error(proc, "not a regular file", "001.png")


# ---------------------------------------------------------------- interrupts


def straight_run(numbers, out, steps):
    train("--data", numbers, "--out", out, "--max-steps", str(steps), "--no-eval", "--precision", "fp32", check=0)


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupt_before_the_first_checkpoint_saves_one_and_resume_finishes_exactly(
    numbers, tmp_path, signum, code
):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "genkit",
        "train",
        "tiny",
        "--data",
        str(numbers),
        "--out",
        str(out),
        "--max-steps",
        "3000000",
        "--no-eval",
        "--precision",
        "fp32",
    ]  # default: a checkpoint every 5 minutes
    proc = subprocess.Popen(cmd, env=dict(os.environ, **ENV), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()  # the run's start line: the loop is running
    assert first.startswith("[genkit train] tiny"), first
    time.sleep(0.5)
    proc.send_signal(signum)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == code, rest
    lines = rest.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genkit: error: interrupted by"), rest
    step = int(weights.metadata(out / "checkpoint.safetensors")["step"])
    assert step > 0 and not (out / "tiny.safetensors").exists()
    train("--data", numbers, "--out", out, "--max-steps", str(step + 5), "--no-eval", "--resume", check=0)
    if signum == signal.SIGTERM:  # one comparison with an unbroken run is enough; both resume the same way
        return
    straight_run(numbers, tmp_path / "straight", step + 5)
    a, b = load_file(str(out / "tiny.safetensors")), load_file(str(tmp_path / "straight" / "tiny.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------- precision


def test_bf16_run_writes_fp32_weights_and_records_its_precision(numbers, tmp_path):
    from genkit.train.precision import cpu_has_bf16

    out = tmp_path / "run"
    if not cpu_has_bf16():  # this machine: the run is refused in one line, before anything is written
        assert_user_error(train("--data", numbers, "--out", out, "--precision", "bf16"), "no bf16 instructions")
        assert not out.exists()
        pytest.skip("this CPU has no bf16 instructions: the refusal is checked, a bf16 run cannot be")
    summary = json.loads(train("--data", numbers, "--out", out, "--precision", "bf16", check=0).stdout)
    assert summary["precision"] == "bf16"
    tensors, meta = weights.load_tensors(out / "tiny.safetensors")
    assert meta["precision"] == "bf16" and all(t.dtype == torch.float32 for t in tensors.values())
    assert "precision bf16" in (out / "MODEL_CARD.md").read_text()
    ckpt, _ = weights.load_tensors(out / "checkpoint.safetensors")
    assert all(t.dtype != torch.bfloat16 for t in ckpt.values())
    assert_user_error(
        train("--data", numbers, "--out", tmp_path / "r16", "--precision", "fp16", "--device", "cpu"),
        "fp16 needs a CUDA device",
    )


def test_auto_precision_picks_fp32_where_bf16_is_not_faster(tmp_path, monkeypatch):
    from genkit.train import precision

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cpu = torch.device("cpu")
    assert precision.resolve("auto", cpu, cpu_probe=lambda: False) == "fp32"
    assert precision.resolve("auto", cpu, cpu_probe=lambda: True) == "bf16"
    assert precision.resolve("fp32", cpu, cpu_probe=lambda: True) == "fp32"
    assert precision.resolve("bf16", cpu, flags={"avx512_bf16"}) == "bf16"
    with pytest.raises(GenkitError, match="no bf16 instructions"):  # emulated bf16: refused, not 100x slower
        precision.resolve("bf16", cpu, flags={"avx2", "avx512f"})
    assert not precision.cpu_bf16_is_faster(flags={"avx2", "avx512f"})  # no bf16 instructions: no timing
    calls = []

    def slow_bf16(dtype):
        calls.append(dtype)
        return 1.0 if dtype == torch.bfloat16 else 1.1  # bf16 only 1.1x: not measurably faster

    assert not precision.cpu_bf16_is_faster(flags={"avx512_bf16"}, timer=slow_bf16)
    assert not precision.cpu_bf16_is_faster(flags={"avx512_bf16"}, timer=slow_bf16) and len(calls) == 2  # cached
    assert precision.cpu_flags(str(tmp_path / "missing")) == set()


# ---------------------------------------------------------------- the protocol


def test_a_task_missing_a_member_is_named_in_one_line_and_defaults_fill_the_rest():
    from genkit.train.protocol import TaskError, TrainingTask, adopt

    class Partial:
        config = {}

        def build_model(self):
            return torch.nn.Linear(1, 1)

        def train_data(self):
            return []

    with pytest.raises(TaskError, match="lacks evaluate, loss \\(or train_step\\)"):
        adopt(Partial(), "demo")

    class Plain(Partial):
        def evaluate(self, model, device):
            return {}

        def loss(self, model, batch):
            return model(batch).sum(), {}

    task = adopt(Plain(), "demo")
    assert isinstance(task, TrainingTask) and task.state_dict() == {} and task.end_epoch(None, 1) == {}
    assert len(task.optimizers(torch.nn.Linear(2, 2), 0.1)) == 1


def test_the_protocol_and_the_commands_import_without_torch():
    code = "import sys, genkit.train.protocol, genkit.train.command; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_resume_keeps_the_settings_of_the_run_it_continues(numbers, tmp_path):
    out = tmp_path / "run"
    train(
        "--data", numbers, "--out", out, "--batch-size", "4", "--lr", "0.01", "--max-steps", "3", "--no-eval", check=0
    )
    summary = json.loads(train("--data", numbers, "--out", out, "--resume", "--no-eval", check=0).stdout)
    assert (summary["batch_size"], summary["lr"], summary["steps"]) == (4, 0.01, 3)


def test_resume_takes_every_option_not_given_again_from_the_run_and_the_card_says_them_all(numbers, tmp_path):
    out = tmp_path / "run"
    first = ["--data", numbers, "--out", out, "--hidden", "4", "--seed", "3", "--max-steps", "2", "--no-eval"]
    train(*first, check=0)
    command = (out / "MODEL_CARD.md").read_text().split("- command: `")[1].split("`")[0]
    # A plain resume is the same run: same command, the options come from the checkpoint.
    train("--data", numbers, "--out", out, "--resume", "--no-eval", check=0)
    assert (out / "MODEL_CARD.md").read_text().split("- command: `")[1].split("`")[0] == command
    # Lengthened: the card and the weights say both sittings, the second with every option.
    train("--data", numbers, "--out", out, "--resume", "--max-steps", "4", "--no-eval", check=0)
    both = weights.metadata(out / "tiny.safetensors")["command"]
    assert (
        both.startswith(command + " && ")
        and both.endswith(" --resume")
        and f"`{both}`" in (out / "MODEL_CARD.md").read_text()
    )
    assert all(arg in both.split(" && ")[1] for arg in ("--hidden 4", "--seed 3", "--max-steps 4"))
    assert weights.metadata(out / "tiny.safetensors")["config"]["hidden"] == 4
    # What is given again wins, and a change the model cannot take is still refused by name.
    assert_user_error(
        train("--data", numbers, "--out", out, "--resume", "--hidden", "5", "--max-steps", "5"), "hidden differ"
    )


def test_sittings_read_from_a_checkpoint_are_checked_not_trusted():
    fresh = [{"command": "genkit train x", "from_step": 5}]
    assert checkpoint.add_sitting({"sittings": "junk"}, "genkit train x", 5) == fresh
    assert checkpoint.add_sitting({"sittings": [{"command": 1, "from_step": 0}]}, "genkit train x", 5) == fresh
    kept = [{"command": "genkit train a", "from_step": 0}]
    assert checkpoint.add_sitting({"sittings": kept}, "genkit train a", 9) == kept
    assert checkpoint.add_sitting({"sittings": kept}, "genkit train b", 0) == [
        {"command": "genkit train b", "from_step": 0}
    ]


@pytest.mark.parametrize("recorded, fragment", [("lots", "unusable value for --hidden"), (1000, "--hidden must be in")])
def test_a_checkpoint_recording_a_bad_option_is_refused_on_resume(numbers, tmp_path, recorded, fragment):
    out = tmp_path / "run"
    train("--data", numbers, "--out", out, "--max-steps", "1", "--no-eval", check=0)
    path = out / "checkpoint.safetensors"
    meta = weights.metadata(path)
    weights.save_tensors(load_file(path), {**meta, "options": {"hidden": recorded}}, path)
    assert_user_error(train("--data", numbers, "--out", out, "--resume", "--max-steps", "2"), fragment)
