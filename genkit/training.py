"""The shared train/eval loop that drives every trainable generator.

A plugin supplies a *task* (see docs/plugins.md): model, data, loss or train step, metrics.
This module supplies everything around it: a seeded, resumable data order; progress;
atomic checkpoints holding tensors in safetensors and state in JSON (never pickle);
DistributedDataParallel under torchrun; the final weights, model card, loss curve and samples.

Resume is exact: the checkpoint stores the step, the position in the epoch's permutation and
the random state, so an interrupted run that resumes ends with the same weights as one that
never stopped.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

from genkit import __version__, device as devices, encode, files, progress, registry, weights
from genkit.errors import GenkitError, RunError
from genkit.spec import GeneratorSpec

CHECKPOINT = "checkpoint.safetensors"


# ---------------------------------------------------------------- small helpers


def _flatten_optimizer(i: int, optimizer) -> tuple[dict, dict]:
    """Split an optimizer state_dict into tensors (for safetensors) and JSON."""
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


def _restore_optimizer(i: int, optimizer, tensors: dict, saved: dict) -> None:
    state: dict = {}
    prefix = f"optim.{i}."
    for name, value in tensors.items():
        if name.startswith(prefix):
            pid, key = name[len(prefix):].split(".", 1)
            state.setdefault(int(pid), {})[key] = value
    for pid, values in saved["plain"].items():
        state.setdefault(int(pid), {}).update(values)
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})


def _signature(model) -> str:
    """A short fingerprint of the architecture: parameter names and shapes."""
    import hashlib

    text = ";".join(f"{k}:{tuple(v.shape)}" for k, v in model.state_dict().items())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _unwrap(model):
    return getattr(model, "module", model)


def _learning_rate(base: float, step: int, total: int, schedule: str, warmup: int) -> float:
    scale = min(1.0, (step + 1) / warmup) if warmup else 1.0
    if schedule == "cosine" and total:
        progress_frac = min(1.0, step / total)
        scale *= 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress_frac))
    return base * scale


class _Dist:
    """Process-group facts; a single process when not launched by torchrun."""

    def __init__(self, device):
        import torch.distributed as dist

        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.active = self.world > 1
        if self.active and not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")

    def barrier(self):
        if self.active:
            import torch.distributed as dist

            dist.barrier()

    def close(self):
        if self.active:
            import torch.distributed as dist

            dist.destroy_process_group()


# ---------------------------------------------------------------- the loop


def train(spec: GeneratorSpec, *, data: Path, out: Path, extra: dict | None = None, device=None,
          epochs=None, max_steps=None, max_minutes=None, batch_size=None, lr=None, seed: int = 0,
          resume: bool = False, overwrite: bool = False, checkpoint_every: float = 5.0,
          evaluate: bool = True, quiet: bool = False, command: str = "") -> dict:
    """Train ``spec``'s task and return a summary (weights path, metrics, times)."""
    import torch

    extra = extra or {}
    out = Path(out)
    weights_path = out / f"{spec.name}.safetensors"
    ckpt_path = out / CHECKPOINT
    dev = devices.resolve_device(device)
    dist = _Dist(dev)
    if dist.active and dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(dev)

    saved = None
    if resume:
        if not ckpt_path.exists():
            raise GenkitError(f"--resume: no checkpoint at {ckpt_path}")
        saved_tensors, saved = weights.load_tensors(ckpt_path, "cpu")
        if saved.get("generator") != spec.name:
            raise GenkitError(f"--resume: {ckpt_path} belongs to generator {saved.get('generator')!r}, not {spec.name!r}")
    elif weights_path.exists() and not overwrite:
        raise GenkitError(f"{weights_path} already exists; pass --overwrite to replace it or --resume to continue")

    impl = registry.import_implementation(spec)
    task = impl.training_task(Path(data), extra, None)
    if saved and saved["config"] != task.config:
        changed = sorted(k for k in set(task.config) | set(saved["config"]) if task.config.get(k) != saved["config"].get(k))
        raise GenkitError(f"--resume: {ckpt_path} was written for a different architecture or data ({', '.join(changed)} differ)")
    defaults = dict(getattr(task, "defaults", {}))
    epochs = epochs if epochs is not None else defaults.get("epochs", 1)
    batch_size = batch_size or defaults.get("batch_size", 32)
    lr = lr if lr is not None else defaults.get("lr", 1e-3)
    if epochs < 1:
        raise GenkitError(f"--epochs must be at least 1, got {epochs}")
    if batch_size < 1 or lr <= 0:
        raise GenkitError("--batch-size must be at least 1 and --lr positive")
    if batch_size % dist.world:
        raise GenkitError(f"--batch-size {batch_size} must divide evenly among {dist.world} processes")

    torch.manual_seed(seed + dist.rank)
    model = task.build_model().to(dev)
    if saved:
        if saved.get("signature") != _signature(model):
            raise GenkitError(f"--resume: {ckpt_path} was written for a different architecture")
        model.load_state_dict({k[6:]: v.to(dev) for k, v in saved_tensors.items() if k.startswith("model.")})
    custom_step = hasattr(task, "train_step")
    if dist.active and custom_step and not getattr(task, "supports_ddp", False):
        raise GenkitError(f"{spec.name} trains with its own step and does not support --nproc > 1")
    if dist.active:
        from torch.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    make_opt = getattr(task, "optimizers", None)
    optimizers = make_opt(_unwrap(model), lr) if make_opt else [torch.optim.AdamW(_unwrap(model).parameters(), lr=lr)]
    base_lrs = [[g["lr"] for g in opt.param_groups] for opt in optimizers]

    dataset = task.train_data()
    per_rank = batch_size // dist.world
    steps_per_epoch = len(dataset) // batch_size
    if steps_per_epoch < 1:
        raise GenkitError(f"the data holds {len(dataset)} training examples, fewer than one batch of {batch_size}")
    total_steps = max_steps or epochs * steps_per_epoch
    schedule = defaults.get("schedule", "constant")
    warmup = int(defaults.get("warmup", 0))

    step, history, elapsed_before = 0, [], 0.0
    if saved:
        step, history, elapsed_before = saved["step"], saved["history"], saved["elapsed"]
        for i, opt in enumerate(optimizers):
            _restore_optimizer(i, opt, {k: v.to(dev) for k, v in saved_tensors.items()}, saved["optimizers"][i])
        torch.set_rng_state(saved_tensors[f"rng.cpu.{dist.rank}"] if f"rng.cpu.{dist.rank}" in saved_tensors else saved_tensors["rng.cpu.0"])
        if dev.type == "cuda" and "rng.cuda" in saved_tensors:
            torch.cuda.set_rng_state(saved_tensors["rng.cuda"], dev)

    is_main = dist.rank == 0
    if is_main:
        out.mkdir(parents=True, exist_ok=True)

    def save_checkpoint():
        tensors = {f"model.{k}": v for k, v in _unwrap(model).state_dict().items()}
        opt_meta = []
        for i, opt in enumerate(optimizers):
            t, meta = _flatten_optimizer(i, opt)
            tensors.update(t)
            opt_meta.append(meta)
        rng = torch.get_rng_state()
        if dist.active:  # every rank's random state, so each resumes its own stream
            import torch.distributed as tdist

            gathered = [torch.empty_like(rng) for _ in range(dist.world)]
            tdist.all_gather_object(gathered, rng)
            for r, state in enumerate(gathered):
                tensors[f"rng.cpu.{r}"] = state
        else:
            tensors["rng.cpu.0"] = rng
        if dev.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state(dev)
        if is_main:
            meta = {"generator": spec.name, "config": task.config, "signature": _signature(_unwrap(model)),
                    "step": step, "history": history, "elapsed": elapsed_before + time.perf_counter() - start,
                    "optimizers": opt_meta, "seed": seed, "batch_size": batch_size, "genkit": __version__}
            weights.save_tensors(tensors, meta, ckpt_path)
        dist.barrier()

    start = time.perf_counter()
    last_ckpt = start
    last_log = start
    deadline = start + max_minutes * 60 if max_minutes else None
    use_amp = dev.type == "cuda"
    show = progress.wanted(quiet) and is_main
    stop_reason = "finished"
    samples_seen = 0
    model.train()
    order_epoch, order = -1, None
    with progress.bar(f"train {spec.name}", total_steps, show) as advance:
        advance(step)
        while step < total_steps:
            epoch, position = divmod(step, steps_per_epoch)
            if epoch >= epochs and not max_steps:
                break
            if order_epoch != epoch:  # one permutation per epoch, a pure function of (seed, epoch)
                order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
                order_epoch = epoch
            indices = order[position * batch_size + dist.rank * per_rank : position * batch_size + (dist.rank + 1) * per_rank]
            batch = _fetch(dataset, indices, dev)
            for i, opt in enumerate(optimizers):
                for g, base in zip(opt.param_groups, base_lrs[i]):
                    g["lr"] = _learning_rate(base, step, total_steps, schedule, warmup)
            if custom_step:
                metrics = task.train_step(model, batch, optimizers)
            else:
                for opt in optimizers:
                    opt.zero_grad(set_to_none=True)
                with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=use_amp):
                    loss, metrics = task.loss(model, batch)
                loss.backward()
                clip = defaults.get("grad_clip")
                if clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                for opt in optimizers:
                    opt.step()
                metrics = {"loss": float(loss.detach()), **(metrics or {})}
            step += 1
            samples_seen += batch_size
            history.append({"step": step, **{k: float(v) for k, v in metrics.items()}})
            now = time.perf_counter()
            rate = samples_seen / max(now - start, 1e-9)
            desc = f"train {spec.name} ep {epoch + 1}/{epochs} loss {metrics.get('loss', float('nan')):.4f} {rate:.0f} samples/s"
            advance(1, description=desc)
            if is_main and not show and not quiet and now - last_log > 30:
                print(f"[genkit train] step {step}/{total_steps} {desc}", file=sys.stderr, flush=True)
                last_log = now
            if step % steps_per_epoch == 0 and is_main and hasattr(task, "sample"):
                _write_sample(task, _unwrap(model), out / "samples", step // steps_per_epoch, seed)
                model.train()
            if now - last_ckpt > checkpoint_every * 60:
                save_checkpoint()
                last_ckpt = time.perf_counter()
            if deadline and now > deadline:
                stop_reason = f"stopped at --max-minutes {max_minutes}"
                break
    save_checkpoint()
    train_seconds = elapsed_before + time.perf_counter() - start
    summary = {"steps": step, "epochs": round(step / steps_per_epoch, 3), "train_seconds": round(train_seconds, 1),
               "stop": stop_reason, "batch_size": batch_size, "lr": lr, "processes": dist.world}
    if is_main:
        core = _unwrap(model)
        core.eval()
        metrics, eval_error = {}, None
        if evaluate:
            try:
                with torch.no_grad():
                    metrics = task.evaluate(core, dev)
            except Exception as error:  # an hour of training is not lost to a failed evaluation
                eval_error = error
        export = getattr(task, "export", None)
        tensors = export(core) if export else core.state_dict()
        meta = {"generator": spec.name, "config": task.config, "genkit": __version__, "metrics": metrics,
                "training": summary, "data": Path(data).name, "command": command}
        meta.update(getattr(task, "metadata", lambda: {})())
        weights.save_tensors(tensors, meta, weights_path)
        _plot_history(history, out / "loss.png")
        params = sum(p.numel() for p in core.parameters())
        _write_card(spec, task, out / "MODEL_CARD.md", weights_path, summary, metrics, params, dev, command, data)
        summary.update(weights=str(weights_path), metrics=metrics, parameters=params)
        if eval_error is not None:
            raise eval_error
    dist.barrier()
    dist.close()
    return summary


def _fetch(dataset, indices, device):
    """One batch: whole-tensor indexing when the dataset allows it (much cheaper per step)."""
    import torch

    if isinstance(dataset, torch.utils.data.TensorDataset):
        return tuple(t[indices].to(device) for t in dataset.tensors)
    getitems = getattr(dataset, "__getitems__", None)
    items = getitems(indices.tolist()) if getitems else [dataset[int(i)] for i in indices]
    return _collate(items, device)


def _collate(items, device):
    """Stack a list of examples (tensors or tuples of tensors) into a batch on ``device``."""
    import torch

    first = items[0]
    if isinstance(first, (tuple, list)):
        return tuple(torch.stack([it[k] for it in items]).to(device) for k in range(len(first)))
    if isinstance(first, dict):
        return {k: torch.stack([it[k] for it in items]).to(device) for k in first}
    return torch.stack(items).to(device)


def _write_sample(task, model, folder: Path, epoch: int, seed: int) -> None:
    import torch

    model.eval()
    with torch.no_grad():
        sample = task.sample(model, seed)
    if sample is None:
        return
    if isinstance(sample, str):
        files.write_atomic(folder / f"epoch-{epoch:03d}.txt", sample.encode(), overwrite=True)
    else:
        files.write_atomic(folder / f"epoch-{epoch:03d}.png", encode.png_bytes(sample), overwrite=True)


def _plot_history(history: list[dict], path: Path, width: int = 640, height: int = 360) -> None:
    """A plain loss-versus-step line chart, drawn with Pillow to keep dependencies small."""
    from PIL import Image, ImageDraw

    points = [(h["step"], h["loss"]) for h in history if "loss" in h and math.isfinite(h["loss"])]
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = 60, width - 20, 20, height - 40
    draw.rectangle([left, top, right, bottom], outline="black")
    if len(points) >= 2:
        # Smooth with a running mean so the trend is visible over batch noise.
        window = max(1, len(points) // 100)
        smooth = []
        for k in range(0, len(points), window):
            chunk = points[k : k + window]
            smooth.append((chunk[-1][0], sum(p[1] for p in chunk) / len(chunk)))
        xs, ys = [p[0] for p in smooth], [p[1] for p in smooth]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        y1 = y1 if y1 > y0 else y0 + 1
        x1 = x1 if x1 > x0 else x0 + 1
        coords = [(left + (x - x0) / (x1 - x0) * (right - left), bottom - (y - y0) / (y1 - y0) * (bottom - top)) for x, y in smooth]
        draw.line(coords, fill="navy", width=2)
        draw.text((5, top), f"{y1:.3f}", fill="black")
        draw.text((5, bottom - 10), f"{y0:.3f}", fill="black")
        draw.text((left, bottom + 8), f"step {x0}", fill="black")
        draw.text((right - 80, bottom + 8), f"step {x1}", fill="black")
    draw.text((left + 5, top + 5), "training loss", fill="black")
    buf = __import__("io").BytesIO()
    image.save(buf, format="PNG")
    files.write_atomic(path, buf.getvalue(), overwrite=True)


def _write_card(spec, task, path, weights_path, summary, metrics, params, device, command, data) -> None:
    lines = [
        f"# {spec.name}: {spec.summary}",
        "",
        f"- weights: `{weights_path.name}` (sha256 `{weights.sha256(weights_path)[:16]}`)",
        f"- parameters: {params:,}",
        f"- data: `{Path(data).name}`",
        f"- command: `{command}`",
        f"- training: {summary['steps']} steps ({summary['epochs']} epochs), batch {summary['batch_size']}, "
        f"lr {summary['lr']}, {summary['train_seconds'] / 60:.1f} min on {device.type} "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} cores visible), {summary['stop']}",
        f"- genkit {__version__}",
        "",
        "## Metrics (`genkit eval`)",
        "",
        "| metric | value |",
        "| --- | ---: |",
    ]
    lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in metrics.items()]
    notes = getattr(task, "card_notes", None)
    if notes:
        lines += ["", notes()]
    files.write_atomic(path, ("\n".join(lines) + "\n").encode(), overwrite=True)


