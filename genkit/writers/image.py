"""PNG stills: provenance in a text chunk, optional upscaling and a contact sheet (--grid)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genkit import encode, files
from genkit.artifacts import Image
from genkit.writers import Writer, entry


class ImageWriter(Writer):
    def check(self, items: list[Path]) -> None:
        self.sheet: list[Any] = []
        self.grid_plan: files.OutputPlan | None = None
        if self.value("grid"):
            self.grid_plan = files.OutputPlan(str(self.value("grid")), self.run.generator, ("png",), 1, self.run.seed)
            self.grid_plan.check_free(self.run.overwrite)

    def planned(self, items: list[Path]) -> tuple[list[Path], list[Path]]:
        return ([self.grid_plan.path(0)] if self.grid_plan else []), []

    def write(self, artifact, path: Path, provenance: dict) -> dict:
        self.expect(artifact, Image)
        data = encode.png_bytes(artifact.pixels, provenance, self.value("scale") or 1)
        files.write_atomic(path, data, self.run.overwrite)
        if self.grid_plan is not None:
            self.sheet.append(artifact.pixels)
        return entry(path, artifact)

    def finish(self, provenance: dict) -> dict:
        if self.grid_plan is None or not self.sheet:
            return {}
        path = self.grid_plan.path(0)
        # The sheet's command writes the sheet again (and its items, as the run did).
        command = f"{provenance['command']} --n {len(self.sheet)} --grid reproduced-grid.png"
        record = dict(provenance, grid=True, command=command)
        sheet = encode.png_bytes(encode.grid(self.sheet), record, self.value("scale") or 1)
        files.write_atomic(path, sheet, self.run.overwrite)
        return {"grid": str(path)}
