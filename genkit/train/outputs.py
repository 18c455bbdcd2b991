"""Every name a training run writes, planned and checked before any work starts."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from genkit.errors import GenkitError
from genkit.train.checkpoint import CHECKPOINT


@dataclass(frozen=True)
class RunFiles:
    out: Path
    weights: Path
    checkpoint: Path
    card: Path
    plot: Path
    samples: Path
    model: Path  # the model in its library's own format, when the task writes one (TrainingTask.write_model)

    @classmethod
    def plan(cls, out: Path, generator: str) -> RunFiles:
        out = Path(out)
        return cls(
            out,
            out / f"{generator}.safetensors",
            out / CHECKPOINT,
            out / "MODEL_CARD.md",
            out / "loss.png",
            out / "samples",
            out / "model",
        )

    def remove_old_run(self) -> None:
        """--overwrite: remove the replaced run's files before the first step, so the folder never holds
        one run's checkpoint beside another's weights or card (a link is removed, never followed)."""
        import shutil

        for path in self.existing():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def existing(self) -> list[Path]:
        names = (self.weights, self.checkpoint, self.card, self.plot, self.samples, self.model)
        return [p for p in names if p.exists() or p.is_symlink()]

    def write_model_folder(self, write) -> None:
        """``write(folder)`` fills a fresh folder that then replaces ``model/`` whole: an interrupted
        write leaves the previous folder (or none), never half of one."""
        import shutil
        import tempfile

        staging = Path(tempfile.mkdtemp(prefix=".model-", dir=self.out))
        staging.chmod(0o755)  # mkdtemp's folder is private; the run's other files are not
        try:
            write(staging)
            if not any(staging.iterdir()):
                return
            old = None
            if self.model.exists() or self.model.is_symlink():
                old = self.out / f".model-old-{staging.name}"
                self.model.rename(old)
            staging.rename(self.model)
            if old is not None and old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            elif old is not None:
                old.unlink()
        finally:
            if staging.exists():
                shutil.rmtree(staging)

    def check(self, resume: bool, overwrite: bool) -> None:
        """A run's folder: a folder (or nothing yet); holding a run only with --resume or --overwrite."""
        if self.out.exists() and not self.out.is_dir():
            raise GenkitError(f"--out {self.out} is a file, not a folder")
        for parent in self.out.parents:
            if parent.exists() and not parent.is_dir():
                raise GenkitError(f"--out {self.out}: {parent} is a file, not a folder")
            if parent.exists():
                break
        if resume:
            if not self.checkpoint.is_file():
                raise GenkitError(f"--resume: no checkpoint at {self.checkpoint}")
            return
        found = self.existing()
        if found and not overwrite:
            names = ", ".join(p.name for p in found)
            raise GenkitError(
                f"--out {self.out} already holds a training run ({names}); pass --resume to continue "
                "it or --overwrite to replace it"
            )


def check_data(data: Path, limit: int = 200_000) -> None:
    """--data exists and holds no FIFO, socket or device (reading one would hang or never end)."""
    data = Path(data)
    if not data.exists():
        raise GenkitError(f"--data {data}: no such file or folder")
    _check_regular(data)
    if data.is_dir():
        for seen, path in enumerate(data.rglob("*")):
            if seen >= limit:  # a folder this big is real data; stop looking
                break
            _check_regular(path)


def _check_regular(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise GenkitError(f"--data {path}: cannot read ({exc.strerror})") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise GenkitError(f"--data {path} is not a regular file (a FIFO, socket or device); genkit reads only files")
