"""The artifact `spiro` yields: vector strokes, not pixels. Subclassing Artifact gives it save(path)."""

from __future__ import annotations

from dataclasses import dataclass, field

from genkit.artifacts import Artifact


@dataclass
class Stroke:
    """One open or closed polyline in drawing coordinates, with its colour as "#rrggbb"."""

    points: list[tuple[float, float]]
    colour: str
    closed: bool = True


@dataclass
class Drawing(Artifact):
    strokes: list[Stroke]
    size: int  # the drawing is a size x size square, origin at the top left
    index: int
    seed: int
    info: dict = field(default_factory=dict)
