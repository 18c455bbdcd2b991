"""Training and evaluation of the Moving MNIST next-frames model through genkit's shared loop.

Training data is made on the fly and never repeats: at every step, row r of the global batch is
the sequence keyed ``(TRAIN_SEED, step_seed, r)`` over the MNIST training digits, where
``step_seed`` is the loop's per-step noise seed (a function of --seed and the step number). So a
resumed run sees exactly the sequences an unbroken run would, whatever --nproc is. An "epoch" is
``--sequences`` such sequences: it sets the cosine schedule's length and when the quick score and
the sample picture are made.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from genkit.errors import GenkitError
from genkit.progress import step_progress
from genkit_video import moving_mnist, scores
from genkit_video.motion import MotionConfig, MotionNet

EVAL_CHUNK = 250  # test sequences generated and scored at a time, so memory stays small
QUICK_EVAL = 256  # test sequences scored after each epoch, for the curve in the model card
PUBLISHED = {"ConvLSTM": 103.3, "PredRNN": 56.8, "PhyDNet": 24.4, "SimVP": 23.8, "TAU": 19.8}


class SeedSlots(torch.utils.data.Dataset):
    """``length`` empty slots: the loop's batches only count rows; ``train_step`` makes the sequences."""

    def __init__(self, length: int):
        self.length = length

    def __len__(self):
        return self.length

    def __getitem__(self, i):
        return torch.tensor(i)

    def __getitems__(self, indices):
        return list(torch.as_tensor(indices))


def step_sequences(digits: np.ndarray, step_seed: int, first: int, count: int) -> torch.Tensor:
    """Rows first..first+count-1 of one step's global batch, uint8 (count, 20, 64, 64)."""
    keys = [(moving_mnist.TRAIN_SEED, step_seed, r) for r in range(first, first + count)]
    return torch.from_numpy(np.stack([moving_mnist.sequence(digits, key) for key in keys]))


