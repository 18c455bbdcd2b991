"""ABC tunes with chord symbols: the melody and the chords as notes in sixteenth steps.

This reads the ABC that folk collections use (the Nottingham files in ``../shared/data`` are the
yardstick): header fields X: T: M: L: K: P:, notes with accidentals, octave marks and lengths,
rests, broken rhythm (``>``, ``<``), triplets ``(3``, ties, ``[ceg]`` double-stops (the highest
pitch is the melody's), grace notes and decorations (skipped), chord symbols in quotes (``"G"``,
``"Em"``, ``"D7/f+"``, ``"Gd"`` diminished), and the repeat signs ``|: :| ::`` with first and
second endings (``[1``, ``[2``, ``|1``, ``:|2``), which are unrolled as they are played. Parts play
in the order the header's ``P:`` (or Nottingham's ``Y:``) gives, else as written. Anything else is
refused with the line it is on, as hostile input.

The result per tune is an ``AbcTune``: melody notes and chord spans on one time line (sixteenth
steps from the first bar line of the tune, a pickup included), the meter changes and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from genkit_music.meters import METERS

MAX_ABC_BYTES = 1 << 20
MAX_TUNE_STEPS = 100_000  # as data.MAX_TUNE_STEPS: sixteenths, over 4000 bars of 6/4

_NATURAL = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SHARPS_ORDER = "FCGDAEB"
# Semitones above the root per chord quality (the letters Nottingham's files use).
_QUALITIES = {"": (0, 4, 7), "m": (0, 3, 7), "d": (0, 3, 6), "a": (0, 4, 8)}
_EXTENSIONS = {"7": 10, "6": 9, "b9": 13, "maj7": 11, "9": 14}


@dataclass
class Chord:
    """A chord symbol: its root's pitch class, its pitch classes (root first) and how it was written."""

    root: int
    pitch_classes: tuple[int, ...]
    symbol: str


@dataclass
class AbcTune:
    number: int
    title: str
    key: str  # as genkit_music.data.parse_key reads it: "G", "Em"
    notes: list[tuple[int, int, int]] = field(default_factory=list)  # (onset step, end step, MIDI pitch)
    chords: list[tuple[int, int, Chord]] = field(default_factory=list)  # (first step, end step, chord)
    meters: list[tuple[int, str]] = field(default_factory=list)  # (step, meter) at each change
    length: int = 0  # steps: the end of the last bar

    def chord_at(self, step: int) -> Chord | None:
        for first, end, chord in self.chords:
            if first <= step < end:
                return chord
        return None


class AbcError(ValueError):
    pass


def parse_chord(symbol: str) -> Chord | None:
    """``"A7/c+"`` -> Chord(root 9, (9, 1, 4, 7)); None for text in quotes that is not a chord."""
    text = symbol.strip().strip("()")
    m = re.fullmatch(r"([A-G])([#b]?)(m|d|a|)((?:maj7|b9|7|6|9)*)(?:/[A-Ga-g][#b+-]?)?", text)
    if not m:
        return None
    root = (_NATURAL[m[1]] + {"#": 1, "b": -1, "": 0}[m[2]]) % 12
    extras = tuple(_EXTENSIONS[x] for x in re.findall(r"maj7|b9|7|6|9", m[4]))
    return Chord(root, tuple((root + k) % 12 for k in _QUALITIES[m[3]] + extras), text)


