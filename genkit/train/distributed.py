"""Several processes: relaunching a command under torchrun, and the process group inside it.

genkit does not invent its own distribution: ``--nproc N`` re-runs the same ``genkit train``
command under PyTorch's torchrun (gloo on CPU, NCCL on GPU); torchrun sets WORLD_SIZE and RANK,
which is how the relaunched processes know they are part of a group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from genkit import device as devices
from genkit.errors import GenkitError, RunError


def under_torchrun() -> bool:
    return "WORLD_SIZE" in os.environ


def check_nproc(nproc: int, device: str | None) -> None:
    """Refuse more processes than this machine has cores (CPU) or GPUs."""
    wanted = devices.guess_device(device)
    on_gpu = wanted.startswith("cuda")
    if on_gpu:
        import torch

        limit = torch.cuda.device_count()
    else:
        limit = os.cpu_count() or 1
    if nproc > limit:
        raise GenkitError(f"--nproc {nproc} is more than this machine's {limit} {'GPUs' if on_gpu else 'CPU cores'}")


def relaunch(nproc: int, args: list[str]) -> None:
    """Run ``genkit ARGS`` under torchrun with ``nproc`` processes; raise RunError if it fails."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        "genkit",
        *args,
    ]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    proc = subprocess.Popen(cmd, env=env)
    try:
        code = proc.wait()
    except KeyboardInterrupt:  # torchrun passes it on; its workers save a checkpoint before they exit
        proc.send_signal(signal.SIGINT)
        proc.wait()
        raise
    if code in (130, 143, -2, -15):
        raise KeyboardInterrupt
    if code == 2:
        raise GenkitError("distributed training stopped on a user error (shown above)")
    if code:
        raise RunError(f"distributed training failed (exit code {code})")


class Group:
    """Process-group facts; a single process when not launched by torchrun."""

    def __init__(self, device):
        import torch
        import torch.distributed as dist

        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.active = self.world > 1
        self.device = device
        if self.active and device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(self.device)
        if self.active and not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.barrier()

    def any(self, flag: bool) -> bool:
        """True on every process when ``flag`` is true on any (an interrupt seen by one stops all)."""
        if not self.active:
            return flag
        import torch
        import torch.distributed as dist

        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def broadcast_module(self, module) -> None:
        """Give every process rank 0's parameters and buffers (what DDP does when it wraps a model)."""
        if not self.active:
            return
        import torch.distributed as dist

        for tensor in module.state_dict().values():
            dist.broadcast(tensor, src=0)

    def gather(self, tensor) -> list:
        """Every process's ``tensor`` (all of them must call this)."""
        if not self.active:
            return [tensor]
        import torch.distributed as dist

        out = [None] * self.world
        dist.all_gather_object(out, tensor)
        return out

    def close(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.destroy_process_group()
