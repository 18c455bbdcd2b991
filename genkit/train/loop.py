"""The shared training loop that drives every trainable generator's task.

A plugin supplies a task (genkit.train.protocol); this module supplies the rest: a seeded,
resumable data order, the learning-rate schedule, mixed precision, DistributedDataParallel under
torchrun, checkpoints, interrupts, and at the end the weights, model card, loss curve and samples.

Resume is exact: the checkpoint stores the step (the position in the epoch's permutation follows
from it), every optimizer's and the task's state and every process's random state, so a run
that is interrupted and resumed ends with the same weights as one that never stopped.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

from genkit import __version__, models, progress, registry
from genkit import device as devices
from genkit.errors import GenkitError
from genkit.spec import GeneratorSpec
from genkit.train import checkpoint, report
from genkit.train.distributed import Group
from genkit.train.optimizers import prefer_fused
from genkit.train.outputs import RunFiles, check_data
from genkit.train.precision import Precision, resolve
from genkit.train.protocol import TaskError, adopt, uses_shared_step
from genkit.train.settings import RunSettings
from genkit.train.signals import Interrupted, trapped
from genkit.train.signals import name as signal_name
from genkit.train.step import StepContext

LOG_EVERY_SECONDS = 30


def load_task(spec: GeneratorSpec, data: Path, options: dict, config: dict | None):
    """The generator's training task, checked against the protocol (one line if it falls short)."""
    impl = registry.import_implementation(spec)
    try:
        return adopt(impl.training_task(Path(data), options, config), spec.name)
    except TaskError as exc:
        raise GenkitError(str(exc)) from None


def learning_rate(base: float, step: int, total: int, schedule: str, warmup: int) -> float:
    scale = min(1.0, (step + 1) / warmup) if warmup else 1.0
    if schedule == "cosine" and total:
        done = min(1.0, step / total)
        scale *= 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * done))
    return base * scale


def train(spec: GeneratorSpec, settings: RunSettings, cpu_probe=None) -> dict:
    """Train ``spec``'s task as ``settings`` say; return a summary (weights path, metrics, times)."""
    paths = RunFiles.plan(settings.out, spec.name)
    paths.check(settings.resume, settings.overwrite)
    check_data(settings.data)
    if settings.resume:  # a bad checkpoint is refused before torch is even imported
        checkpoint.check(paths.checkpoint, spec.name)
    with trapped() as stop:
        trainer = Trainer(spec, settings, paths, cpu_probe)
        if settings.overwrite and not settings.resume and trainer.group.is_main:  # every check passed
            paths.remove_old_run()
        trainer.run(stop)
        if stop.requested:  # it arrived during the last step; the final checkpoint is already saved
            raise Interrupted(
                stop.signum,
                f"interrupted by {signal_name(stop.signum)} after the last step; "
                f"the checkpoint in {paths.out} is saved, finish with --resume",
            )
    return trainer.finish()