def key_signature(text: str) -> tuple[str, dict[str, int]]:
    """``K:`` text -> (the key as data.parse_key reads it, {letter: sharps (+1) or flats (-1)})."""
    m = re.fullmatch(r"\s*([A-G])([#b]?)\s*(m|min|minor|maj|major|mix|dor|)\w*\s*", text, re.IGNORECASE)
    if not m:
        raise AbcError(f"K:{text}: not a key genkit reads")
    letter, accidental, mode = m[1].upper(), m[2], m[3].lower()
    minor = mode.startswith("m") and not mode.startswith(("maj", "mix"))
    tonic = (_NATURAL[letter] + {"#": 1, "b": -1, "": 0}[accidental]) % 12
    offset = {"mix": 7, "dor": 2}.get(mode[:3], 9 if minor else 0)  # the modes' relative major's distance
    major = (tonic - offset) % 12
    fifths = {0: 0, 7: 1, 2: 2, 9: 3, 4: 4, 11: 5, 6: 6, 1: 7, 5: -1, 10: -2, 3: -3, 8: -4}[major]
    letters = _SHARPS_ORDER[:fifths] if fifths > 0 else _SHARPS_ORDER[::-1][:-fifths]
    signature = dict.fromkeys(letters, 1 if fifths > 0 else -1)
    return f"{letter}{accidental}{'m' if minor else ''}", signature


def read_abc(text: str) -> tuple[list[AbcTune], list[str]]:
    """(every tune in an ABC file's text that reads, one line per tune that does not). Tunes start at ``X:``."""
    if len(text) > MAX_ABC_BYTES:
        raise AbcError(f"more than {MAX_ABC_BYTES} characters")
    tunes, problems, block = [], [], []
    for line in text.splitlines() + ["X:"]:
        if line.startswith("X:") and block:
            try:
                tunes.append(_Reader(block).tune())
            except AbcError as exc:
                problems.append(f"{block[0].strip()}: {exc}")
            block = []
        if line.startswith("X:") or block:
            block.append(line)
    return tunes, problems


_TOKEN = re.compile(
    r'(?P<chord>"[^"]*")'
    r"|(?P<field>\[[A-Za-z]:[^\]]*\])"
    r"|(?P<bar>:*\|+\]?:*|:+|\[\||\|\]|\[(?=[12]))(?P<ending>[12](?:,[12])*)?"
    r"|(?P<note>(?:\^\^|\^|__|_|=)?[A-Ga-g][,']*|[zx])(?P<len>\d*/*\d*)(?P<tie>-?)"
    r"|(?P<stack>\[[^\]]*\])(?P<slen>\d*/*\d*)"
    r"|(?P<tuplet>\(\d(?::\d*)*)"
    r"|(?P<broken>[<>]+)"
    r"|(?P<tie2>-)"
    r"|(?P<grace>\{[^}]*\})"
    r"|(?P<deco>![^!]*!|[~.HLMOPSTuv]|[()])"
    r"|(?P<space>\s+|\\$)"
)


