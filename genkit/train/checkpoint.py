"""Checkpoints: tensors in safetensors, everything else in JSON metadata, never pickle.

A checkpoint holds the model, every optimizer's state, the task's own state (``task.state_dict``),
every process's random state, the fp16 loss scale, the step, the history and the run settings,
so a resumed run continues exactly where the saved one was. It is written to a temporary name
and renamed, so a run killed at any moment leaves the previous checkpoint whole.
"""

from __future__ import annotations

import hashlib
import math
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genkit import __version__, weights
from genkit.errors import GenkitError, RunError
from genkit.train import schema

CHECKPOINT = "checkpoint.safetensors"
# (key, type) every checkpoint's metadata must carry; anything else is refused on --resume.
_FIELDS = (
    ("generator", str),
    ("config", dict),
    ("signature", str),
    ("step", int),
    ("history", list),
    ("elapsed", (int, float)),
    ("optimizers", list),
    ("task_state", dict),
    ("precision", str),
    ("scaler", dict),
)
# Checkpoints written before task state and precision existed resume as fp32 with no task state.
_ADDED_LATER = {"task_state": {}, "precision": "fp32", "scaler": {}}


def signature(model) -> str:
    """A short fingerprint of the architecture: parameter names and shapes."""
    text = ";".join(f"{k}:{tuple(v.shape)}" for k, v in model.state_dict().items())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def split_optimizer(i: int, optimizer) -> tuple[dict, dict]:
    """An optimizer's state as (tensors for safetensors, JSON)."""
    import torch

    sd = optimizer.state_dict()
    tensors, plain = {}, dict[str, dict]()
    for pid, state in sd["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{i}.{pid}.{key}"] = value
            else:
                plain.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "plain": plain}


def restore_optimizer(i: int, optimizer, tensors: dict, saved: dict) -> None:
    state: dict = {}
    prefix = f"optim.{i}."
    for name, value in tensors.items():
        if name.startswith(prefix):
            pid, key = name[len(prefix) :].split(".", 1)
            state.setdefault(int(pid), {})[key] = value
    for pid, values in saved["plain"].items():
        state.setdefault(int(pid), {}).update(values)
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    _check_optimizer_shapes(optimizer)


def _check_optimizer_shapes(optimizer) -> None:
    """Each restored state tensor (Adam's moments) has its parameter's shape: a wrong one would fail
    only inside the first step. ValueError names it (the caller makes it one line)."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for pid, values in optimizer.state.items():
        index = next((k for k, p in enumerate(params) if p is pid), None)
        for key, value in values.items():
            if getattr(value, "ndim", 0) and index is not None and tuple(value.shape) != tuple(params[index].shape):
                raise ValueError(
                    f"the state {key!r} of parameter {index} has shape {tuple(value.shape)}, "
                    f"the parameter {tuple(params[index].shape)}"
                )


def split_task_state(state: dict) -> tuple[dict, dict]:
    """A task's ``state_dict()`` as (tensors named ``task.KEY``, JSON values)."""
    import torch

    tensors, plain = {}, {}
    for key, value in state.items():
        if isinstance(value, torch.Tensor):
            tensors[f"task.{key}"] = value
        else:
            plain[key] = value
    return tensors, plain


def join_task_state(tensors: dict, plain: dict) -> dict:
    state = dict(plain)
    state.update({k[5:]: v for k, v in tensors.items() if k.startswith("task.")})
    return state


@dataclass
class Saved:
    """A checkpoint read back: its tensors (on the CPU) and its checked metadata."""

    path: Path
    tensors: dict
    meta: dict

    def model_state(self) -> dict:
        return {k[6:]: v for k, v in self.tensors.items() if k.startswith("model.")}


def save(path: Path, tensors: dict, meta: dict) -> None:
    weights.save_tensors(tensors, {**meta, "genkit": __version__}, path)


def check(path: Path, generator: str) -> dict:
    """The metadata of a checkpoint for ``--resume``, checked from its header alone (no torch import)."""
    if not path.is_file():
        raise GenkitError(f"--resume: no checkpoint at {path}")
    meta = {**_ADDED_LATER, **weights.metadata(path)}
    for key, kind in _FIELDS:
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise GenkitError(
                f"--resume: {path} has bad or missing metadata {key!r}; it was not written by this "
                "version of 'genkit train' (start again with --overwrite)"
            )
    if meta["generator"] != generator:
        raise GenkitError(f"--resume: {path} belongs to generator {meta['generator']!r}, not {generator!r}")
    if meta["step"] < 0 or not all(
        isinstance(o, dict) and {"param_groups", "plain"} <= set(o) for o in meta["optimizers"]
    ):
        raise GenkitError(f"--resume: {path} has bad optimizer or step metadata")
    try:
        schema.check_meta(meta, generator)
    except schema.Bad as exc:
        raise schema.error(path, str(exc)) from None
    return meta


