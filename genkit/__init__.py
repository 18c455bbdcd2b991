"""genkit: small generative models behind one command line, extended by plugins.

This module is the plugin SDK in one import (``from genkit import hookimpl, GeneratorSpec, Option,
Image``). Importing it is cheap: torch and every model load only when a generator runs.
"""

from __future__ import annotations

__version__ = "0.2.0"
__distribution__ = "genkit-local"  # the PyPI name; "genkit" there is Google's Firebase Genkit

from typing import TYPE_CHECKING, Any

from genkit.artifacts import Audio, Frames, Image, Midi, TextChunk
from genkit.contract import Generator, LatentSpace, hookimpl, hookspec
from genkit.device import item_seed
from genkit.errors import GenkitError, RunError
from genkit.progress import step_progress
from genkit.spec import ArtifactKind, GeneratorSpec, Option
from genkit.train.protocol import TrainingTask
from genkit.writers import Writer, WriteRun, entry

if TYPE_CHECKING:
    from os import PathLike

    from genkit.api import LoadedGenerator


def load(name: str, device: str = "auto", weights: str | PathLike[str] | None = None) -> LoadedGenerator:
    """Return a ready generator by name, e.g. ``genkit.load("image", device="cpu")``."""
    from genkit.api import load as _load

    return _load(name, device=device, weights=weights)


def generators() -> list[dict[str, Any]]:
    """Every generator genkit finds (name, summary, outputs, trainable, plugin); nothing is loaded."""
    from genkit.api import generators as _generators

    return _generators()


def weights_for(name: str) -> dict[str, str]:
    """The names ``genkit.load(name, weights=...)`` takes: shipped weights and your aliases."""
    from genkit.api import weights_for as _weights_for

    return _weights_for(name)


def precision_for(device: Any, requested: str = "auto") -> str:
    """The precision ("fp32", "bf16" or "fp16") a model runs in on ``device`` (a torch.device) when the
    user asks for ``requested`` (auto, fp32, bf16, fp16): auto is fp16 on CUDA (bf16 where the GPU has
    it), bf16 on a CPU where genkit's probe found it faster, else fp32; an impossible choice is one line."""
    from genkit.train.precision import resolve

    return resolve(requested, device)


__all__ = [
    "__version__",
    "load",
    "generators",
    "weights_for",
    "precision_for",
    "step_progress",
    "hookimpl",
    "hookspec",
    "GeneratorSpec",
    "Option",
    "item_seed",
    "Image",
    "TextChunk",
    "Midi",
    "Audio",
    "Frames",
    "GenkitError",
    "RunError",
    "ArtifactKind",
    "Writer",
    "WriteRun",
    "entry",
    "Generator",
    "LatentSpace",
    "TrainingTask",
]
