"""The training task: what a trainable generator hands genkit's shared loop. Importing this never imports torch.

A generator's ``training_task(data, options, config)`` classmethod returns a task. Subclass
``TrainingTask`` to inherit the documented defaults below and override what your model needs;
the required members are ``config``, ``build_model``, ``train_data``, ``evaluate`` and one of
``loss`` or ``train_step``. A task that does not subclass it is given the same defaults when the
loop adopts it (``adopt``), after a check that names any missing required member in one line.

The loop calls, in order: ``build_model``, ``optimizers``, ``train_data``; every step
``train_step`` (default: ``loss`` under autocast, then backward, clipping, DDP and the optimizer
step through the ``StepContext``); at each epoch's end ``end_epoch`` then ``sample``; at each
checkpoint ``state_dict``; on ``--resume`` ``load_state_dict``; at the end ``evaluate``,
``export``, ``metadata``, ``write_model``, ``card_notes``. ``genkit eval`` rebuilds the task from the weights'
config and calls ``build_model``, ``load`` and ``evaluate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast, runtime_checkable

if TYPE_CHECKING:
    from genkit.train.step import StepContext

REQUIRED = ("config", "build_model", "train_data", "evaluate")


@runtime_checkable
class TrainingTask(Protocol):
    """A trainable generator's model, data, objective and metrics (see docs/training.md)."""

    #: JSON values that rebuild the model; saved in the checkpoint and the weights' metadata.
    config: dict[str, Any]
    #: The run's folder, set by genkit before ``evaluate``: ``genkit train --out``, or for ``genkit eval``
    #: the training run that holds the weights measured; None for shipped or loose weights. A task
    #: may keep what it builds for its evaluation there (image: the classifier eval trains).
    run_folder: Any = None
    #: The run's defaults when the user gives none: epochs (1), batch_size (32), lr (1e-3),
    #: schedule ("constant" or "cosine"), warmup steps (0), grad_clip (None: no clipping),
    #: min_batch (1: the smallest batch per process the model accepts; batch norm needs 2), min_steps
    #: (0: the fewest optimizer steps that learn anything; without --epochs/--max-steps a small data set
    #: gets the epochs that reach it, and a shorter run ends with a warning).
    defaults: ClassVar[dict[str, Any]] = {}

    def build_model(self) -> Any:
        """A fresh ``torch.nn.Module`` holding every trained parameter (and any EMA copy)."""
        ...

    def train_data(self) -> Any:
        """A map-style dataset of training examples (``len`` and indexing)."""
        ...

    def evaluate(self, model: Any, device: Any) -> dict[str, float]:
        """The generator's metrics on held-out data, ``{"name": float}``; runs in fp32, no grad."""
        ...

    def loss(self, model: Any, batch: Any) -> tuple[Any, dict[str, float]]:
        """``(loss_tensor, {"name": float})`` for one batch; must call ``model(...)`` so DDP syncs."""
        raise NotImplementedError("a training task defines loss() or its own train_step()")

    def train_step(self, model: Any, batch: Any, step: StepContext) -> dict[str, float]:
        """One optimisation step; return metrics with at least ``"loss"``.

        The default runs ``loss`` under ``step.autocast()`` and hands it to ``step.update`` with
        every optimizer. A task with its own step (a GAN: two optimizers, two losses) overrides
        this and uses the same two calls: ``with step.autocast(): ...`` for the forward passes,
        ``step.update(loss, optimizer)`` for backward + gradient averaging across processes +
        clipping + the optimizer step (with the fp16 gradient scaler when there is one).
        ``step.normal(shape)`` gives this process's rows of per-example noise that is the same
        whatever ``--nproc`` is.
        """
        with step.autocast():
            loss, metrics = self.loss(model, batch)
        step.update(loss, *step.optimizers)
        return {"loss": float(loss.detach()), **(metrics or {})}

    def optimizers(self, model: Any, lr: float) -> list[Any]:
        """The optimizers (default: one AdamW over every parameter)."""
        import torch

        return [torch.optim.AdamW(model.parameters(), lr=lr)]

    def end_epoch(self, model: Any, epoch: int) -> dict[str, float]:
        """Called on the main process after epoch ``epoch`` (1-based); metrics for the history.

        Keep what it decides (best epoch, best weights) in ``state_dict`` so ``--resume`` is exact.
        """
        return {}

    def sample(self, model: Any, seed: int) -> Any:
        """A uint8 image array or a string saved under ``samples/`` per epoch, or None."""
        return None

    def state_dict(self) -> dict[str, Any]:
        """The task's own training state: a flat dict of tensors and JSON values."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (tensors arrive on the CPU)."""

    def export(self, model: Any) -> dict[str, Any]:
        """Tensors for the weights file (default: ``model.state_dict()``)."""
        tensors: dict[str, Any] = model.state_dict()
        return tensors

    def load(self, model: Any, tensors: dict[str, Any]) -> None:
        """Put exported tensors back into a model built by ``build_model`` (for ``genkit eval``)."""
        from genkit import weights

        weights.load_into(model, tensors, "given")  # reads "weights given do not fit this model: ..."

    def write_model(self, model: Any, folder: Any) -> None:
        """Fill ``folder`` with the model in a library's own format (default: nothing is written).

        What it writes becomes the run's ``model/`` folder whole, after the weights file: diffusion
        writes a diffusers pipeline there (``save_pretrained``) that the library's ``from_pretrained``
        loads. genkit itself reads only the weights file.
        """

    def metadata(self) -> dict[str, Any]:
        """Extra JSON for the weights file (class names, vocabulary, selected epoch, ...)."""
        return {}

    def card_notes(self) -> str:
        """Markdown appended to the model card."""
        return ""


class TaskError(Exception):
    """A task that does not satisfy the protocol; the message is one line."""


def adopt(task: Any, owner: str) -> TrainingTask:
    """Check ``task`` against the protocol and give it the documented defaults it lacks."""
    kind = type(task)
    missing = [name for name in REQUIRED if not hasattr(task, name)]
    if not _overrides(kind, "loss") and not _overrides(kind, "train_step"):
        missing.append("loss (or train_step)")
    if missing:
        raise TaskError(f"{owner}'s training task {kind.__name__} lacks {', '.join(missing)} (see docs/training.md)")
    if not isinstance(task.config, dict):
        raise TaskError(f"{owner}'s training task {kind.__name__}: config must be a dict of JSON values")
    if TrainingTask not in kind.__mro__:
        # A task written without the base class: the same class with the defaults behind it.
        task.__class__ = type(kind.__name__, (kind, TrainingTask), {"__module__": kind.__module__})
    return cast(TrainingTask, task)


def _overrides(kind: type, name: str) -> bool:
    own = getattr(kind, name, None)
    return own is not None and own is not TrainingTask.__dict__.get(name)


def uses_shared_step(task: TrainingTask) -> bool:
    """True when the task keeps the default step (then the loop wraps the model in DDP itself)."""
    return not _overrides(type(task), "train_step")
