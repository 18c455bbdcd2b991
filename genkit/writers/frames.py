"""Animations as GIF, WebP or MP4, provenance embedded; optionally every frame as a PNG (--frames-dir)."""

from __future__ import annotations

from pathlib import Path

from genkit import encode, files
from genkit.artifacts import Frames
from genkit.errors import GenkitError
from genkit.writers import Writer, entry

ENCODERS = {"gif": encode.gif_bytes, "webp": encode.webp_bytes, "mp4": encode.mp4_bytes}


class FramesWriter(Writer):
    def check(self, items: list[Path]) -> None:
        folder = self.value("frames_dir")
        self.folder = Path(folder) if folder else None
        if self.folder is None:
            return
        files.check_folder(self.folder)
        if self.folder.is_dir() and any(self.folder.glob("**/frame_*.png")) and not self.run.overwrite:
            raise GenkitError(f"{self.folder} already holds frames; pass --overwrite to replace them")

    def write(self, artifact, path: Path, provenance: dict) -> dict:
        self.expect(artifact, Frames)
        scale = self.value("scale") or 1
        ext = path.suffix.lower().lstrip(".")
        group = [(path, ENCODERS[ext](artifact.frames, artifact.fps, provenance, scale))]
        if self.folder is not None:  # the animation and its frames land together or not at all
            folder = self._frame_folder(artifact.index)
            for k, frame in enumerate(artifact.frames):
                group.append((folder / f"frame_{k:04d}.png", encode.png_bytes(frame, dict(provenance, frame=k), scale)))
        files.write_together(group, self.run.overwrite)
        if self.folder is not None:
            frame_files = [str(p) for p, _ in group[1:]]
            return entry(path, artifact, frames=len(artifact.frames), frame_files=frame_files)  # for the history
        return entry(path, artifact, frames=len(artifact.frames))

    def _frame_folder(self, index: int) -> Path:
        assert self.folder is not None
        return self.folder / (f"{index:03d}" if self.run.n > 1 else "")

    def planned(self, items: list[Path]) -> tuple[list[Path], list[Path]]:
        if self.folder is None:
            return [], []
        return [], [self._frame_folder(i) for i in range(len(items))]
