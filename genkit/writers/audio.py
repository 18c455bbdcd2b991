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
        files.write_atomic(path, encode.wav_bytes(samples, rate), self.run.overwrite)
        record = json.dumps(provenance, indent=2, sort_keys=True).encode()
        files.write_atomic(self.sidecar(path), record, self.run.overwrite)
        row = entry(path, artifact)
        self.rolls.draw(artifact, provenance, row)
        return row
