"""What a generator yields. The core, not the plugin, turns these into files.

Every artifact carries ``index`` (its position in the run) and ``seed`` (its own seed,
derived from the run's by ``genkit.item_seed``), plus ``info`` for provenance
(e.g. the class name of a conditional image).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Image:
    pixels: Any  # numpy uint8, (H, W) grey or (H, W, 3) RGB
    index: int
    seed: int
    info: dict = field(default_factory=dict)


@dataclass
class TextChunk:
    """A piece of sample ``index``; chunks of a sample arrive in order and are streamed."""

    text: str
    index: int
    seed: int
    done: bool = False  # True on the last chunk of a sample
    info: dict = field(default_factory=dict)


@dataclass
class Midi:
    midi: Any  # pretty_midi.PrettyMIDI
    index: int
    seed: int
    info: dict = field(default_factory=dict)
    # Optional renderer to audio, used when the output file is .wav: () -> (float samples, rate)
    render_audio: Callable[[], tuple[Any, int]] | None = None
    # Pictures for the spec's companion options, e.g. {"piano_roll": callable returning uint8 pixels}
    companions: dict = field(default_factory=dict)


@dataclass
class Audio:
    samples: Any  # numpy float in [-1, 1], mono (N,)
    rate: int
    index: int
    seed: int
    info: dict = field(default_factory=dict)


@dataclass
class Frames:
    frames: list  # numpy uint8 images of one size
    fps: float
    index: int
    seed: int
    info: dict = field(default_factory=dict)
