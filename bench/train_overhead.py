"""Overhead of genkit's shared training loop against a bare PyTorch loop, and DDP 2 vs 1 process.

Same model (an MLP on 28x28 inputs), same batch size, same data, same number of steps; the
shared loop adds seeded ordering, LR scheduling, progress bookkeeping, history and checkpoints.
Run: python bench/train_overhead.py [--steps 300]. Prints times and ratios from this one run.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from genkit.spec import GeneratorSpec
from genkit.train.loop import train
from genkit.train.protocol import TrainingTask
from genkit.train.settings import RunSettings

torch.set_num_threads(1)
N, D = 8192, 784


class BenchTask(TrainingTask):
    config = {"width": 512}
    defaults = {"epochs": 100, "batch_size": 128, "lr": 1e-3}

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(N, D, generator=g)
        self.y = torch.randint(0, 10, (N,), generator=g)

    def build_model(self):
        return torch.nn.Sequential(
            torch.nn.Linear(D, 512),
            torch.nn.ReLU(),
            torch.nn.Linear(512, 512),
            torch.nn.ReLU(),
            torch.nn.Linear(512, 10),
        )

    def train_data(self):
        return torch.utils.data.TensorDataset(self.x, self.y)

    def loss(self, model, batch):
        x, y = batch
        return torch.nn.functional.cross_entropy(model(x), y), {}

    def evaluate(self, model, device):
        return {}


class BenchGenerator:
    @classmethod
    def training_task(cls, data, options, config):
        return BenchTask()


SPEC = GeneratorSpec(
    name="bench",
    modality="image",
    summary="benchmark",
    implementation="bench_train_task:BenchGenerator",
    outputs=("png",),
    trainable=True,
)


def bare_loop(steps, batch_size):
    task = BenchTask()
    torch.manual_seed(0)
    model = task.build_model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    data = task.train_data()
    start = time.perf_counter()
    idx = torch.randperm(N)[:batch_size]
    for step in range(steps):
        idx = torch.randperm(N)[:batch_size] if step % (N // batch_size) == 0 else idx.roll(batch_size)
        x, y = data[idx]
        opt.zero_grad(set_to_none=True)
        loss, _ = task.loss(model, (x, y))
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def genkit_loop(steps, out, nproc=1):
    if nproc == 1:
        start = time.perf_counter()
        settings = RunSettings(
            data=Path(__file__),
            out=out,
            max_steps=steps,
            evaluate=False,
            quiet=True,
            checkpoint_every=1e5,
            precision="fp32",
        )
        summary = train(SPEC, settings)
        return time.perf_counter() - start, summary["train_seconds"]
    env = dict(
        os.environ, PYTHONPATH=str(Path(__file__).parent), GENKIT_PLUGINS="bench_train_plugin", OMP_NUM_THREADS="1"
    )
    cmd = [
        sys.executable,
        "-m",
        "genkit",
        "train",
        "bench",
        "--data",
        __file__,
        "--out",
        str(out),
        "--max-steps",
        str(steps),
        "--no-eval",
        "--quiet",
        "--nproc",
        str(nproc),
        "--precision",
        "fp32",
    ]
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    sys.modules["bench_train_task"] = sys.modules[__name__]
    with tempfile.TemporaryDirectory() as tmp:
        bare_loop(20, 128)  # warm up allocator and kernels
        bare = min(bare_loop(args.steps, 128) for _ in range(2))
        runs = [genkit_loop(args.steps, Path(tmp) / f"r{k}") for k in range(2)]
        ours, loop_only = min(r[0] for r in runs), min(r[1] for r in runs)
        print(f"steps {args.steps}, batch 128, MLP 784-512-512-10, 1 thread")
        print(f"bare PyTorch loop   {bare:7.2f} s  {args.steps * 128 / bare:8.0f} samples/s")
        print(f"genkit shared loop  {ours:7.2f} s  {args.steps * 128 / ours:8.0f} samples/s")
        print(f"  of which the loop {loop_only:7.2f} s  (the rest: building the task, saving weights, card, curve)")
        print(f"overhead ratio, whole call {ours / bare:7.3f}; loop only {loop_only / bare:7.3f}  (target <= 1.05)")
        one = genkit_loop(args.steps, Path(tmp) / "ddp1", nproc=1)[0]
        two = genkit_loop(args.steps, Path(tmp) / "ddp2", nproc=2)
        print(
            f"DDP: 1 process {one:.2f} s (in-process), 2 processes via torchrun {two:.2f} s "
            f"(incl. ~2 s launch); speed-up {one / two:.2f}x at the same global batch"
        )


if __name__ == "__main__":
    main()
