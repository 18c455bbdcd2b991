"""A training run's settings, as the command line (or a Python caller) gives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RunSettings:
    """None means "the task's default" (``TrainingTask.defaults``)."""

    data: Path
    out: Path
    device: str | None = None
    epochs: int | None = None
    max_steps: int | None = None
    max_minutes: float | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int = 0
    precision: str = "auto"
    resume: bool = False
    overwrite: bool = False
    checkpoint_every: float = 5.0  # minutes; 0 saves after every step
    evaluate: bool = True
    quiet: bool = False
    options: dict = field(default_factory=dict)  # the generator's own train options
    command: str = ""  # the command that reproduces the run, for the model card and weights