def score(model: MotionNet, past: torch.Tensor, future: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per sequence and predicted frame (B, horizon): squared error and SSIM of the model and both baselines."""
    horizon = future.shape[1]
    guesses = {
        "model": model.rollout(past, horizon),
        "copy_last": scores.copy_last(past, horizon),
        "linear": scores.linear_motion(past, horizon),
    }
    out = {}
    for name, guess in guesses.items():
        out[f"{name}_mse"] = scores.squared_error_per_frame(guess, future)
        out[f"{name}_ssim"] = scores.ssim_per_frame(guess, future)
    return out


# The metric names genkit eval prints, for each per-frame quantity score() returns; each has a mean over
# the predicted frames and a curve over them (NAME_by_step: predicted frame 1 first), so the figures for
# frame k are reproduced by genkit eval rather than by a separate script.
REPORTED = {
    "mse_per_frame": "model_mse",
    "ssim": "model_ssim",
    "baseline_copy_last_mse_per_frame": "copy_last_mse",
    "baseline_linear_mse_per_frame": "linear_mse",
    "baseline_copy_last_ssim": "copy_last_ssim",
    "baseline_linear_ssim": "linear_ssim",
}


class VideoTask:
    defaults: ClassVar[dict] = {"epochs": 1, "batch_size": 16, "lr": 1e-3, "schedule": "cosine", "warmup": 200}

    def __init__(self, data: Path, options: dict, config: dict | None):
        self.data = Path(data)
        self.config = (
            config
            or MotionConfig(
                channels=int(options.get("channels") or 64), blocks=int(options.get("blocks") or 2)
            ).__dict__.copy()
        )
        self.sequences = int(options.get("sequences") or 100_000)
        self.eval_sequences = int(options.get("eval_sequences") or moving_mnist.TEST_SEQUENCES)
        self._digits = None
        self.curve: list[dict] = []

    @property
    def cfg(self) -> MotionConfig:
        return MotionConfig(**self.config)

    def build_model(self):
        return MotionNet(self.cfg)

    def train_digits(self) -> np.ndarray:
        if self._digits is None:
            self._digits = moving_mnist.load_digits(self.data, "train")
        return self._digits

    def train_data(self):
        self.train_digits()  # read the digits now: a bad --data fails before the first step
        return SeedSlots(self.sequences)

    def loss(self, model, clip):
        """Squared error per frame (the metric itself) of the predicted future, clip in [0, 1]."""
        context = self.cfg.context
        future = clip[:, context : context + self.cfg.horizon]
        predicted = torch.sigmoid(model(clip[:, :context]).float())
        error = scores.squared_error_per_frame(predicted, future).mean()
        return error, {"mse_per_frame": float(error.detach())}

    def train_step(self, model, batch, step):
        """The batch from the loop only counts rows; this process makes its rows' sequences."""
        rows = len(batch)
        clip = step_sequences(self.train_digits(), step.noise_seed, step.rank * rows, rows)
        clip = clip.to(batch.device).float().div_(255)
        with step.autocast():
            loss, metrics = self.loss(model, clip)
        step.update(loss, *step.optimizers)
        return {"loss": float(loss.detach()), **metrics}

    def evaluate(self, model, device):
        return self.measure(model, device, self.eval_sequences)

    def measure(self, model, device, count: int) -> dict:
        """Means over the first ``count`` test sequences, over all predicted frames and per predicted frame."""
        digits = moving_mnist.load_digits(self.data, "test")
        context, horizon = self.cfg.context, self.cfg.horizon
        totals: dict[str, torch.Tensor] = {}  # per predicted frame, summed over sequences
        with step_progress(count, "test sequences") as advance:
            for start in range(0, count, EVAL_CHUNK):
                clips = moving_mnist.test_clips(digits, start, min(count, start + EVAL_CHUNK))
                clips = torch.from_numpy(clips).to(device).float().div_(255)
                for key, values in score(model, clips[:, :context], clips[:, context : context + horizon]).items():
                    totals[key] = totals.get(key, 0) + values.double().sum(0).cpu()
                advance(len(clips))
        by_step = {key: total / count for key, total in totals.items()}
        means = {name: float(by_step[key].mean()) for name, key in REPORTED.items()}
        # Four significant digits: a curve stays one readable line in genkit eval's table.
        curves = {f"{name}_by_step": [float(f"{v:.4g}") for v in by_step[key]] for name, key in REPORTED.items()}
        return {
            "test_sequences": count,
            **means,
            "ratio_to_copy_last": means["mse_per_frame"] / means["baseline_copy_last_mse_per_frame"],
            **curves,
        }

    def end_epoch(self, model, epoch):
        """A quick score on the first test sequences, kept (and checkpointed) for the model card's curve."""
        count = min(QUICK_EVAL, self.eval_sequences)
        quick = self.measure(model, next(model.parameters()).device, count)
        self.curve.append({"epoch": epoch, "mse_per_frame": round(quick["mse_per_frame"], 2)})
        print(
            f"[genkit train video] epoch {epoch}: mse_per_frame {quick['mse_per_frame']:.2f} on the first "
            f"{count} test sequences (copy-last {quick['baseline_copy_last_mse_per_frame']:.2f})",
            file=sys.stderr,
            flush=True,
        )
        return {"quick_test_mse_per_frame": quick["mse_per_frame"]}

    def sample(self, model, seed):
        """For four test clips: the true frames 11-20 above the predicted ones."""
        device = next(model.parameters()).device
        clips = torch.from_numpy(moving_mnist.test_clips(moving_mnist.load_digits(self.data, "test"), 0, 4))
        context = self.cfg.context
        predicted = model.rollout(clips[:, :context].to(device).float() / 255, self.cfg.horizon).cpu()
        rows = []
        for truth, guess in zip(clips[:, context:], (predicted * 255).round().to(torch.uint8)):
            rows += [np.concatenate(list(truth.numpy()), axis=1), np.concatenate(list(guess.numpy()), axis=1)]
        return np.concatenate(rows, axis=0)

    def state_dict(self):
        return {"quick_eval_curve": list(self.curve)}

    def load_state_dict(self, state):
        self.curve = list(state.get("quick_eval_curve", []))

    def metadata(self):
        return {"quick_eval_curve": self.curve, "test_seed": moving_mnist.TEST_SEED}

    def card_notes(self):
        published = ", ".join(f"{name} {value}" for name, value in PUBLISHED.items())
        return (
            "Moving MNIST made by plugins/genkit_video/moving_mnist.py (documented in docs/video.md): 10 frames in, "
            f"10 predicted; the test set is sequences 0..{self.eval_sequences - 1} of seed {moving_mnist.TEST_SEED} over "
            "the MNIST test digits. mse_per_frame is the squared error summed over the 64x64 pixels in [0, 1], averaged "
            f"over predicted frames and sequences. Published figures on the standard test file (Gao et al. 2022, SimVP; "
            f"indicative only, not the same sequences): {published}."
        )


def make_task(data, options, config):
    if not Path(data).exists():
        raise GenkitError(f"--data {data}: no such file or folder")
    return VideoTask(data, options, config)
