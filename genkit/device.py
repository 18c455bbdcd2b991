"""Device choice and seeds."""

from __future__ import annotations

import hashlib
import os
import platform
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from genkit.errors import GenkitError

if TYPE_CHECKING:
    import torch

    from genkit.spec import GeneratorSpec

DEVICE_ENV = "GENKIT_DEVICE"
MAX_SEED = 2**63 - 1


def requested_device(device: str | None) -> str:
    """The device string the user asked for: the flag, else $GENKIT_DEVICE, else auto."""
    return (device or os.environ.get(DEVICE_ENV) or "auto").strip().lower()


UNKNOWN_DEVICE = "unknown device {!r}: use auto, cpu, cuda, cuda:N or mps"


def guess_device(device: str | None = None, spec: GeneratorSpec | None = None) -> str:
    """The device a run would pick, guessed without importing torch (for `genkit models`)."""
    if spec is not None and not spec.uses_torch:
        return "cpu"
    wanted = requested_device(device)
    if wanted != "auto":
        return wanted
    if Path("/dev/nvidia0").exists() or Path("/dev/nvidiactl").exists():
        return "cuda"
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return "mps"
    return "cpu"


def resolve_device(device: str | None = None) -> torch.device:
    """Return a torch.device for a device string; an absent device is a clear error."""
    import torch

    wanted = requested_device(device)
    if wanted == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(wanted)
    except (RuntimeError, ValueError):
        raise GenkitError(UNKNOWN_DEVICE.format(wanted)) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise GenkitError(f"device {wanted!r} was asked for but this machine has no usable CUDA GPU")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise GenkitError(f"device {wanted!r} does not exist: {torch.cuda.device_count()} CUDA device(s) found")
    elif dev.type == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise GenkitError("device 'mps' was asked for but Apple's Metal backend is not available here")
    elif dev.type != "cpu":
        raise GenkitError(f"unsupported device {wanted!r}: use auto, cpu, cuda, cuda:N or mps")
    return dev


@dataclass(frozen=True)
class HostCPU:
    """The device handed to a generator whose spec says ``uses_torch=False``: the CPU, named as
    torch.device names it (``.type``, ``.index``, ``str``) without importing torch."""

    type: str = "cpu"
    index: None = None

    def __str__(self) -> str:
        return "cpu"


_KNOWN = ("auto", "cpu", "cuda", "mps")


def device_for(spec: GeneratorSpec, device: str | None = None) -> torch.device | HostCPU:
    """The device ``spec``'s generator runs on: torch's choice, or HostCPU for a torch-free one.

    A torch-free generator has nothing to do on a GPU: ``--device`` other than auto or cpu is
    refused in one line, while a machine-wide $GENKIT_DEVICE=cuda is ignored rather than breaking it.
    """
    if spec.uses_torch:
        return resolve_device(device)
    wanted = requested_device(device)
    kind, _, index = wanted.partition(":")
    if kind not in _KNOWN or (index and not (kind == "cuda" and index.isdigit())):
        raise GenkitError(UNKNOWN_DEVICE.format(wanted))
    if device and device.strip().lower() not in ("auto", "cpu"):
        raise GenkitError(f"{spec.name} runs on the CPU only (it uses no torch); leave out --device {device}")
    return HostCPU()


def new_seed() -> int:
    return secrets.randbelow(2**31)


def item_seed(run_seed: int, index: int) -> int:
    """The seed of item ``index`` of a run: independent of --n and of batch size."""
    digest = hashlib.sha256(f"genkit:{run_seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & MAX_SEED