class _Reader:
    """One tune's lines -> AbcTune; the repeat structure is unrolled into a list of bars first."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.number, self.title, self.unit = 0, "", None
        self.meter = "4/4"
        self.key, self.signature = "C", {}
        self.order = ""  # the part order from the header (P: or Y:), as letters

    def tune(self) -> AbcTune:
        body: list[tuple[int, str]] = []
        for i, line in enumerate(self.lines, 1):
            line = line.split("%", 1)[0].rstrip()
            m = re.fullmatch(r"([A-Za-z]):(.*)", line)
            if m and (m[1] in "HIJKLMNOPQRSTUVWXYZ" or not body):  # fields other than these are notes for humans
                if not body:
                    self._field(m[1], m[2].strip(), i, header=True)
                if body or m[1] == "K":
                    body.append((i, f"[{m[1]}:{m[2].strip()}]"))
                continue
            if line.strip():
                body.append((i, line))
        tune = AbcTune(self.number, self.title, self.key)
        _Player(self, tune).play(_bars(self, body))
        return tune

    def _field(self, name: str, value: str, line: int, header: bool) -> None:
        if name == "X":
            self.number = int(value) if value.isdigit() else 0
        elif name in "PY" and header:  # the part order: ABC's P:, or Nottingham's Y: (P: wins)
            if name == "P" or not self.order:
                self.order = "".join(x for x in value if x.isalpha())
        elif name == "T" and not self.title:
            self.title = value
        elif name == "M":
            meter = {"C": "4/4", "C|": "2/2"}.get(value, value.replace(" ", ""))
            if meter not in METERS:
                raise AbcError(f"line {line}: M:{value} is not one of {', '.join(METERS)}")
            self.meter = meter
        elif name == "L":
            m = re.fullmatch(r"1/(\d+)", value.replace(" ", ""))
            if not m or int(m[1]) not in (1, 2, 4, 8, 16, 32):
                raise AbcError(f"line {line}: L:{value} is not a unit genkit reads")
            self.unit = Fraction(1, int(m[1]))
        elif name == "K":
            self.key, self.signature = key_signature(value) if header else (self.key, self.signature)


def _bars(reader: _Reader, body: list[tuple[int, str]]) -> list[list]:
    """The body's bars in the order they are played: each bar a list of (line, match) tokens.

    Parts (``P:`` in the body) are played in the header's order (``P:ABACA``, or ``Y:`` as Nottingham's
    files name it) when there is one, else as written; each part's repeats are unrolled by ``_unroll``.
    """
    parts: dict[str, list] = {"": []}
    label = ""
    bar: list = []

    def end_bar():
        nonlocal bar
        if bar:
            parts[label].append(("bar", bar))
        bar = []

    for line, text in body:
        at = 0
        while at < len(text):
            m = _TOKEN.match(text, at)
            if not m or m.end() == at:
                raise AbcError(f"line {line}: cannot read {text[at : at + 12]!r}")
            at = m.end()
            if m["field"] is not None and m["field"].startswith("[P:"):
                end_bar()
                label = m["field"][3:-1].strip()
                parts.setdefault(label, [])
            elif m["bar"] is not None:
                end_bar()
                parts[label] += _markers(m["bar"], m["ending"])
            elif m["space"] is None:
                bar.append((line, m))
    end_bar()
    order = [x for x in reader.order if x in parts] or list(parts)
    if reader.order and "" in parts and parts[""]:
        order = ["", *order]  # bars before the first P: are played first
    return [b for name in order for b in _unroll(parts[name])]


def _markers(sign: str, ending: str | None) -> list[tuple[str, int]]:
    """A bar line's repeat signs, in the order they act: close a repeat, a double bar, open one, an ending."""
    marks = []
    if sign.startswith(":"):
        marks.append(("close", 0))
    if sign.strip(":") in ("||", "|]", "[|"):
        marks.append(("boundary", 0))
    if sign.endswith(":"):
        marks.append(("open", 0))
    if ending:
        marks.append(("ending", int(ending[0])))
    return marks


def _unroll(items: list) -> list:
    """Play a part's bars through its repeats, as the Nottingham MIDI files were made from them.

    ``:|`` goes back once to the last ``|:`` or the part's start, and replaying a stretch replays the
    repeats inside it too (so ``|: A :| B :|`` plays A A B A A B, as Nottingham's MIDI files do); the
    bars of a first ending are skipped when its repeat goes through a second time.
    """
    closes = [i for i, (kind, _) in enumerate(items) if kind == "close"]
    played, i, start = [], 0, 0
    taken: set[int] = set()
    ending = 0
    while i < len(items):
        kind, value = items[i]
        if kind == "open":
            start = i + 1
        elif kind == "close":
            ending = 0
            if i not in taken:
                taken.add(i)
                taken -= {j for j in taken if start <= j < i}  # the stretch replays its own repeats
                i = start
                continue
        elif kind == "boundary":
            ending = 0
        elif kind == "ending":
            ending = value
        elif not (ending == 1 and next((c for c in closes if c > i), None) in taken):
            played.append(value)  # a first ending is skipped when its repeat is on its second time
        i += 1
        if len(played) > MAX_TUNE_STEPS:
            raise AbcError("the repeats unroll to more bars than a tune may have")
    return played


