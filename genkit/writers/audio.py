"""16-bit PCM WAV with a JSON provenance sidecar; also renders MIDI items that know how to sound."""

from __future__ import annotations

import json
from pathlib import Path

from genkit import encode, files
from genkit.artifacts import Audio, Midi
from genkit.errors import RunError
from genkit.writers import Writer, entry
from genkit.writers.midi import PianoRolls


class AudioWriter(Writer):
    def check(self, items: list[Path]) -> None:
        self.refuse_existing(self.sidecar(p) for p in items)
        self.rolls = PianoRolls(self)

    def write(self, artifact, path: Path, provenance: dict) -> dict:
        self.expect(artifact, Audio, Midi)
        if isinstance(artifact, Midi):
            if artifact.render_audio is None:
                raise RunError(f"{self.run.generator} cannot render its MIDI to audio")
            samples, rate = artifact.render_audio()
        else:
            samples, rate = artifact.samples, artifact.rate
        record = json.dumps(provenance, indent=2, sort_keys=True).encode()
        row = entry(path, artifact)
        rolls = self.rolls.draw(artifact, provenance, row)  # WAV, sidecar and piano roll land together
        group = [(path, encode.wav_bytes(samples, rate)), (self.sidecar(path), record), *rolls]
        files.write_together(group, self.run.overwrite)
        return row

    def planned(self, items: list[Path]) -> tuple[list[Path], list[Path]]:
        return [self.sidecar(p) for p in items] + self.rolls.planned(), []
