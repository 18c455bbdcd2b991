"""The `drawing` kind's writer: turns a Drawing into SVG text, with genkit's provenance inside.

genkit hands the writer each artifact, its path and its provenance record; the writer owns the
format. Provenance goes in twice: a <metadata> element (so the file carries it wherever it is
copied) and a `.genkit.json` sidecar (which `genkit inspect` reads for formats it cannot parse).
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from genkit import Writer, entry
from genkit.files import write_atomic
from genkit_svg.drawing import Drawing

BACKGROUNDS = {"white": "#ffffff", "paper": "#f5efe0", "black": "#000000"}


class SvgWriter(Writer):
    def check(self, items: list[Path]) -> None:
        # The run has checked the .svg names already; the sidecars are this writer's own extra files.
        # The .svg goes first so that artifact.save() names it when both exist.
        self.refuse_existing(name for p in items for name in (p, self.sidecar(p)))

    def write(self, artifact, path: Path, provenance: dict) -> dict:
        self.expect(artifact, Drawing)
        record = json.dumps(provenance, sort_keys=True)
        svg = svg_text(artifact, record, self.option("stroke"), self.option("background"))
        write_atomic(path, svg.encode("utf-8"), self.run.overwrite)
        write_atomic(self.sidecar(path), record.encode("utf-8"), self.run.overwrite)
        return entry(path, artifact)

    def option(self, key: str):
        """This run's value, or the declared default (``artifact.save()`` passes no writer options)."""
        value = self.value(key)
        return value if value is not None else next(o.default for o in self.kind.options if o.key == key)


def svg_text(drawing: Drawing, record: str, stroke: float, background: str) -> str:
    size = drawing.size
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">',
        f'<metadata id="genkit">{escape(record)}</metadata>',
    ]
    if background in BACKGROUNDS:
        lines.append(f'<rect width="{size}" height="{size}" fill="{BACKGROUNDS[background]}"/>')
    lines.append(f'<g fill="none" stroke-width="{stroke:g}" stroke-linejoin="round" stroke-linecap="round">')
    for s in drawing.strokes:
        d = "M" + " L".join(f"{x:g},{y:g}" for x, y in s.points) + (" Z" if s.closed else "")
        lines.append(f"<path stroke={quoteattr(s.colour)} d={quoteattr(d)}/>")
    lines += ["</g>", "</svg>", ""]
    return "\n".join(lines)