def options_as_given(settings) -> dict:
    """What a run's checkpoint records of its options: the loop's numbers as given (None: the task's
    default) and the generator's own options, all JSON."""
    numbers = {
        "epochs": settings.epochs,
        "max_steps": settings.max_steps,
        "batch_size": settings.batch_size,
        "lr": settings.lr,
        "seed": settings.seed,
        "no_eval": True if not settings.evaluate else None,  # a flag too: --resume keeps it (None: not given)
    }
    return {k: str(v) if isinstance(v, Path) else v for k, v in {**numbers, **settings.options}.items()}


def recorded_options(meta: dict) -> dict:
    """The options a checkpoint's run was started with, by parameter name (``Option.dest``).

    Read from ``options`` (``options_as_given``); a checkpoint older than it gives the loop's
    numbers as they were resolved (``run``) and the seed. Unset (None) values are left out.
    """
    parts = (
        [meta["options"]] if isinstance(meta.get("options"), dict) else [meta.get("run"), {"seed": meta.get("seed")}]
    )
    recorded = {}
    for part in parts:
        if isinstance(part, dict):
            recorded.update({k: v for k, v in part.items() if isinstance(k, str) and v is not None})
    return recorded


def add_sitting(meta: dict | None, command: str, step: int) -> list[dict]:
    """The run's sittings, ``[{"command", "from_step"}]``, with this one added when its command differs.

    A plain ``--resume`` rebuilds the same command (it takes the run's options), so it adds nothing;
    one that lengthens or changes the run is recorded, so the card says how the weights were made.
    A malformed record from a checkpoint is dropped rather than trusted.
    """
    saved: Any = (meta or {}).get("sittings")  # checked item by item below
    ok = isinstance(saved, list) and all(
        isinstance(x, dict) and isinstance(x.get("command"), str) and isinstance(x.get("from_step"), int) for x in saved
    )
    sittings = [dict(x) for x in saved] if ok else []
    if sittings and sittings[-1]["from_step"] >= step:  # the last sitting did no step: this one replaces it
        sittings.pop()
    if not sittings or sittings[-1]["command"] != command:
        sittings.append({"command": command, "from_step": step})
    return sittings


def command_of(sittings: list[dict]) -> str:
    """One shell line that makes the weights: each sitting's command, the later ones with ``--resume``."""
    # Re-quoted word by word: a checkpoint's text never reaches the card as shell syntax of its own.
    return " && ".join(
        shlex.join(shlex.split(s["command"])) + (" --resume" if k else "") for k, s in enumerate(sittings)
    )


def load(path: Path, generator: str) -> Saved:
    """Read a checkpoint for ``--resume``: checked metadata, then its tensors on the CPU."""
    meta = check(path, generator)
    tensors, _ = weights.load_tensors(path, "cpu")
    try:
        schema.check_tensors(tensors)
    except schema.Bad as exc:
        raise schema.error(path, str(exc)) from None
    return Saved(path, tensors, meta)


def restore_task_state(task, saved: Saved) -> None:
    """Give the task its saved state; a value the task cannot take is one line, not a traceback."""
    try:
        task.load_state_dict(join_task_state(saved.tensors, saved.meta["task_state"]))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, RuntimeError) as exc:
        raise schema.error(saved.path, f"its task state does not fit this task ({type(exc).__name__}: {exc})") from None


def non_finite(record: dict) -> list[str]:
    """The losses in one step's history record that are NaN or infinite (other metrics may be)."""
    return [k for k, v in record.items() if "loss" in k and isinstance(v, float) and not math.isfinite(v)]


def diverged(record: dict, step: int, path: Path) -> RunError:
    """The error that stops a run whose loss is no longer a number, naming the checkpoint it keeps."""
    names = ", ".join(f"{k} {record[k]}" for k in non_finite(record))
    try:
        kept = (
            f"the last good checkpoint (step {int(weights.metadata(path)['step'])}) in {path.parent} is kept; "
            "resume from it with a lower --lr or --precision fp32"
        )
    except (GenkitError, KeyError, TypeError, ValueError):
        kept = "no checkpoint was saved yet; try a lower --lr or --precision fp32"
    return RunError(f"training stopped at step {step}: {names} (the model diverged); {kept}")


def check_same_config(saved: Saved, config: dict) -> None:
    old = saved.meta["config"]
    if old != config:
        changed = sorted(k for k in set(config) | set(old) if config.get(k) != old.get(k))
        raise GenkitError(
            f"--resume: {saved.path} was written for a different architecture or data ({', '.join(changed)} differ)"
        )