# ---------------------------------------------------------------- CLI entry points


def _launch_torchrun(nproc: int) -> int:
    """Re-run this very command under torchrun with ``nproc`` processes."""
    # Drop --nproc: inside torchrun, WORLD_SIZE says how many processes there are.
    argv, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            argv.append(arg)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", "-m", "genkit", *argv]
    env = dict(os.environ, GENKIT_UNDER_TORCHRUN="1", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    return subprocess.call(cmd, env=env)


def train_from_cli(spec, *, extra, data, device, batch_size, quiet, debug, seed, epochs, max_steps, max_minutes,
                   lr, out, resume, overwrite, nproc, checkpoint_every, no_eval):
    data = Path(data)
    if not data.exists():
        raise GenkitError(f"--data {data}: no such file or folder")
    if epochs is not None and epochs < 1:
        raise GenkitError(f"--epochs must be at least 1, got {epochs}")
    if max_steps is not None and max_steps < 1:
        raise GenkitError(f"--max-steps must be at least 1, got {max_steps}")
    if max_minutes is not None and max_minutes <= 0:
        raise GenkitError(f"--max-minutes must be positive, got {max_minutes}")
    if nproc < 1:
        raise GenkitError(f"--nproc must be at least 1, got {nproc}")
    if nproc > 1 and "WORLD_SIZE" not in os.environ:
        wanted = devices.guess_device(device)
        limit = os.cpu_count() or 1
        if wanted.startswith("cuda"):
            import torch

            limit = torch.cuda.device_count()
        if nproc > limit:
            raise GenkitError(f"--nproc {nproc} is more than this machine's {limit} {'GPUs' if wanted.startswith('cuda') else 'CPU cores'}")
        code = _launch_torchrun(nproc)
        if code:
            raise RunError(f"distributed training failed (exit code {code})")
        return
    command = "genkit " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    summary = train(spec, data=data, out=Path(out), extra=extra, device=device, epochs=epochs, max_steps=max_steps,
                    max_minutes=max_minutes, batch_size=batch_size, lr=lr, seed=seed, resume=resume,
                    overwrite=overwrite, checkpoint_every=checkpoint_every, evaluate=not no_eval, quiet=quiet,
                    command=command)
    if "weights" in summary:
        print(json.dumps(summary, indent=2))


def evaluate(spec: GeneratorSpec, *, data: Path, weights_path: Path | None = None, extra=None, device=None,
             seed: int = 0) -> dict:
    import torch

    from genkit.run import resolve_weights

    data = Path(data)
    if not data.exists():
        raise GenkitError(f"--data {data}: no such file or folder")
    path, _ = resolve_weights(spec, str(weights_path) if weights_path else None)
    dev = devices.resolve_device(device)
    tensors, meta = weights.load_tensors(path, dev)
    if "config" not in meta:
        raise GenkitError(f"{path} has no training config in its metadata; was it written by 'genkit train'?")
    impl = registry.import_implementation(spec)
    task = impl.training_task(data, extra or {}, meta["config"])
    torch.manual_seed(seed)
    model = task.build_model().to(dev)
    loader = getattr(task, "load", None)
    if loader:
        loader(model, tensors)
    else:
        weights.load_into(model, tensors, path)
    model.eval()
    with torch.no_grad():
        return task.evaluate(model, dev)


def evaluate_from_cli(spec, *, extra, data, device, batch_size, quiet, debug, seed, weights, json: bool):
    import json as _json

    metrics = evaluate(spec, data=data, weights_path=weights, extra=extra, device=device, seed=seed)
    if json:
        print(_json.dumps(metrics, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("metric", "value", title=f"genkit eval {spec.name}")
    for key, value in metrics.items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)
