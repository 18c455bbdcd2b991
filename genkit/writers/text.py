"""Text samples: streamed to stdout as they arrive, or written as .txt with a provenance sidecar.

A sample arrives as chunks; the writer joins them and reports the item complete on the last one.
When several samples stream, each gets a header that names the command reproducing it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from genkit import files
from genkit.artifacts import TextChunk, TextSamples
from genkit.writers import Writer, entry


class TextWriter(Writer):
    def check(self, items: list[Path]) -> None:
        self.samples = TextSamples()
        self.streamed = False
        self.refuse_existing(self.sidecar(p) for p in items)

    def write(self, artifact, path: Path | None, provenance: dict) -> dict | None:
        self.expect(artifact, TextChunk)
        if path is None:
            self._stream(artifact, provenance)
        whole = self.samples.add(artifact)
        if whole is None:
            return None
        text = whole.text
        if path is not None:  # the text and its sidecar land together or not at all
            record = json.dumps(provenance, indent=2, sort_keys=True).encode()
            files.write_together([(path, text.encode("utf-8")), (self.sidecar(path), record)], self.run.overwrite)
        return entry(path, artifact, text=text)

    def planned(self, items: list[Path]) -> tuple[list[Path], list[Path]]:
        return [self.sidecar(p) for p in items], []

    def _stream(self, artifact, provenance: dict) -> None:
        out = sys.stdout
        self.streamed = True
        if self.run.n > 1 and not self.samples.started(artifact.index):
            gap = "\n\n" if artifact.index else ""
            # The command whose last item this sample is: running it prints exactly this text last.
            out.write(f"{gap}--- sample {artifact.index + 1} of {self.run.n}: {provenance['command']} ---\n")
        global _line_open
        if artifact.text:  # set first: a Ctrl-C may land inside the write
            _line_open = True
        out.write(artifact.text)
        out.flush()
        if artifact.text:
            _line_open = not artifact.text.endswith("\n")

    def finish(self, provenance: dict) -> dict:
        global _line_open
        if self.streamed:
            sys.stdout.write("\n")
            _line_open = False
        return {}


_line_open = False  # streamed text ended mid-line: a message printed now would run on from it


def end_open_line() -> None:
    """After an interrupt: end the streamed text's line on a terminal, so genkit's message starts on its own."""
    global _line_open
    if _line_open and sys.stdout.isatty():
        sys.stdout.write("\n")
        sys.stdout.flush()
    _line_open = False