class _Player:
    """Plays unrolled bars: note lengths, accidentals within a bar, ties, tuplets, chords, meter changes."""

    def __init__(self, reader: _Reader, tune: AbcTune):
        self.reader, self.tune = reader, tune
        self.meter, self.key, self.signature = reader.meter, reader.key, reader.signature
        num, den = map(int, self.meter.split("/"))
        self.unit = reader.unit or (Fraction(1, 8) if Fraction(num, den) >= Fraction(3, 4) else Fraction(1, 16))
        tune.meters.append((0, self.meter))
        self.time = Fraction(0)  # in whole notes
        self.chord: tuple[Fraction, Chord] | None = None
        self._tied: int | None = None  # the pitch a tie carries into the next note

    def play(self, bars: list[list]) -> None:
        first = True  # until a bar with notes or rests in it
        for bar in bars:
            self.accidentals: dict[tuple[str, int], int] = {}
            self.tuplet: tuple[int, Fraction] | None = None
            self.broken = Fraction(1)
            start = self.time
            for line, m in bar:
                self._token(line, m)
            if first and self.time > start:
                if self.time - start < Fraction(*map(int, self.meter.split("/"))):
                    self._pad_pickup(start)
                first = False
        self._close_chord()
        self.tune.length = self._step(self.time)
        if self.tune.length > MAX_TUNE_STEPS:
            raise AbcError(f"tune {self.tune.number}: longer than {MAX_TUNE_STEPS} sixteenths")

    def _pad_pickup(self, start: Fraction) -> None:
        """A short first bar is a pickup: shift it to the end of a whole first bar, as Nottingham's MIDI has it."""
        shift = Fraction(*map(int, self.meter.split("/"))) - (self.time - start)
        steps = self._step(shift)
        self.tune.notes = [(s + steps, e + steps, p) for s, e, p in self.tune.notes]
        if self.chord is not None:
            self.chord = (self.chord[0] + shift, self.chord[1])
        self.time += shift

    def _step(self, t: Fraction) -> int:
        return round(t * 16)

    def _token(self, line: int, m: re.Match) -> None:
        if m["field"]:
            self._inline_field(line, m["field"][1:-1])
        elif m["chord"]:
            chord = parse_chord(m["chord"][1:-1])
            if chord is not None:
                self._close_chord()
                self.chord = (self.time, chord)
        elif m["note"]:
            self._note(line, m["note"], m["len"], bool(m["tie"]))
        elif m["stack"]:
            inner = re.findall(r"((?:\^\^|\^|__|_|=)?[A-Ga-g][,']*)(\d*/*\d*)", m["stack"][1:-1])
            if not inner:
                raise AbcError(f"line {line}: cannot read {m['stack']!r}")
            pitches = [self._pitch(n) for n, _ in inner]
            best = inner[pitches.index(max(pitches))]
            self._note(line, best[0], m["slen"] or best[1], False)
        elif m["tuplet"]:
            p = int(m["tuplet"][1])
            q = {2: 3, 3: 2, 4: 3, 6: 2}.get(p)
            if q is None:
                raise AbcError(f"line {line}: tuplet {m['tuplet']} is not one genkit reads")
            self.tuplet = (p, Fraction(q, p))
        elif m["tie2"]:  # a tie written apart from its note ("c2 -" or after a bar line)
            self._tied = self.tune.notes[-1][2] if self.tune.notes else None
        elif m["broken"]:
            dots = len(m["broken"])
            long, short = 2 - Fraction(1, 2**dots), Fraction(1, 2**dots)
            self._stretch_last(long if m["broken"][0] == ">" else short)
            self.broken = short if m["broken"][0] == ">" else long

    def _inline_field(self, line: int, text: str) -> None:
        name, value = text[0], text[2:].strip()
        if name == "M":
            self.reader._field("M", value, line, header=False)
            self.meter = self.reader.meter
            step = self._step(self.time)
            self.tune.meters = [(s, x) for s, x in self.tune.meters if s != step] + [(step, self.meter)]
        elif name == "L":
            self.reader._field("L", value, line, header=False)
            self.unit = self.reader.unit
        elif name == "K":
            self.key, self.signature = key_signature(value)
            if not self.tune.notes:
                self.tune.key = self.key

    def _pitch(self, note: str) -> int:
        letter = note.lstrip("^_=")[0]
        octave = 5 if letter.islower() else 4
        octave += note.count("'") - note.count(",")
        accidental = note[: len(note) - len(note.lstrip("^_="))]
        shift = {"^": 1, "^^": 2, "_": -1, "__": -2, "=": 0}.get(accidental)
        slot = (letter.upper(), octave)
        if shift is not None:  # the ABC rule: it holds for that note to the bar line
            self.accidentals[slot] = shift
        shift = self.accidentals.get(slot, self.signature.get(letter.upper(), 0))
        return 12 * (octave + 1) + _NATURAL[letter.upper()] + shift

    def _length(self, text: str) -> Fraction:
        m = re.fullmatch(r"(\d*)(/*)(\d*)", text)
        if not m:
            raise AbcError(f"note length {text!r}")
        num = int(m[1]) if m[1] else 1
        den = int(m[3]) if m[3] else 2 ** len(m[2])
        return self.unit * Fraction(num, den)

    def _note(self, line: int, note: str, length: str, tie: bool) -> None:
        duration = self._length(length) * self.broken
        self.broken = Fraction(1)
        if self.tuplet is not None:
            left, factor = self.tuplet
            duration *= factor
            self.tuplet = (left - 1, factor) if left > 1 else None
        start, self.time = self.time, self.time + duration
        if note in ("z", "x"):
            self._tied = None
            return
        pitch = self._pitch(note)
        s, e = self._step(start), self._step(self.time)
        if self._tied == pitch and self.tune.notes and self.tune.notes[-1][2] == pitch:
            ps, _, _ = self.tune.notes.pop()
            s = ps
        self.tune.notes.append((s, max(e, s + 1), pitch))
        self._tied = pitch if tie else None

    def _stretch_last(self, factor: Fraction) -> None:
        """``a>b``: the note before the sign is lengthened (or shortened) by ``factor``."""
        if not self.tune.notes:
            return
        s, e, p = self.tune.notes[-1]
        old = Fraction(e - s, 16)
        self.time += old * (factor - 1)
        self.tune.notes[-1] = (s, self._step(self.time), p)

    def _close_chord(self) -> None:
        if self.chord is not None:
            first, chord = self.chord
            self.tune.chords.append((self._step(first), self._step(self.time), chord))
            self.chord = None


