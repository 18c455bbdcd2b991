"""Standard MIDI files with provenance in a text event; optionally a piano-roll PNG per tune."""

from __future__ import annotations

from pathlib import Path

from genkit import encode, files
from genkit.artifacts import Midi
from genkit.errors import GenkitError
from genkit.writers import Writer, entry


class PianoRolls:
    """The --piano-roll pictures of MIDI items; the MIDI and the WAV writer both offer them."""

    def __init__(self, writer: Writer):
        self.run, self.plan = writer.run, None
        if writer.value("piano_roll"):
            self.plan = files.OutputPlan(
                str(writer.value("piano_roll")), self.run.generator, ("png",), self.run.n, self.run.seed
            )
            self.plan.check_free(self.run.overwrite)

    def draw(self, artifact, provenance: dict, row: dict) -> None:
        if self.plan is None or not isinstance(artifact, Midi):
            return
        if artifact.render_piano_roll is None:
            raise GenkitError(f"{self.run.generator} cannot draw piano rolls")
        path = self.plan.path(artifact.index)
        files.write_atomic(path, encode.png_bytes(artifact.render_piano_roll(), provenance), self.run.overwrite)
        row["piano_roll"] = str(path)


class MidiWriter(Writer):
    def check(self, items: list[Path]) -> None:
        self.rolls = PianoRolls(self)

    def write(self, artifact, path: Path, provenance: dict) -> dict:
        self.expect(artifact, Midi)
        files.write_atomic(path, encode.midi_bytes(artifact.midi, provenance), self.run.overwrite)
        row = entry(path, artifact)
        self.rolls.draw(artifact, provenance, row)
        return row
