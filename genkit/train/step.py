"""What a training step gets from the loop: autocast, backward + clipping + optimizer step, noise.

Every task's step, the default one and a task's own (a GAN's two-optimizer step), goes through
``StepContext.update``, so mixed precision, gradient clipping and multi-process training apply
to all of them alike. With ``--nproc`` > 1 a model wrapped in DistributedDataParallel averages
its gradients during backward; a task with its own step calls sub-modules directly (DDP cannot
see those calls), so ``update`` averages that optimizer's gradients across processes itself, the
same mean DDP computes.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genkit.train.precision import Precision


@dataclass
class StepContext:
    precision: Precision
    optimizers: list[Any]
    clip: float | None = None
    world: int = 1
    rank: int = 0
    average_gradients: bool = False  # True when the model is not wrapped in DDP and world > 1
    global_batch: int = 1
    noise_seed: int = 0  # set by the loop for each step
    _draws: int = field(default=0, repr=False)

    def autocast(self) -> AbstractContextManager[Any]:
        """The forward passes' precision context (a no-op in fp32)."""
        return self.precision.autocast()

    def update(self, loss, *optimizers) -> None:
        """zero_grad, backward, average across processes, unscale, clip, step: for ``optimizers``."""
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        self.precision.backward(loss)
        for opt in optimizers:
            params = [p for group in opt.param_groups for p in group["params"] if p.grad is not None]
            if self.average_gradients:
                _all_reduce_mean(params, self.world)
            self.precision.unscale(opt)
            if self.clip:
                import torch

                torch.nn.utils.clip_grad_norm_(params, self.clip)
            self.precision.step(opt)

    def normal(self, *shape, device=None):
        """Standard normal noise (this process's rows of a global batch), equal whatever --nproc is.

        Draw k of step s comes from a generator seeded by (run seed, s, k) for the whole global
        batch; each process keeps its own rows, as the data is split.
        """
        import torch

        g = torch.Generator().manual_seed(self.noise_seed * 1_000_003 + self._draws)
        self._draws += 1
        rows = torch.randn(self.global_batch, *shape, generator=g)
        per_rank = self.global_batch // self.world
        return rows[self.rank * per_rank : (self.rank + 1) * per_rank].to(device)

    def begin(self, noise_seed: int) -> None:
        self.noise_seed, self._draws = noise_seed, 0

    def end(self) -> None:
        self.precision.end_step()


def _all_reduce_mean(params, world: int) -> None:
    """One flat all-reduce for all gradients (few large messages beat many small ones)."""
    import torch
    import torch.distributed as dist

    if not params:
        return
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for p in params:
        n = p.grad.numel()
        p.grad.copy_(flat[offset : offset + n].view_as(p.grad))
        offset += n