def to_midi(tune: AbcTune, tempo: float = 120.0, chord_octave: int = 4):
    """The tune as pretty_midi: the melody on instrument 0 and, when it has chord symbols, the chords
    as block chords (root position from C of ``chord_octave``) on instrument 1, named "chords"."""
    import pretty_midi

    from genkit_music import data

    seconds = 60.0 / tempo / data.STEPS_PER_QUARTER  # one sixteenth
    midi = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    for step, meter in tune.meters:
        num, den = map(int, meter.split("/"))
        midi.time_signature_changes.append(pretty_midi.TimeSignature(num, den, step * seconds))
    key = data.parse_key(tune.key)
    midi.key_signature_changes.append(pretty_midi.KeySignature(key.tonic + (12 if key.minor else 0), 0.0))
    melody = pretty_midi.Instrument(0, name="melody")
    for s, e, p in tune.notes:
        if 0 <= p <= 127:
            melody.notes.append(pretty_midi.Note(96, p, s * seconds, e * seconds))
    midi.instruments.append(melody)
    if tune.chords:
        chords = pretty_midi.Instrument(0, name="chords")
        base = 12 * (chord_octave + 1)
        for s, e, chord in tune.chords:
            if e > s:
                for k, pc in enumerate(chord.pitch_classes):
                    pitch = base + pc + (12 if k and pc < chord.root else 0)  # stacked above the root
                    chords.notes.append(pretty_midi.Note(64, pitch, s * seconds, e * seconds))
        midi.instruments.append(chords)
    return midi
