"""Mixed precision for the shared loop: which one ``--precision auto`` picks, and how a step uses it.

Only the forward passes run in low precision (autocast). Master weights, optimizer state,
checkpoints and evaluation stay fp32. fp16 (CUDA only) scales the loss with a GradScaler whose
state travels in the checkpoint so a resumed run scales exactly as an unbroken one.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from genkit.errors import GenkitError

CHOICES = ("auto", "fp32", "bf16", "fp16")
CPU_FLAGS = ("avx512_bf16", "amx_bf16")
FASTER_BY = 1.3  # bf16 must beat fp32 by this factor on a matmul before auto picks it


def cpu_flags(path: str = "/proc/cpuinfo") -> set[str]:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def _cache_file() -> Path:
    from genkit import state

    return state.cache_root() / "cpu-bf16.json"


def _time_matmul(dtype, size: int = 512, reps: int = 8) -> float:
    import torch

    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    a @ b  # first call pays for kernel selection
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return time.perf_counter() - start


def cpu_has_bf16(flags: set[str] | None = None) -> bool:
    """The CPU has bf16 instructions (without them torch emulates bf16: ~100x slower, and oneDNN's LSTM refuses it)."""
    return any(f in (cpu_flags() if flags is None else flags) for f in CPU_FLAGS)


def cpu_bf16_is_faster(flags: set[str] | None = None, timer=_time_matmul) -> bool:
    """bf16 on this CPU: its flags must say so, and a matmul timed once (then cached) must agree."""
    flags = cpu_flags() if flags is None else flags
    if not cpu_has_bf16(flags):
        return False
    import torch

    from genkit import state

    cache = _cache_file()
    key = f"{' '.join(sorted(f for f in flags if f in CPU_FLAGS))}|torch {torch.__version__}|{torch.get_num_threads()}"
    # A link, FIFO or damaged file there is replaced (never written through) after one warning.
    known = {k: v for k, v in (state.read_json(cache) or {}).items() if isinstance(v, bool)}
    if key in known:
        return known[key]
    ratio = timer(torch.float32) / max(timer(torch.bfloat16), 1e-9)
    faster = ratio >= FASTER_BY
    state.write_json(cache, {**known, key: faster})  # a read-only home only costs the timing again next time
    return faster


def resolve(requested: str, device, cpu_probe=cpu_bf16_is_faster, flags: set[str] | None = None) -> str:
    """The precision a run uses on ``device`` (a torch.device) for ``requested`` (one of CHOICES)."""
    kind = device.type
    if requested == "bf16" and kind == "cpu" and not cpu_has_bf16(flags):
        raise GenkitError(
            "--precision bf16: this CPU has no bf16 instructions (AVX512-BF16 or AMX), so bf16 would be "
            "emulated, far slower than fp32, and LSTM layers refuse it; use --precision auto or fp32"
        )
    if requested == "auto":
        if kind == "cuda":
            import torch

            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "bf16" if kind == "cpu" and cpu_probe() else "fp32"
    if requested == "fp16" and kind != "cuda":
        raise GenkitError(f"--precision fp16 needs a CUDA device (this run is on {kind}); use bf16 or fp32")
    if requested == "bf16" and kind not in ("cpu", "cuda"):
        raise GenkitError(f"--precision bf16 is not available on {kind}; use fp32")
    return requested


class Precision:
    """Autocast and (for fp16) loss scaling for one run."""

    def __init__(self, name: str, device):
        import torch

        self.name = name
        self.device_type = device.type
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(name)
        self.scaler = torch.amp.GradScaler("cuda") if name == "fp16" else None

    def autocast(self):
        import torch

        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward(self, loss) -> None:
        (self.scaler.scale(loss) if self.scaler else loss).backward()

    def unscale(self, optimizer) -> None:
        if self.scaler:
            self.scaler.unscale_(optimizer)

    def step(self, optimizer) -> None:
        if self.scaler:
            self.scaler.step(optimizer)
        else:
            optimizer.step()

    def end_step(self) -> None:
        if self.scaler:
            self.scaler.update()

    def state_dict(self) -> dict:
        return {k: float(v) for k, v in self.scaler.state_dict().items()} if self.scaler else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scaler and state:
            self.scaler.load_state_dict(
                {
                    **state,
                    "_growth_tracker": int(state.get("_growth_tracker", 0)),
                    "growth_interval": int(state.get("growth_interval", 2000)),
                }
            )
