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

    def draw(self, artifact, provenance: dict, row: dict) -> list[tuple[Path, bytes]]:
        """The piano roll of ``artifact`` as (path, bytes) for the item's writer to write with it; noted in ``row``."""
        if self.plan is None or not isinstance(artifact, Midi):
            return []
        if artifact.render_piano_roll is None:
            raise GenkitError(f"{self.run.generator} cannot draw piano rolls")
        path = self.plan.path(artifact.index)
        row["piano_roll"] = str(path)
        return [(path, encode.png_bytes(artifact.render_piano_roll(), provenance))]

    def planned(self) -> list[Path]:
        return [self.plan.path(i) for i in range(self.run.n)] if self.plan else []


class MidiWriter(Writer):
    def check(self, items: list[Path]) -> None:
        self.rolls = PianoRolls(self)

    def write(self, artifact, path: Path, provenance: dict) -> dict:
        self.expect(artifact, Midi)
        row = entry(path, artifact)
        rolls = self.rolls.draw(artifact, provenance, row)  # the tune and its piano roll land together
        files.write_together([(path, encode.midi_bytes(artifact.midi, provenance)), *rolls], self.run.overwrite)
        return row

    def planned(self, items: list[Path]) -> tuple[list[Path], list[Path]]:
        return self.rolls.planned(), []