class Trainer:
    """One run: built from the settings (and a checkpoint on --resume), stepped, then finished."""

    history: list[dict]  # the metrics logged so far, a row each (steps and epoch ends)
    order: Any  # this epoch's permutation of the data (a tensor); None before the first batch

    def __init__(self, spec: GeneratorSpec, settings: RunSettings, paths: RunFiles, cpu_probe=None):
        import torch

        self.spec, self.settings, self.paths = spec, settings, paths
        self.group = Group(devices.resolve_device(settings.device))
        self.device = self.group.device
        self.saved = checkpoint.load(paths.checkpoint, spec.name) if settings.resume else None
        self.task = load_task(spec, settings.data, settings.options, None)
        self.task.run_folder = settings.out
        if self.saved:
            checkpoint.check_same_config(self.saved, self.task.config)
        self._choose_hyperparameters()
        requested = settings.precision
        if self.saved and requested == "auto":  # a resumed run keeps the precision it started with
            requested = self.saved.meta["precision"]
        self.precision = Precision(resolve(requested, self.device, *([cpu_probe] if cpu_probe else [])), self.device)
        torch.manual_seed(settings.seed + self.group.rank)
        self._build_model()
        self._plan_steps()
        self.step, self.history, self.elapsed_before = 0, [], 0.0
        if self.saved:
            self._restore()
        self.sittings = checkpoint.add_sitting(self.saved.meta if self.saved else None, settings.command, self.step)
        if self.group.is_main:
            paths.out.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------ building

    def _choose_hyperparameters(self) -> None:
        s, defaults = self.settings, dict(self.task.defaults)
        # On --resume, what the user does not give again comes from the run being continued.
        if self.saved and isinstance(self.saved.meta.get("run"), dict):
            defaults.update({k: v for k, v in self.saved.meta["run"].items() if v is not None})
        self.epochs = s.epochs if s.epochs is not None else int(defaults.get("epochs", 1))
        self.batch_size = s.batch_size if s.batch_size is not None else int(defaults.get("batch_size", 32))
        self.lr = s.lr if s.lr is not None else float(defaults.get("lr", 1e-3))
        self.max_steps = s.max_steps if s.max_steps is not None else defaults.get("max_steps")
        self.schedule = defaults.get("schedule", "constant")
        self.min_steps = int(self.task.defaults.get("min_steps", 0) or 0)
        self.warmup = int(defaults.get("warmup", 0))
        self.clip = defaults.get("grad_clip")
        world = self.group.world
        if self.batch_size % world:
            raise GenkitError(f"--batch-size {self.batch_size} must divide evenly among {world} processes")
        self.per_rank = self.batch_size // world
        smallest = int(defaults.get("min_batch", 1))
        if self.per_rank < smallest:
            raise GenkitError(
                f"--batch-size {self.batch_size} gives {self.per_rank} example(s) per process; "
                f"{self.spec.name} needs at least {smallest} (its batch norm needs a batch of 2 or more)"
            )

    def _build_model(self) -> None:
        self.core = self.task.build_model().to(self.device)
        if self.saved:
            if self.saved.meta["signature"] != checkpoint.signature(self.core):
                raise GenkitError(f"--resume: {self.saved.path} was written for a different architecture")
            try:
                self.core.load_state_dict({k: v.to(self.device) for k, v in self.saved.model_state().items()})
            except RuntimeError as exc:
                raise GenkitError(
                    f"--resume: {self.saved.path} does not hold this model's weights ({str(exc).splitlines()[0]})"
                ) from None
        self.model = self.core
        shared = uses_shared_step(self.task)
        if self.group.active and shared:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = DistributedDataParallel(self.core, device_ids=ids)
        else:  # a task's own step: the StepContext averages gradients, so every process starts equal
            self.group.broadcast_module(self.core)
        # Adam's fused kernel unless the task chose; a --resume then restores the checkpoint's choice.
        self.optimizers = prefer_fused(list(self.task.optimizers(self.core, self.lr)), self.device)
        self.base_lrs = [[g["lr"] for g in opt.param_groups] for opt in self.optimizers]
        self.ctx = StepContext(
            self.precision,
            self.optimizers,
            self.clip,
            self.group.world,
            self.group.rank,
            average_gradients=self.group.active and not shared,
            global_batch=self.batch_size,
        )

    def _plan_steps(self) -> None:
        self.dataset = self.task.train_data()
        self.steps_per_epoch = len(self.dataset) // self.batch_size
        if self.steps_per_epoch < 1:
            raise GenkitError(
                f"the data holds {len(self.dataset)} training examples, fewer than one batch of {self.batch_size}; "
                f"give --batch-size {len(self.dataset)} or less, or more data"
            )
        self._lengthen_for_small_data()
        self.total_steps = int(self.max_steps or self.epochs * self.steps_per_epoch)
        # What the progress bar calls the last epoch: a --max-steps run ends there, not at --epochs.
        self.last_epoch = math.ceil(self.total_steps / self.steps_per_epoch)
        self.order_epoch, self.order = -1, None

    def _lengthen_for_small_data(self) -> None:
        """With no --epochs or --max-steps, the default length is at least the task's ``min_steps``:
        a small folder gets more epochs, so it trains as long as a big one needs to learn anything."""
        given = self.settings.epochs is not None or self.max_steps is not None
        if given or self.saved:  # a resumed run keeps the length it was planned with (recorded in "run")
            return
        self.epochs = max(self.epochs, math.ceil(self.min_steps / self.steps_per_epoch))

    def _restore(self) -> None:
        import torch

        saved = self.saved
        assert saved is not None, "only a resumed run restores"
        meta = saved.meta
        self.step, self.history, self.elapsed_before = meta["step"], meta["history"], float(meta["elapsed"])
        if len(meta["optimizers"]) != len(self.optimizers):
            raise GenkitError(
                f"--resume: {saved.path} holds {len(meta['optimizers'])} optimizer(s), this task has "
                f"{len(self.optimizers)}"
            )
        on_device = {k: v.to(self.device) for k, v in saved.tensors.items() if k.startswith("optim.")}
        try:
            for i, opt in enumerate(self.optimizers):
                checkpoint.restore_optimizer(i, opt, on_device, meta["optimizers"][i])
        except (KeyError, ValueError, TypeError) as exc:
            raise GenkitError(f"--resume: {saved.path} has unusable optimizer state ({exc})") from None
        checkpoint.restore_task_state(self.task, saved)
        self.precision.load_state_dict(meta["scaler"])
        own = f"rng.cpu.{self.group.rank}"
        torch.set_rng_state(saved.tensors[own] if own in saved.tensors else saved.tensors["rng.cpu.0"])
        if self.device.type == "cuda" and "rng.cuda" in saved.tensors:
            torch.cuda.set_rng_state(saved.tensors["rng.cuda"], self.device)

    # ------------------------------------------------------------ stepping

    def run(self, stop) -> None:
        self.start, self.start_step = time.perf_counter(), self.step
        last_ckpt = last_log = self.start
        s = self.settings
        deadline = self.start + s.max_minutes * 60 if s.max_minutes else None
        show = progress.wanted(s.quiet) and self.group.is_main
        self.stop_reason = "finished"
        if self.group.is_main and not show and not s.quiet:  # a log file learns what the run is
            print(
                f"[genkit train] {self.spec.name}: step {self.step} of {self.total_steps} ({self.steps_per_epoch} per "
                f"epoch), batch {self.batch_size}, precision {self.precision.name}, {self.group.world} process(es)",
                file=sys.stderr,
                flush=True,
            )
        self.model.train()
        with progress.bar(f"train {self.spec.name}", self.total_steps, show) as advance:
            advance(self.step)
            while self.step < self.total_steps:
                if self.group.any(stop.requested):
                    self._interrupted(stop.signum)
                metrics = self._one_step()
                if self.group.any(bool(checkpoint.non_finite(self.history[-1]))):  # floats already: no extra sync
                    raise checkpoint.diverged(self.history[-1], self.step, self.paths.checkpoint)
                now = time.perf_counter()
                desc = self._describe(metrics, now)
                advance(1, description=desc)
                if self.group.is_main and not show and not s.quiet and now - last_log > LOG_EVERY_SECONDS:
                    print(f"[genkit train] step {self.step}/{self.total_steps} {desc}", file=sys.stderr, flush=True)
                    last_log = now
                if self.step % self.steps_per_epoch == 0:
                    self._end_epoch(self.step // self.steps_per_epoch)
                if s.checkpoint_every == 0 or now - last_ckpt > s.checkpoint_every * 60:
                    self.save_checkpoint()
                    last_ckpt = time.perf_counter()
                if deadline and now > deadline:
                    self.stop_reason = f"stopped at --max-minutes {s.max_minutes}"
                    break
        self.save_checkpoint()

    def _batch(self):
        import torch

        epoch, position = divmod(self.step, self.steps_per_epoch)
        if self.order_epoch != epoch:  # one permutation per epoch, a pure function of (seed, epoch)
            g = torch.Generator().manual_seed(self.settings.seed * 1_000_003 + epoch)
            self.order, self.order_epoch = torch.randperm(len(self.dataset), generator=g), epoch
        first = position * self.batch_size + self.group.rank * self.per_rank
        return fetch(self.dataset, self.order[first : first + self.per_rank], self.device)

    def _one_step(self) -> dict:
        batch = self._batch()
        for opt, bases in zip(self.optimizers, self.base_lrs):
            for group, base in zip(opt.param_groups, bases):
                group["lr"] = learning_rate(base, self.step, self.total_steps, self.schedule, self.warmup)
        self.ctx.begin(self.settings.seed * 1_000_003 + self.step)
        metrics = self.task.train_step(self.model, batch, self.ctx)
        self.ctx.end()
        self.step += 1
        self.history.append({"step": self.step, **{k: float(v) for k, v in metrics.items()}})
        return metrics

    def _describe(self, metrics: dict, now: float) -> str:
        rate = (self.step - self.start_step) * self.batch_size / max(now - self.start, 1e-9)
        epoch = (self.step - 1) // self.steps_per_epoch + 1
        return (
            f"train {self.spec.name} ep {epoch}/{self.last_epoch} loss {metrics.get('loss', float('nan')):.4f} "
            f"{rate:.0f} samples/s"
        )

    def _end_epoch(self, epoch: int) -> None:
        """The task's epoch-end hook and sample, on the main process, without touching the random streams."""
        import torch

        if not self.group.is_main:
            return
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []), torch.no_grad():
            self.core.eval()
            metrics = self.task.end_epoch(self.core, epoch) or {}
            sample = self.task.sample(self.core, self.settings.seed)
            self.core.train()
        if metrics:
            self.history.append({"step": self.step, "epoch": epoch, **{k: float(v) for k, v in metrics.items()}})
        report.write_sample(sample, self.paths.samples, epoch)

    def _interrupted(self, signum: int) -> None:
        self.stop_reason = f"interrupted by {signal_name(signum)}"
        self.save_checkpoint()
        self.group.close()
        raise Interrupted(
            signum,
            f"interrupted by {signal_name(signum)} at step {self.step}; the checkpoint in "
            f"{self.paths.out} is saved, continue with --resume",
        )

    # ------------------------------------------------------------ saving

    def save_checkpoint(self) -> None:
        import torch

        tensors = {f"model.{k}": v for k, v in self.core.state_dict().items()}
        optimizers = []
        for i, opt in enumerate(self.optimizers):
            t, meta = checkpoint.split_optimizer(i, opt)
            tensors.update(t)
            optimizers.append(meta)
        for rank, state in enumerate(self.group.gather(torch.get_rng_state())):  # each rank resumes its own stream
            tensors[f"rng.cpu.{rank}"] = state
        if self.device.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        task_tensors, task_plain = checkpoint.split_task_state(self.task.state_dict())
        tensors.update(task_tensors)
        if self.group.is_main:
            meta = {
                "generator": self.spec.name,
                "config": self.task.config,
                "signature": checkpoint.signature(self.core),
                "step": self.step,
                "history": self.history,
                "elapsed": self.seconds(),
                "optimizers": optimizers,
                "task_state": task_plain,
                "precision": self.precision.name,
                "scaler": self.precision.state_dict(),
                "seed": self.settings.seed,
                "batch_size": self.batch_size,
                "run": {
                    "epochs": self.epochs,
                    "batch_size": self.batch_size,
                    "lr": self.lr,
                    "max_steps": self.max_steps,
                },
                "options": checkpoint.options_as_given(self.settings),
                "sittings": self.sittings,
            }
            checkpoint.save(self.paths.checkpoint, tensors, meta)
        self.group.barrier()

    def seconds(self) -> float:
        return self.elapsed_before + time.perf_counter() - self.start

    def summary(self) -> dict:
        return {
            "steps": self.step,
            "epochs": round(self.step / self.steps_per_epoch, 3),
            "train_seconds": round(self.seconds(), 1),
            "stop": self.stop_reason,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "processes": self.group.world,
            "precision": self.precision.name,
        }

    def finish(self) -> dict:
        """Evaluate (fp32), then write the weights, curve and card; the main process only."""
        summary = self.summary()
        if self.group.is_main:
            self._warn_if_too_short()
            metrics, failure = self._evaluate()
            self._write_outputs(summary, metrics)
            summary.update(
                weights=str(self.paths.weights),
                metrics=metrics,
                parameters=sum(p.numel() for p in self.core.parameters()),
            )
            if failure is not None:
                raise failure
        self.group.barrier()
        self.group.close()
        return summary

    def _warn_if_too_short(self) -> None:
        """A run shorter than the task's ``min_steps`` has likely learnt nothing: say so, with the way on."""
        if self.step >= self.min_steps:
            return
        print(
            f"genkit: warning: this run made {self.step} optimizer steps; {self.spec.name} asks for at least "
            f"{self.min_steps} to learn much (continue it with --resume --max-steps {self.min_steps})",
            file=sys.stderr,
        )

    def _evaluate(self) -> tuple[dict, Exception | None]:
        import torch

        if not self.settings.evaluate:
            return {}, None
        self.core.eval()
        show = progress.wanted(self.settings.quiet)
        try:  # the evaluation can take minutes: a bar says so (a task may add its own steps under it)
            with torch.no_grad(), progress.bar(f"evaluate {self.spec.name}", None, show):
                return self.task.evaluate(self.core, self.device), None
        except Exception as error:
            return {}, error

    def _write_outputs(self, summary: dict, metrics: dict) -> None:
        s, task = self.settings, self.task
        command = checkpoint.command_of(self.sittings)
        meta = {
            "genkit": __version__,
            "metrics": metrics,
            "training": summary,
            "precision": self.precision.name,
            "data": Path(s.data).name,
            "command": command,
        }
        meta.update(task.metadata())
        exported = {k: v.float() if v.is_floating_point() else v for k, v in task.export(self.core).items()}
        models.save_weights(self.paths.weights, exported, generator=self.spec.name, config=task.config, metadata=meta)
        self.paths.write_model_folder(lambda folder: task.write_model(self.core, folder))
        report.plot_history(self.history, self.paths.plot)
        params = sum(p.numel() for p in self.core.parameters())
        shipped = sum(v.numel() for v in exported.values() if v.is_floating_point())
        report.write_card(
            self.paths.card,
            self.spec,
            self.paths.weights,
            params=params,
            shipped=shipped,
            device=self.device,
            notes=task.card_notes(),
        )


def fetch(dataset, indices, device):
    """One batch: whole-tensor indexing when the dataset allows it (much cheaper per step)."""
    import torch

    if isinstance(dataset, torch.utils.data.TensorDataset):
        return tuple(t[indices].to(device) for t in dataset.tensors)
    getitems = getattr(dataset, "__getitems__", None)  # a Dataset's optional fast path, not a task member
    items = getitems(indices.tolist()) if getitems else [dataset[int(i)] for i in indices]
    return collate(items, device)


def collate(items, device):
    """Stack a list of examples (tensors or tuples of tensors) into a batch on ``device``."""
    import torch

    first = items[0]
    if isinstance(first, (tuple, list)):
        return tuple(torch.stack([it[k] for it in items]).to(device) for k in range(len(first)))
    if isinstance(first, dict):
        return {k: torch.stack([it[k] for it in items]).to(device) for k in first}
    return torch.stack(items).to(device)
