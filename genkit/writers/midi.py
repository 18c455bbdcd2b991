"""Standard MIDI files with provenance in a text event; optionally a piano-roll PNG per tune."""

from __future__ import annotations

from pathlib import Path

from genkit import encode, files
from genkit.artifacts import Midi
from genkit.errors import GenkitError
from genkit.writers import Writer, entry


class MidiWriter(Writer):
    def check(self, items: list[Path]) -> None:
        self.rolls = None
        if self.value("piano_roll") and self.run.primary:
            self.rolls = files.OutputPlan(str(self.value("piano_roll")), self.run.generator, ("png",),
                                          self.run.n, self.run.seed)
            self.rolls.check_free(self.run.overwrite)

    def write(self, artifact, path: Path, provenance: dict) -> dict:
        self.expect(artifact, Midi)
        files.write_atomic(path, encode.midi_bytes(artifact.midi, provenance), self.run.overwrite)
        row = entry(path, artifact)
        if self.rolls is not None:
            if artifact.render_piano_roll is None:
                raise GenkitError(f"{self.run.generator} cannot draw piano rolls")
            roll = self.rolls.path(artifact.index)
            files.write_atomic(roll, encode.png_bytes(artifact.render_piano_roll(), provenance), self.run.overwrite)
            row["piano_roll"] = str(roll)
        return row
