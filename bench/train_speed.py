"""Training speed in bf16 against fp32, and genkit's text training against a bare fp32 loop.

One run prints, on one thread (the figures of issue 16 are single-thread):
  1. steps/s in bf16 autocast vs fp32 for the text model at nanoGPT's shakespeare_char size
     (6 layers, 6 heads, width 384, block 256, batch 12; goal >= 2x), the GAN (dcgan, batch 64) and
     the VAE (batch 128) (goal >= 1.5x each). Each model's own task and genkit's StepContext run the
     steps, exactly as `genkit train` does; fp32 and bf16 alternate and the best of the repeats counts.
  2. tokens/s of `genkit train text` (the whole shared loop, --precision auto; the difference of a
     run of 2N and one of N steps, so start-up and the final checkpoint cancel) against the same
     model in a bare fp32 loop (forward, loss, backward, clip, AdamW), which is nanoGPT's CPU path.
  3. training images/s at 64x64 colour (issue 15): the emoji GAN recipe (DiffAugment, class loss)
     and the colour VAE (convolutional decoder, discretized logistic), fp32 and, where the CPU has
     bf16 (AVX512-BF16 or AMX), bf16; synthetic 64x64 pictures (speed does not depend on the pixels).
With --quality it also trains a 4x128 text model for --quality-steps in fp32 (two seeds: the noise)
and in bf16, and prints each validation loss (fp32 evaluation over the whole validation split).

Run: python bench/train_speed.py [--steps 4] [--repeats 2] [--threads 1] [--quality]
Needs the team's data for text (../shared/data/text/tinyshakespeare.txt or $GENKIT_DATA);
synthetic images stand in for MNIST (speed does not depend on the pixels).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GENKIT_DATA", REPO.parent / "shared" / "data"))
NANOGPT = {"layers": 6, "heads": 6, "width": 384, "block_size": 256}


def text_task(corpus: Path, size: dict):
    from genkit_text.task import make_task

    return make_task(corpus, size, None)


def gan_task(folder: Path):
    from genkit_image.task import make_task

    return make_task(folder, {"arch": "dcgan"}, None)


def vae_task(folder: Path):
    from genkit_vae.task import make_task

    return make_task(folder, {}, None)


def write_digits(folder: Path, n: int = 2048) -> Path:
    """Random 28x28 digits with labels in MNIST's IDX files (train and test)."""
    import gzip
    import struct

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split in ("train", "t10k"):
        images = (rng.random((n, 28, 28)) * 255).astype(np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        with gzip.open(folder / f"{split}-images-idx3-ubyte.gz", "wb") as fh:
            fh.write(struct.pack(">IIII", 0x803, n, 28, 28) + images.tobytes())
        with gzip.open(folder / f"{split}-labels-idx1-ubyte.gz", "wb") as fh:
            fh.write(struct.pack(">II", 0x801, n) + labels.tobytes())
    return folder


def write_colour(folder: Path, n: int = 720, classes: int = 4, size: int = 64) -> Path:
    """Random 64x64 RGB pictures in class sub-folders."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for k in range(n):
        sub = folder / f"class{k % classes}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray((rng.random((size, size, 3)) * 255).astype(np.uint8)).save(sub / f"{k:04d}.png")
    return folder


def colour_speed(args, corpus: Path, tmp: Path) -> None:
    from genkit.train.precision import cpu_bf16_is_faster
    from genkit_image.task import make_task as image_task
    from genkit_vae.task import make_task as vae_task_

    folder = write_colour(tmp / "colour")
    precisions = ("fp32", "bf16") if cpu_bf16_is_faster() else ("fp32",)
    if len(precisions) == 1:
        print(
            "64x64: this CPU has no fast bf16 (no AVX512-BF16/AMX, or a timed matmul says no): fp32 only, "
            "as --precision auto does",
            flush=True,
        )
    emoji = {"arch": "dcgan", "diffaugment": True, "class_loss": 1.0, "width": 32}  # the shipped emoji GAN's recipe
    recipes = (
        ("GAN 64x64 colour, emoji recipe", lambda: image_task(folder, emoji, None), 64),
        ("VAE 64x64 colour, conv decoder", lambda: vae_task_(folder, {}, None), 128),
    )
    for label, make, batch in recipes:
        best = {p: min(seconds_per_step(make(), p, batch, args.steps) for _ in range(args.repeats)) for p in precisions}
        rates = "   ".join(f"{p} {batch / t:7.1f} images/s ({t * 1000:6.0f} ms/step)" for p, t in best.items())
        extra = f"   bf16/fp32 {best['fp32'] / best['bf16']:.2f}x" if "bf16" in best else ""
        print(f"{label:34} batch {batch}: {rates}{extra}", flush=True)


def seconds_per_step(task, precision: str, batch: int, steps: int, device: str = "cpu") -> float:
    """Time ``steps`` training steps of ``task`` through genkit's StepContext on ``device`` (after one
    warm-up step; the device synchronised around each); the fastest step."""
    from genkit.train.loop import fetch
    from genkit.train.precision import Precision
    from genkit.train.protocol import adopt
    from genkit.train.step import StepContext

    task = adopt(task, "bench")
    where = torch.device(device)
    torch.manual_seed(0)
    model = task.build_model().to(where)
    optimizers = task.optimizers(model, 1e-4)
    ctx = StepContext(Precision(precision, where), optimizers, task.defaults.get("grad_clip"), global_batch=batch)
    data = task.train_data()
    order = torch.randperm(len(data))
    model.train()
    times = []
    for k in range(steps + 1):
        batch_data = fetch(data, order[torch.arange(k * batch, (k + 1) * batch) % len(data)], where)
        synchronize(where)
        start = time.perf_counter()
        ctx.begin(k)
        task.train_step(model, batch_data, ctx)
        ctx.end()
        synchronize(where)
        times.append(time.perf_counter() - start)
    return min(times[1:])


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def ratio(label: str, make, batch: int, steps: int, repeats: int, unit: str = "") -> float:
    best = {"fp32": float("inf"), "bf16": float("inf")}
    for _ in range(repeats):
        for precision in ("fp32", "bf16"):  # alternate so a busy moment hurts both
            best[precision] = min(best[precision], seconds_per_step(make(), precision, batch, steps))
    r = best["fp32"] / best["bf16"]
    print(
        f"{label:34} fp32 {1 / best['fp32']:7.2f} steps/s ({best['fp32'] * 1000:7.1f} ms)   "
        f"bf16 {1 / best['bf16']:7.2f} steps/s ({best['bf16'] * 1000:7.1f} ms)   bf16/fp32 {r:5.2f}x{unit}",
        flush=True,
    )
    return r


def bare_fp32_tokens_per_second(task, batch: int, steps: int) -> float:
    """nanoGPT's CPU path: fp32 forward, cross-entropy, backward, clip, AdamW; no autocast."""
    torch.manual_seed(0)
    model = task.build_model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    block = task.config["block_size"]
    ids = task.train_ids
    times = []
    for _ in range(steps + 1):
        starts = torch.randint(0, len(ids) - block - 1, (batch,))
        rows = torch.stack([ids[s : s + block + 1] for s in starts])
        start = time.perf_counter()
        logits = model(rows[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), rows[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append(time.perf_counter() - start)
    return batch * block / min(times[1:])


def genkit_run(
    corpus: Path, size: dict, batch: int, steps: int, out: Path, precision="auto", seed: int = 0, evaluate: bool = False
) -> dict:
    """The whole `genkit train text` loop (data order, schedule, history, final checkpoint); its summary."""
    from genkit.registry import load_registry
    from genkit.train.loop import train
    from genkit.train.settings import RunSettings

    spec = load_registry().generators["text"]
    settings = RunSettings(
        data=corpus,
        out=out,
        max_steps=steps,
        batch_size=batch,
        precision=precision,
        seed=seed,
        quiet=True,
        evaluate=evaluate,
        checkpoint_every=1e5,
        options=dict(size),
    )
    return train(spec, settings)


def genkit_tokens_per_second(corpus: Path, size: dict, batch: int, steps: int, out: Path) -> tuple[float, str]:
    """Tokens/s of the loop's steps: runs of ``steps`` and ``2 * steps`` steps, the difference timed, so
    the fixed costs (first step, final checkpoint) cancel out."""
    short = genkit_run(corpus, size, batch, steps, out / "short")
    long = genkit_run(corpus, size, batch, 2 * steps, out / "long")
    seconds = max(long["train_seconds"] - short["train_seconds"], 1e-9)
    return steps * batch * size["block_size"] / seconds, long["precision"]


def speed(args, corpus: Path, tmp: Path) -> None:
    from genkit.train.precision import cpu_bf16_is_faster

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {args.steps} timed steps, best of "
        f"{args.repeats} alternating repeats",
        flush=True,
    )
    if cpu_bf16_is_faster():
        digits = write_digits(tmp / "digits")
        ratio(
            "text 6x384, block 256, batch 12",
            lambda: text_task(corpus, NANOGPT),
            12,
            args.steps,
            args.repeats,
            "  (goal >= 2x)",
        )
        ratio("GAN dcgan, batch 64", lambda: gan_task(digits), 64, args.steps * 3, args.repeats, "  (goal >= 1.5x)")
        ratio("VAE, batch 128", lambda: vae_task(digits), 128, args.steps * 3, args.repeats, "  (goal >= 1.5x)")
    else:  # bf16 emulated in software runs ~100x slower: nothing to compare
        print(
            "this CPU has no fast bf16 (no AVX512-BF16/AMX, or a timed matmul says no): the bf16/fp32 ratios "
            "are skipped; --precision auto trains in fp32 here",
            flush=True,
        )
    bare = bare_fp32_tokens_per_second(text_task(corpus, NANOGPT), 12, args.steps)
    ours, precision = genkit_tokens_per_second(corpus, NANOGPT, 12, args.steps * 2, tmp / "loop")
    print(
        f"text 6x384 tokens/s: bare fp32 loop (nanoGPT's CPU path) {bare:7.0f}; genkit train "
        f"(--precision auto = {precision}) {ours:7.0f}; ratio {ours / bare:5.2f}x",
        flush=True,
    )


def quality(args, corpus: Path, tmp: Path) -> None:
    from genkit.train.precision import cpu_has_bf16

    size = {"layers": 4, "heads": 4, "width": 128, "block_size": 128}
    print(
        f"validation loss after {args.quality_steps} steps, 4x128 text model, batch 32 (fp32 evaluation):", flush=True
    )
    runs = (("fp32", 0), ("fp32", 1)) + ((("bf16", 0), ("bf16", 1)) if cpu_has_bf16() else ())
    for precision, seed in runs:  # a CPU without bf16 instructions refuses --precision bf16
        summary = genkit_run(
            corpus, size, 32, args.quality_steps, tmp / f"q-{precision}-{seed}", precision, seed, evaluate=True
        )
        print(
            f"  {precision} seed {seed}: {summary['metrics']['val_loss_nats_per_char']:.4f} nats/char "
            f"({summary['train_seconds']:.0f} s)",
            flush=True,
        )


# ---------------------------------------------------------------- the loop against a bare step (issue 35)


def built_ins(tmp: Path, corpus: Path) -> list[tuple[str, str, Path, dict, int]]:
    """(label, generator, data, options, batch) for each built-in the loop trains."""
    digits = write_digits(tmp / "digits")
    return [
        ("text 6x384, block 256", "text", corpus, dict(NANOGPT), 12),
        ("  the same, no dropout", "text", corpus, {**NANOGPT, "dropout": 0.0}, 12),
        ("  --dropout-at weights", "text", corpus, {**NANOGPT, "dropout_at": "weights"}, 12),
        ("GAN dcgan 28x28", "image", digits, {"arch": "dcgan"}, 64),
        ("VAE 28x28", "vae", digits, {}, 128),
        ("video MotionNet", "video", digits, {}, 16),
    ]


def loop_trainer(generator: str, data: Path, options: dict, precision: str, batch: int, out: Path):
    """A real `genkit train` Trainer, built as the command builds it (its steps are the loop's)."""
    from genkit.registry import load_registry
    from genkit.train.loop import Trainer
    from genkit.train.outputs import RunFiles
    from genkit.train.settings import RunSettings

    spec = load_registry().generators[generator]
    settings = RunSettings(
        data=data, out=out, batch_size=batch, precision=precision, max_steps=100_000, quiet=True, options=options
    )
    trainer = Trainer(spec, settings, RunFiles.plan(out, generator))
    trainer.model.train()
    trainer.start, trainer.start_step = time.perf_counter(), trainer.step  # as Trainer.run sets them
    return trainer


def loop_step(trainer):
    """One iteration of Trainer.run's loop without the checkpoint and log-line branches (time-gated there)."""

    def run():
        metrics = trainer._one_step()
        trainer._describe(metrics, time.perf_counter())

    return run


def bare_step(trainer, channels_last: bool = False, fused: bool = True):
    """The same module and optimizer in the same precision: forward, loss, backward, clip, step; nothing else.

    A fresh copy of the model (same initialisation), one batch assembled once, noise drawn by
    torch.randn, no EMA, no history, no schedule. The losses are the tasks' own functions.
    """
    import torch.nn.functional as F

    from genkit.train.loop import fetch
    from genkit.train.optimizers import prefer_fused

    task = trainer.task
    torch.manual_seed(0)
    model = task.build_model().train()
    optimizers = list(task.optimizers(model, 1e-4))
    if fused:  # the optimizer the loop steps with (genkit.train.optimizers); without: torch's default
        prefer_fused(optimizers, trainer.device)
    dtype = trainer.precision.dtype
    autocast = (lambda: torch.autocast("cpu", dtype=dtype)) if dtype else contextlib.nullcontext
    batch = fetch(trainer.dataset, torch.arange(trainer.batch_size), trainer.device)
    name = trainer.spec.name
    if name == "video":  # the loop's batch only counts rows; the task makes the clip (in the step)
        from genkit_video.task import step_sequences

        batch = step_sequences(task.train_digits(), 0, 0, trainer.batch_size).float().div_(255)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        last = lambda t: t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t  # noqa: E731
        batch = tuple(map(last, batch)) if isinstance(batch, tuple) else last(batch)

    def update(loss, opts, params):
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        if trainer.clip:
            torch.nn.utils.clip_grad_norm_(params, trainer.clip)
        for opt in opts:
            opt.step()

    if name == "image":
        opt_g, opt_d = optimizers
        x, y = batch
        z_dim, classes = task.config["z_dim"], (y if task.config["num_classes"] else None)

        def run():
            with autocast():
                with torch.no_grad():
                    fake = model.G(torch.randn(len(x), z_dim), classes)
                d_loss = (
                    F.relu(1 - model.D(x, classes).float()).mean() + F.relu(1 + model.D(fake, classes).float()).mean()
                )
            update(d_loss, [opt_d], list(model.D.parameters()))
            with autocast():
                g_loss = -model.D(model.G(torch.randn(len(x), z_dim), classes), classes).float().mean()
            update(g_loss, [opt_g], list(model.G.parameters()))

        return run, model, batch

    params = list(model.parameters())

    def run():
        with autocast():
            loss, _ = task.loss(model, batch)
        update(loss, optimizers, params)

    return run, model, batch


def clock():
    """The timer of the comparisons: this process's CPU time on one thread (other jobs on a shared machine
    then barely move it; a step that waits on nothing costs the same in both), wall time with more threads."""
    return time.process_time if torch.get_num_threads() == 1 else time.perf_counter


def interleaved(steps: dict, n: int, repeats: int, timer=None) -> dict:
    """Best seconds per step of each callable, their steps alternating so a busy moment hurts all alike."""
    best, now = {k: float("inf") for k in steps}, timer or clock()
    for fn in steps.values():
        fn()  # warm-up: kernel selection, first allocations
    for _ in range(repeats * n):
        for key, fn in steps.items():
            start = now()
            fn()
            best[key] = min(best[key], now() - start)
    return best


def peak_matmul(dtype, size: int = 1024, reps: int = 20) -> float:
    """FLOP/s of the best of ``reps`` square matrix products on this CPU with the current threads."""
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    a @ b
    best, now = float("inf"), clock()
    for _ in range(reps):
        start = now()
        a @ b
        best = min(best, now() - start)
    return 2 * size**3 / best


def step_flops(run) -> int:
    """FLOPs of one step as torch counts them (matrix products, convolutions, attention; forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops()


def models_only(tmp: Path, corpus: Path) -> list:
    """The built-ins without the text variants (rows whose label is indented)."""
    return [row for row in built_ins(tmp, corpus) if not row[0].startswith(" ")]


def precisions() -> tuple[str, ...]:
    from genkit.train.precision import cpu_bf16_is_faster

    return ("bf16", "fp32") if cpu_bf16_is_faster() else ("fp32",)


def loop_ratios(args, corpus: Path, tmp: Path) -> None:
    """genkit's step / the bare step per built-in and precision, with each step's share of the matmul peak."""
    peaks = {p: peak_matmul(torch.bfloat16 if p == "bf16" else torch.float32) for p in precisions()}
    print(
        f"genkit's loop step against the bare step, {torch.get_num_threads()} thread(s), best of "
        f"{args.steps} x {args.repeats} alternating; matmul peak "
        + ", ".join(f"{p} {f / 1e9:.0f} GFLOP/s" for p, f in peaks.items()),
        flush=True,
    )
    print(
        f"  {'model':24} {'prec':4} {'bare ms':>8} {'genkit ms':>9} {'ratio':>6} {'GFLOP/step':>10} {'bare % peak':>11}"
    )
    for label, generator, data, options, batch in built_ins(tmp, corpus):
        for precision in peaks:
            trainer = loop_trainer(generator, data, options, precision, batch, tmp / f"loop-{generator}-{precision}")
            bare, _, _ = bare_step(trainer)
            flops = step_flops(bare)
            best = interleaved({"bare": bare, "genkit": loop_step(trainer)}, args.steps, args.repeats)
            achieved = flops / best["bare"]
            print(
                f"  {label:24} {precision:4} {best['bare'] * 1e3:8.1f} {best['genkit'] * 1e3:9.1f} "
                f"{best['genkit'] / best['bare']:5.2f}x {flops / 1e9:10.2f} {100 * achieved / peaks[precision]:10.1f}%",
                flush=True,
            )


def profile_steps(args, corpus: Path, tmp: Path) -> None:
    """torch.profiler over a few of genkit's loop steps per built-in: the ops that cost the most, self time."""
    from torch.profiler import ProfilerActivity, profile

    precision = precisions()[0]
    print(f"profile of {args.steps} loop steps per built-in ({precision}, self CPU time, top {args.top}):", flush=True)
    for label, generator, data, options, batch in models_only(tmp, corpus):
        trainer = loop_trainer(generator, data, options, precision, batch, tmp / f"profile-{generator}")
        run = loop_step(trainer)
        run()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(args.steps):
                run()
        events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
        total = sum(e.self_cpu_time_total for e in events)
        top = ", ".join(f"{e.key} {100 * e.self_cpu_time_total / total:.0f}%" for e in events[: args.top])
        print(f"  {label}: {total / 1e3 / args.steps:.0f} ms/step: {top}", flush=True)


def thread_scaling(args, corpus: Path, tmp: Path) -> None:
    """genkit's loop step on one thread against two, alternating in one process."""
    available = os.cpu_count() or 1
    counts = (1, min(2, available))
    precision = precisions()[0]
    print(f"threads: genkit's loop step ({precision}) on {counts[0]} against {counts[1]} thread(s):", flush=True)
    for label, generator, data, options, batch in models_only(tmp, corpus):
        trainer = loop_trainer(generator, data, options, precision, batch, tmp / f"threads-{generator}")
        run = loop_step(trainer)

        def on(threads, run=run):
            def timed():
                torch.set_num_threads(threads)
                run()

            return timed

        best = interleaved({n: on(n) for n in counts}, args.steps, args.repeats, timer=time.perf_counter)
        one, two = best[counts[0]], best[counts[1]]
        print(f"  {label:24} {one * 1e3:8.1f} ms / {two * 1e3:8.1f} ms = {one / two:4.2f}x", flush=True)
    torch.set_num_threads(args.threads)


def memory_layout(args, corpus: Path, tmp: Path) -> None:
    """The convolutional built-ins' bare step in the default (NCHW) layout against channels-last."""
    print("memory layout: bare step NCHW / channels-last (above 1 means channels-last is faster):", flush=True)
    for label, generator, data, options, batch in models_only(tmp, corpus):
        if generator == "text":
            continue
        for precision in precisions():
            trainer = loop_trainer(generator, data, options, precision, batch, tmp / f"layout-{generator}-{precision}")
            plain, last = bare_step(trainer)[0], bare_step(trainer, channels_last=True)[0]
            best = interleaved({"nchw": plain, "last": last}, args.steps, args.repeats)
            print(
                f"  {label:24} {precision:4} {best['nchw'] * 1e3:8.1f} ms / {best['last'] * 1e3:8.1f} ms = "
                f"{best['nchw'] / best['last']:4.2f}x",
                flush=True,
            )


def optimizer_kernels(args, corpus: Path, tmp: Path) -> None:
    """The bare step with torch's default Adam/AdamW (a loop over parameters) against the fused kernel the loop uses."""
    print(
        "optimizer: bare step with torch's default Adam/AdamW / with the fused kernel genkit's loop picks:", flush=True
    )
    for label, generator, data, options, batch in models_only(tmp, corpus):
        for precision in precisions():
            trainer = loop_trainer(generator, data, options, precision, batch, tmp / f"opt-{generator}-{precision}")
            steps = {"loop": bare_step(trainer, fused=False)[0], "fused": bare_step(trainer)[0]}
            best = interleaved(steps, args.steps, args.repeats)
            print(
                f"  {label:24} {precision:4} {best['loop'] * 1e3:8.1f} ms / {best['fused'] * 1e3:8.1f} ms = "
                f"{best['loop'] / best['fused']:4.2f}x",
                flush=True,
            )


SECTIONS = {
    "loop": loop_ratios,
    "optimizer": optimizer_kernels,
    "layout": memory_layout,
    "threads": thread_scaling,
    "profile": profile_steps,
    "bf16": speed,
    "colour": colour_speed,
    "quality": quality,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4, help="timed steps per measurement (text; x3 for GAN/VAE)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quality", action="store_true", help="also the bf16-vs-fp32 validation-loss runs")
    parser.add_argument("--quality-steps", type=int, default=300)
    parser.add_argument("--only-quality", action="store_true")
    parser.add_argument("--only-colour", action="store_true", help="only the 64x64 colour images/s")
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)} (default: all but quality)")
    parser.add_argument("--top", type=int, default=6, help="ops per built-in in the profile")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    corpus = DATA / "text" / "tinyshakespeare.txt"
    if not corpus.exists():
        sys.exit(f"needs {corpus} (set GENKIT_DATA)")
    if args.only_colour or args.only_quality:
        wanted = ["colour"] if args.only_colour else ["quality"]
    elif args.only:
        wanted = args.only.split(",")
        if unknown := set(wanted) - set(SECTIONS):
            sys.exit(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    else:
        wanted = [name for name in SECTIONS if name != "quality" or args.quality]
    with tempfile.TemporaryDirectory() as tmp:
        for name in wanted:
            SECTIONS[name](args, corpus, Path(tmp))


if __name__ == "__main__":
    main()
