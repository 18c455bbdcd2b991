"""What a generator yields. The core, not the plugin, turns these into files.

Every artifact carries ``index`` (its position in the run) and ``seed`` (its own seed, derived
from the run's by ``genkit.item_seed``), plus ``info`` for provenance (e.g. the class of a
conditional image). A plugin may define its own artifact kinds (see ``genkit.spec.ArtifactKind``);
subclassing ``Artifact`` gives them ``save()`` like the built-ins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import PIL.Image
    from numpy.typing import NDArray


class Artifact:
    """Behaviour shared by every artifact: ``save(path)`` with the CLI's rules.

    ``provenance`` is filled in by ``genkit.load(...).generate(...)``; saving embeds it, writes to a
    temporary name and renames, and never replaces an existing file unless ``overwrite=True``.
    """

    provenance: dict[str, Any] | None = None
    # Set by genkit.load(): builds the reproducing command for the file save() writes.
    _reproduce: Callable[..., str] | None = None

    def save(self, path: str | PathLike[str], overwrite: bool = False, **output_options: Any) -> Path:
        """Write to ``path`` (format from its extension); ``output_options`` are the writer's (``scale=4``)."""
        from genkit.files import check_path_text
        from genkit.writers import save_artifact

        check_path_text(path, "save() path")
        return save_artifact(self, Path(path), overwrite=overwrite, **output_options)


@dataclass
class Image(Artifact):
    pixels: Any  # numpy uint8, (H, W) grey or (H, W, 3) RGB
    index: int
    seed: int
    info: dict[str, Any] = field(default_factory=dict)

    def to_numpy(self) -> NDArray[Any]:
        import numpy as np

        return np.asarray(self.pixels)

    def to_pil(self) -> PIL.Image.Image:
        from PIL import Image as PILImage

        return PILImage.fromarray(self.to_numpy())


@dataclass
class TextChunk(Artifact):
    """A piece of sample ``index``; chunks of a sample arrive in order, the last has ``done=True``."""

    text: str
    index: int
    seed: int
    done: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


@dataclass
class Midi(Artifact):
    midi: Any  # pretty_midi.PrettyMIDI
    index: int
    seed: int
    info: dict[str, Any] = field(default_factory=dict)
    # Renders the tune to (float samples in [-1, 1], rate); lets the same item be written as .wav.
    render_audio: Callable[[], tuple[Any, int]] | None = None
    # Draws the tune as uint8 RGB pixels, for the MIDI writer's --piano-roll.
    render_piano_roll: Callable[[], Any] | None = None

    def to_pretty_midi(self) -> Any:
        return self.midi


@dataclass
class Audio(Artifact):
    samples: Any  # numpy float in [-1, 1], mono (N,)
    rate: int
    index: int
    seed: int
    info: dict[str, Any] = field(default_factory=dict)

    def to_numpy(self) -> NDArray[Any]:
        import numpy as np

        return np.asarray(self.samples)


@dataclass
class Frames(Artifact):
    frames: list[Any]  # numpy uint8 images of one size
    fps: float
    index: int
    seed: int
    info: dict[str, Any] = field(default_factory=dict)

    def to_numpy(self) -> NDArray[Any]:
        """All frames as one (T, H, W[, 3]) uint8 array."""
        import numpy as np

        return np.stack([np.asarray(f) for f in self.frames])

    def to_pil(self) -> list[PIL.Image.Image]:
        from PIL import Image as PILImage

        return [PILImage.fromarray(f) for f in self.to_numpy()]


class TextSamples:
    """Joins streamed text: ``add(chunk)`` returns the whole sample as one TextChunk on its last chunk."""

    def __init__(self) -> None:
        self.parts: dict[int, list[str]] = {}

    def started(self, index: int) -> bool:
        return index in self.parts

    def add(self, chunk: TextChunk) -> TextChunk | None:
        self.parts.setdefault(chunk.index, []).append(chunk.text)
        if not chunk.done:
            return None
        text = "".join(self.parts.pop(chunk.index))
        return TextChunk(text=text, index=chunk.index, seed=chunk.seed, done=True, info=chunk.info)
