"""Checkpoints: tensors in safetensors, everything else in JSON metadata, never pickle.

A checkpoint holds the model, every optimizer's state, the task's own state (``task.state_dict``),
every process's random state, the fp16 loss scale, the step, the history and the run settings,
so a resumed run continues exactly where the saved one was. It is written to a temporary name
and renamed, so a run killed at any moment leaves the previous checkpoint whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from genkit import __version__, weights
from genkit.errors import GenkitError

CHECKPOINT = "checkpoint.safetensors"
# (key, type) every checkpoint's metadata must carry; anything else is refused on --resume.
_FIELDS = (("generator", str), ("config", dict), ("signature", str), ("step", int), ("history", list),
           ("elapsed", (int, float)), ("optimizers", list), ("task_state", dict), ("precision", str),
           ("scaler", dict))
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
    tensors, plain = {}, {}
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
            pid, key = name[len(prefix):].split(".", 1)
            state.setdefault(int(pid), {})[key] = value
    for pid, values in saved["plain"].items():
        state.setdefault(int(pid), {}).update(values)
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})


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
            raise GenkitError(f"--resume: {path} has bad or missing metadata {key!r}; it was not written by this "
                              "version of 'genkit train' (start again with --overwrite)")
    if meta["generator"] != generator:
        raise GenkitError(f"--resume: {path} belongs to generator {meta['generator']!r}, not {generator!r}")
    if meta["step"] < 0 or not all(isinstance(o, dict) and {"param_groups", "plain"} <= set(o) for o in meta["optimizers"]):
        raise GenkitError(f"--resume: {path} has bad optimizer or step metadata")
    return meta


def recorded_options(meta: dict) -> dict:
    """The options a checkpoint's run was started with, by parameter name (``Option.dest``).

    ``run`` holds the loop's numbers as resolved (epochs, batch size, lr, max steps), ``options`` the
    generator's own train options; checkpoints older than ``options`` give only what they have.
    """
    recorded = {}
    for part in (meta.get("run"), {"seed": meta.get("seed")}, meta.get("options")):
        if isinstance(part, dict):
            recorded.update({k: v for k, v in part.items() if isinstance(k, str) and v is not None})
    return recorded


def load(path: Path, generator: str) -> Saved:
    """Read a checkpoint for ``--resume``: checked metadata, then its tensors on the CPU."""
    meta = check(path, generator)
    tensors, _ = weights.load_tensors(path, "cpu")
    return Saved(path, tensors, meta)


def check_same_config(saved: Saved, config: dict) -> None:
    old = saved.meta["config"]
    if old != config:
        changed = sorted(k for k in set(config) | set(old) if config.get(k) != old.get(k))
        raise GenkitError(f"--resume: {saved.path} was written for a different architecture or data "
                          f"({', '.join(changed)} differ)")
