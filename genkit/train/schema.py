"""The schema of a checkpoint's records, checked on ``--resume`` before the first step.

A checkpoint may come from anywhere (a shared folder, a download, a hand edit), so every field
read back is checked here against what ``genkit train`` writes: the step, elapsed time, history,
optimizer groups and plain state, task state, loss scale, precision, recorded sittings and the
random states. A bad field is one line naming it (``CheckpointError``, exit 2) and the checkpoint
is left as it was. Sittings matter most: their commands reach the model card and the weights'
``command``, so each must be a plain ``genkit train NAME ...`` line (see ``genkit.train.checkpoint.command_of``).
"""

from __future__ import annotations

import math
import shlex

from genkit.errors import GenkitError
from genkit.printable import printable

PRECISIONS = ("fp32", "bf16", "fp16")
MAX_STEP = 10**12
MAX_SITTINGS = 1000
MAX_KEY_CHARS = 200
MAX_DEPTH = 8  # nesting of task state and optimizer values


class Bad(ValueError):
    """One field of a checkpoint is not what genkit writes (the message says which and why)."""


def check_meta(meta: dict, generator: str) -> None:
    """Raise Bad naming the first field of ``meta`` (already type-checked at the top level) that is wrong."""
    step = meta["step"]
    if not 0 <= step <= MAX_STEP:
        raise Bad(f"step {step} is out of range")
    if not _finite(meta["elapsed"]) or meta["elapsed"] < 0:
        raise Bad("elapsed is not a finite number of seconds")
    if meta["precision"] not in PRECISIONS:
        raise Bad(f"precision {printable(meta['precision'], 20)} is not one of {', '.join(PRECISIONS)}")
    _check_numbers(meta["scaler"], "scaler", finite=True)
    _check_history(meta["history"], step)
    for k, optimizer in enumerate(meta["optimizers"]):
        _check_optimizer(optimizer, f"optimizers[{k}]")
    _check_plain(meta["task_state"], "task_state", 0)
    if "options" in meta and not isinstance(meta["options"], dict):
        raise Bad("options is not a table")
    if "sittings" in meta:
        check_sittings(meta["sittings"], generator, step)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _key(key, where: str) -> None:
    if not isinstance(key, str) or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise Bad(f"{where} has a key that is not a short printable name ({printable(key, 40)})")


def _check_numbers(table, where: str, finite: bool) -> None:
    """A flat table of numbers (``finite``: no NaN or infinity; a history may hold an fp16 run's inf grad norm)."""
    if not isinstance(table, dict):
        raise Bad(f"{where} is not a table")
    for key, value in table.items():
        _key(key, where)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or (finite and not math.isfinite(value)):
            raise Bad(f"{where}[{printable(key, 40)}] is not a {'finite ' if finite else ''}number")


def _check_history(history: list, step: int) -> None:
    for k, record in enumerate(history):
        if not isinstance(record, dict):
            raise Bad(f"history[{k}] is not a table")
        _check_numbers(record, f"history[{k}]", finite=False)
        at = record.get("step")
        if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at <= step:
            raise Bad(f"history[{k}] has no step between 0 and {step}")


def _check_plain(value, where: str, depth: int) -> None:
    """JSON values a task or optimizer may keep: numbers, short strings, lists and tables of them."""
    if depth > MAX_DEPTH:
        raise Bad(f"{where} is nested too deeply")
    if isinstance(value, dict):
        for key, item in value.items():
            _key(key, where)
            _check_plain(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for k, item in enumerate(value):
            _check_plain(item, f"{where}[{k}]", depth + 1)
    elif isinstance(value, str) and (len(value) > 10_000 or not value.isprintable()):
        raise Bad(f"{where} is not a short printable string")
    elif value is not None and not isinstance(value, (int, float, str, bool)):
        raise Bad(f"{where} is not a JSON value")


def _check_optimizer(optimizer: dict, where: str) -> None:
    groups, plain = optimizer["param_groups"], optimizer["plain"]
    if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
        raise Bad(f"{where}.param_groups is not a list of tables")
    for k, group in enumerate(groups):
        params = group.get("params")
        if not isinstance(params, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in params):
            raise Bad(f"{where}.param_groups[{k}].params is not a list of parameter numbers")
        _check_plain(group, f"{where}.param_groups[{k}]", 0)
        lr = group.get("lr", 0.0)
        if not _finite(lr) or lr < 0:
            raise Bad(f"{where}.param_groups[{k}].lr is not a finite rate")
    if not isinstance(plain, dict):
        raise Bad(f"{where}.plain is not a table")
    for pid, values in plain.items():
        if not (isinstance(pid, str) and pid.isdigit() and len(pid) < 10) or not isinstance(values, dict):
            raise Bad(f"{where}.plain has an entry that is not a parameter's state")
        _check_plain(values, f"{where}.plain.{pid}", 0)


def check_sittings(sittings, generator: str, step: int) -> None:
    """Each sitting a ``{"command", "from_step"}`` whose command is a plain `genkit train GENERATOR` line."""
    if not isinstance(sittings, list) or len(sittings) > MAX_SITTINGS:
        raise Bad("sittings is not a list of sittings")
    last = -1
    for k, sitting in enumerate(sittings):
        if not isinstance(sitting, dict) or set(sitting) != {"command", "from_step"}:
            raise Bad(f"sittings[{k}] is not a sitting (command and from_step)")
        at, command = sitting["from_step"], sitting["command"]
        if not isinstance(at, int) or isinstance(at, bool) or not last < at <= step:
            raise Bad(f"sittings[{k}].from_step is not a step after the previous sitting's")
        last = at
        if not isinstance(command, str) or len(command) > 10_000 or not command.isprintable():
            raise Bad(f"sittings[{k}].command is not a printable command line")
        try:
            words = shlex.split(command)
        except ValueError:
            raise Bad(f"sittings[{k}].command is not a command line ({printable(command, 60)})") from None
        if words[:3] != ["genkit", "train", generator] or any(not w.isprintable() for w in words):
            raise Bad(f"sittings[{k}].command is not a 'genkit train {generator}' command ({printable(command, 60)})")


def check_tensors(tensors: dict) -> None:
    """The random states a checkpoint restores: uint8 vectors, the CPU ones of the generator's own size."""
    import torch

    cpu = [k for k in tensors if k.startswith("rng.cpu.")]
    if "rng.cpu.0" not in tensors:
        raise Bad("the random state rng.cpu.0 is missing")
    size = torch.get_rng_state().numel()
    for key in [k for k in tensors if k.startswith("rng.")]:
        value = tensors[key]
        if value.dtype != torch.uint8 or value.ndim != 1 or (key in cpu and value.numel() != size):
            raise Bad(f"the random state {printable(key, 40)} is not a generator's state")


def error(path, why: str) -> GenkitError:
    return GenkitError(
        f"--resume: {path} has a bad record: {why}; the checkpoint was left untouched "
        "(it was not written by 'genkit train', or was edited)"
    )
