"""Melodies <-> event sequences at sixteenth-note steps, and the Nottingham train/valid/test split.

The encoding follows Magenta's monophonic melody RNNs (Waite et al. 2016, "Generating long-term
structure in songs and stories"): one event per sixteenth note, each one of

    NO_EVENT          nothing new happens (a note keeps sounding, or a rest continues)
    NOTE_OFF          the sounding note stops
    NOTE_ON(p)        pitch p starts (and ends any note still sounding)

Every step also carries its meter (an index into METERS) and its position in the bar, so the model
knows where bar lines fall in 4/4, 3/4 or 6/8. Pitches are stored in a *key-normalised* space:
each tune is transposed so that its key's tonic is C (by -6..+5 semitones, whichever is nearest).
That pools every key's tunes into one (augmenting with 12 transpositions instead would cost 12 times
the training time on a CPU budget), and makes ``--key`` a plain transposition at generation time. Double-stops are reduced to their highest pitch.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genkit.errors import GenkitError
from genkit_music.meters import METERS

# Token ids. Targets use 0..VOCAB-1; inputs add START for "nothing before this step".
NO_EVENT, NOTE_OFF, FIRST_PITCH_TOKEN = 0, 1, 2
LOW, HIGH = 48, 95  # pitch range of the normalised space (the data spans 55-88 before transposition)
VOCAB = FIRST_PITCH_TOKEN + HIGH - LOW + 1
START = VOCAB
STEPS_PER_QUARTER = 4

# The meters the model knows are in meters.py (METERS); sixteenth steps per bar for each below.
MAX_BAR_STEPS = 24


def bar_steps(meter: str) -> int:
    num, den = (int(x) for x in meter.split("/"))
    return num * 16 // den


# Keys: tonic pitch class per name; "m" suffix = minor.
_TONICS = {
    "C": 0,
    "C#": 1,
    "DB": 1,
    "D": 2,
    "D#": 3,
    "EB": 3,
    "E": 4,
    "F": 5,
    "F#": 6,
    "GB": 6,
    "G": 7,
    "G#": 8,
    "AB": 8,
    "A": 9,
    "A#": 10,
    "BB": 10,
    "B": 11,
    "CB": 11,
}
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class 0-11
    minor: bool = False

    @property
    def shift(self) -> int:
        """Semitones from the normalised tonic C to this key's tonic, nearest way: -6..+5."""
        return self.tonic if self.tonic <= 5 else self.tonic - 12

    @property
    def name(self) -> str:
        names = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
        return names[self.tonic] + ("m" if self.minor else "")


def parse_key(text: str) -> Key:
    """'G', 'D', 'Bb', 'F#m', 'Am', 'A minor', 'c major' -> Key; anything else is a user error."""
    raw = text.strip()
    words = raw.replace("-", " ").split()
    minor = False
    if len(words) == 2 and words[1].lower() in ("major", "maj", "minor", "min"):
        minor = words[1].lower().startswith("min")
        raw = words[0]
    elif raw.lower().endswith("min"):
        minor, raw = True, raw[:-3]
    elif raw.endswith("m") and len(raw) > 1:
        minor, raw = True, raw[:-1]
    tonic = _TONICS.get(raw.upper().replace("♭", "B").replace("♯", "#"))
    if tonic is None or not raw:
        raise GenkitError(
            f"unknown key {text!r}: use a tonic A-G with optional # or b, and m for minor (e.g. G, D, Bb, F#m, Am)"
        )
    return Key(tonic, minor)


# Parallel-minor mapping: the model writes major tunes (the data is all major). A minor key swaps
# scale degrees 3, 6 and 7 with their lowered neighbours (E<->Eb, A<->Ab, B<->Bb over tonic C). A
# swap is its own inverse, so a minor primer goes into the model's space and back unchanged.
_MINOR_SWAP = {4: 3, 3: 4, 9: 8, 8: 9, 11: 10, 10: 11}


def _swap(p: int) -> int:
    return p - p % 12 + _MINOR_SWAP.get(p % 12, p % 12)


def to_key(normalised_pitch: int, key: Key) -> int:
    return (_swap(normalised_pitch) if key.minor else normalised_pitch) + key.shift


def from_key(pitch: int, key: Key) -> int:
    p = pitch - key.shift
    return _swap(p) if key.minor else p


# Krumhansl-Kessler key profiles, for tunes or primers without a key signature.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def estimate_key(pitches, durations=None, allow_minor: bool = True) -> Key:
    """The key whose Krumhansl-Kessler profile best correlates with the duration-weighted pitch classes."""
    hist = np.zeros(12)
    for p, d in zip(pitches, durations if durations is not None else [1] * len(pitches)):
        hist[int(p) % 12] += d
    best, best_r = Key(0), -2.0
    for minor, profile in ((False, _MAJOR_PROFILE), (True, _MINOR_PROFILE)):
        if minor and not allow_minor:
            continue
        for tonic in range(12):
            r = np.corrcoef(hist, np.roll(profile, tonic))[0, 1] if hist.std() > 0 else 0.0
            if r > best_r + 1e-9:
                best, best_r = Key(tonic, minor), r
    return best


# ---------------------------------------------------------------- one tune


@dataclass
class Tune:
    """A melody as events: ``events[t]`` (token), ``meters[t]`` (index into METERS), ``positions[t]``
    (step within its bar). ``len(events)`` is a whole number of bars."""

    name: str
    events: np.ndarray
    meters: np.ndarray
    positions: np.ndarray
    key: Key = field(default_factory=lambda: Key(0))
    chords: np.ndarray | None = None  # (T, CHORD_FEATURES) float32: the chord sounding per step, or None

    def chord_columns(self) -> np.ndarray:
        """(T, CHORD_FEATURES): the chords, all zero ("no chord") where the tune has none."""
        if self.chords is None:
            return np.zeros((len(self.events), CHORD_FEATURES), dtype=np.float32)
        return self.chords

    @property
    def bars(self) -> int:
        return int((self.positions == 0).sum())


# A chord as the model reads it, in the normalised key: its 12 pitch classes sounding, then its root
# one-hot; all zero is "no chord". Any chord a user writes fits, not only those the data holds.
CHORD_FEATURES = 24


def chord_vector(pitch_classes, root: int, key: Key) -> np.ndarray:
    """A chord of the tune's key (pitch classes 0-11, C = 0) as the model's features in the normalised key."""
    v = np.zeros(CHORD_FEATURES, dtype=np.float32)
    for pc in pitch_classes:
        v[from_key(60 + pc, key) % 12] = 1.0
    v[12 + from_key(60 + root, key) % 12] = 1.0
    return v


def chord_symbols_of(vector) -> tuple[int, tuple[int, ...]]:
    """(root, pitch classes with the root first) of a feature vector, in the normalised key."""
    root = int(np.argmax(vector[12:]))
    rest = [pc for pc in range(12) if vector[pc] > 0.5 and pc != root]
    return root, (root, *sorted(rest, key=lambda pc: (pc - root) % 12))


def lookbacks(tune: Tune, bars=(1, 2)) -> np.ndarray:
    """(T, len(bars)): per step t, the event ``k`` bars before t for each k (START before the tune).

    Magenta's lookback RNN feeds the events 1 and 2 bars back so that repeating a bar is easy to
    learn; folk tunes also repeat whole 4- and 8-bar phrases, hence the longer ones. A bar's length
    is the meter's at the step being stepped back from.
    """
    steps = np.array([bar_steps(m) for m in METERS])
    padded = np.append(tune.events, START)  # index -1 -> START
    back = np.arange(len(tune.events))
    columns, done = [], 0
    for k in sorted(bars):
        while done < k:
            back = np.where(back >= 0, back - steps[tune.meters[np.clip(back, 0, None)]], -1)
            done += 1
        columns.append(padded[np.where(back >= 0, back, -1)])
    order = np.argsort(np.argsort(bars))  # back to the caller's order
    return np.stack(columns, axis=1)[:, order]


def bars_left(tune: Tune) -> np.ndarray:
    """(T,): per step, the whole bars after the step's own bar before the tune ends (0 in the last bar).

    Counted on the bar grid, so a meter change moves nothing; the model reads it capped (model.py)."""
    starts = (tune.positions == 0).astype(np.int64)
    after = np.cumsum(starts[::-1])[::-1]  # bar lines at or after each step
    return after - starts


def encode_midi(midi, name: str = "", key: Key | None = None, strict_range: bool = True) -> Tune:
    """Turn a pretty_midi melody into a Tune in the normalised key; raise ValueError if it cannot be.

    The bar grid starts at time 0 (Nottingham's converter pads the first bar with rests, so a
    pickup sits at the end of bar 1) and restarts at each time-signature change. A file that opens
    with a pickup measure (as genkit writes them) is padded the same way, see ``pickup_of``.
    """
    notes = [n for inst in midi.instruments if not inst.is_drum for n in inst.notes]
    if not notes:
        raise ValueError("no notes outside drum tracks")
    res = midi.resolution
    _, pad = pickup_of(midi)

    def step(t):
        return round(midi.time_to_tick(t) * STEPS_PER_QUARTER / res) + pad

    ts_events = _meter_changes(midi, step, pad)
    onsets = _melody_onsets(notes, step)
    key = _key_of(midi, notes) if key is None else key
    end = max(e for _, e in onsets.values())

    meters, positions = _bar_grid(ts_events, end)
    length = len(meters)

    events = np.full(length, NO_EVENT, dtype=np.int64)
    starts = sorted(onsets)
    for i, s in enumerate(starts):
        pitch, e = onsets[s]
        p = from_key(pitch, key)
        if not LOW <= p <= HIGH:
            if strict_range:
                raise ValueError(f"pitch {pitch} falls outside the model's range after transposing to C")
            p = LOW + (p - LOW) % 12 if p < LOW else HIGH - (HIGH - p) % 12
        events[s] = FIRST_PITCH_TOKEN + p - LOW
        following = starts[i + 1] if i + 1 < len(starts) else length
        if e < following and e < length:
            events[e] = NOTE_OFF
    return Tune(name, events, np.array(meters, dtype=np.int64), np.array(positions, dtype=np.int64), key)


def _meter_changes(midi, step, pad: int) -> list[tuple[int, int]]:
    """(step, index in METERS) at each time-signature change; a pickup measure's own is dropped (it is padded)."""
    ts_events = []
    for ts in midi.time_signature_changes[1:] if pad else midi.time_signature_changes:
        meter = f"{ts.numerator}/{ts.denominator}"
        if meter not in METERS:
            raise ValueError(f"time signature {meter} is not one of {', '.join(METERS)}")
        at = 0 if pad and not ts_events else step(ts.time)  # the padded pickup bar is the meter's bar 1
        ts_events.append((at, METERS.index(meter)))
    if not ts_events or ts_events[0][0] > 0:
        ts_events.insert(0, (0, 0))  # MIDI's default meter is 4/4
    return ts_events


def _melody_onsets(notes, step) -> dict[int, tuple[int, int]]:
    """{onset step: (pitch, end step)}; the highest pitch wins at each onset (double-stops, triplets on one step)."""
    onsets: dict[int, tuple[int, int]] = {}
    for n in notes:
        s, e = step(n.start), step(n.end)
        e = max(e, s + 1)
        if s not in onsets or n.pitch > onsets[s][0]:
            onsets[s] = (n.pitch, e)
    return onsets


def _key_of(midi, notes) -> Key:
    """The file's first key signature, else the key its pitches and durations suggest."""
    if midi.key_signature_changes:
        k = midi.key_signature_changes[0].key_number
        return Key(k % 12, k >= 12)
    return estimate_key([n.pitch for n in notes], [n.end - n.start for n in notes])


# ---------------------------------------------------------------- primers typed on the command line

HOLD, REST = None, -1  # primer steps besides a pitch: nothing new happens / the sounding note stops


def parse_primer(text: str) -> list:
    """Magenta's melody primer: one token per sixteenth step, a MIDI pitch starting a note, ``_``
    holding what sounds (Magenta's -2) and ``-`` resting (Magenta's -1). ``"60 _ 62 - 64"``; the
    list form ``"[60, -2, 62, -1, 64]"`` works too. Returns pitches, HOLD and REST per step."""
    tokens = text.replace("[", " ").replace("]", " ").replace(",", " ").split()
    if not tokens:
        raise GenkitError('--primer is empty; give MIDI pitches, "_" to hold and "-" to rest, e.g. "60 _ 62 - 64"')
    steps, sounding = [], False
    for k, token in enumerate(tokens, 1):
        if token in ("_", "-2"):
            if k == 1:
                raise GenkitError("--primer starts with '_' (hold) but no note sounds yet; use '-' for a rest")
            steps.append(HOLD)
        elif token in ("-", "-1"):
            steps.append(REST if sounding else HOLD)
            sounding = False
        else:
            try:
                pitch = int(token)
            except ValueError:
                raise GenkitError(
                    f"--primer token {k} {token!r} is not a MIDI pitch, '_' (hold) or '-' (rest); e.g. \"60 _ 62 - 64\""
                ) from None
            if not 0 <= pitch <= 127:
                raise GenkitError(f"--primer pitch {pitch} is not a MIDI pitch (0-127)")
            steps.append(pitch)
            sounding = True
    if not any(s not in (HOLD, REST) for s in steps):
        raise GenkitError("--primer holds only rests; give at least one MIDI pitch")
    return steps


# ---------------------------------------------------------------- pickups (anacrusis)


def leading_silence(events) -> int:
    """Steps before the first note starts (all of them when no note ever starts)."""
    for t, ev in enumerate(events):
        if ev >= FIRST_PITCH_TOKEN:
            return t
    return 0


def pickup_signature(steps: int, meter: str) -> tuple[int, int]:
    """The time signature of a pickup measure ``steps`` sixteenths long, in the meter's unit where it
    can be: 4 sixteenths before 4/4 is 1/4, before 6/8 it is 2/8."""
    num, den = steps, 16
    meter_den = int(meter.split("/")[1])
    while num % 2 == 0 and den > meter_den:
        num, den = num // 2, den // 2
    return num, den


def pickup_of(midi) -> tuple[str | None, int]:
    """(meter, rests to pad) for a file that opens with a pickup measure: a first time signature
    lasting one short measure, then the tune's meter. (None, 0) for any other file."""
    changes = midi.time_signature_changes
    if len(changes) < 2 or changes[0].time > 0:
        return None, 0
    first, second = changes[0], changes[1]
    per_step = midi.resolution / STEPS_PER_QUARTER
    length = round(midi.time_to_tick(second.time) / per_step)
    meter = f"{second.numerator}/{second.denominator}"
    measure = first.numerator * 16 // first.denominator
    if meter not in METERS or length != measure or not 0 < length < bar_steps(meter):
        return None, 0
    return meter, bar_steps(meter) - length


def _bar_grid(ts_events: list[tuple[int, int]], end: int) -> tuple[list[int], list[int]]:
    """Meter and position per step, up to a whole bar past ``end``. Bars restart at a change."""
    meters, positions = [], []
    t, seg = 0, 0
    while True:
        while seg + 1 < len(ts_events) and ts_events[seg + 1][0] <= t:
            seg += 1
        seg_start, m = ts_events[seg]
        pos = (t - seg_start) % bar_steps(METERS[m])
        if t >= end and pos == 0:
            return meters, positions
        meters.append(m)
        positions.append(pos)
        t += 1


def kept(events, meter: str, bars: int):
    """What decode keeps of sampled events: from the first note (leading rests of at most a bar are cut),
    a pickup and then ``bars`` whole bars."""
    bar = bar_steps(meter)
    skip = min(leading_silence(events), bar)
    return events[skip : skip + bars * bar + (bar - skip) % bar]


def decode(events, key: Key, tempo: float, program: int, meter: str, bars: int):
    """Events (normalised key) -> pretty_midi.PrettyMIDI in ``key`` that starts on its first note:
    ``bars`` whole bars, after a pickup when the events open with one.

    The model writes a pickup as rests at the start of bar 1, as its training data does; the file
    instead opens on the pickup's first note, in a pickup measure with its own time signature (how
    notation programs export an anacrusis), then takes ``bars`` whole bars from what follows when
    the events are long enough (the generator samples one bar more for this). A first bar with no
    note at all is dropped. Every note ends at or before the final bar line; an end-of-tune marker
    sits on that line so the file ends there even when the tune ends with a rest.
    """
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
    step_seconds = 60.0 / tempo / STEPS_PER_QUARTER
    events = kept(list(events), meter, bars)
    total = len(events)
    pickup = total % bar_steps(meter)
    num, den = (int(x) for x in meter.split("/"))
    if pickup:
        midi.time_signature_changes.append(pretty_midi.TimeSignature(*pickup_signature(pickup, meter), 0.0))
    midi.time_signature_changes.append(pretty_midi.TimeSignature(num, den, pickup * step_seconds))
    midi.key_signature_changes.append(pretty_midi.KeySignature(key.tonic + (12 if key.minor else 0), 0.0))
    inst = pretty_midi.Instrument(program=int(program), name="melody")
    current = None  # (pitch, start step)
    for t, ev in enumerate(events + [NOTE_OFF]):
        if ev == NO_EVENT:
            continue
        if current is not None:
            inst.notes.append(pretty_midi.Note(90, current[0], current[1] * step_seconds, t * step_seconds))
            current = None
        if ev >= FIRST_PITCH_TOKEN and t < total:
            current = (to_key(LOW + ev - FIRST_PITCH_TOKEN, key), t)
    midi.instruments.append(inst)
    midi.text_events.append(pretty_midi.Text("end", total * step_seconds))
    return midi


def notes_of(events):
    """(start step, length in steps, normalised pitch) for each note of an event sequence."""
    out, current = [], None
    for t, ev in enumerate(list(events) + [NOTE_OFF]):
        if ev == NO_EVENT:
            continue
        if current is not None:
            out.append((current[1], t - current[1], current[0]))
            current = None
        if ev >= FIRST_PITCH_TOKEN:
            current = (LOW + int(ev) - FIRST_PITCH_TOKEN, t)
    return out


# ---------------------------------------------------------------- a folder of MIDI files


def split_of(name: str) -> str:
    """The data README's rule: bucket = first 8 hex digits of sha256(file name) mod 10."""
    bucket = int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "train" if bucket <= 7 else ("valid" if bucket == 8 else "test")


# Budgets, checked from the bytes with mido before pretty_midi decodes anything: pretty_midi allocates
# an array as long as the last tick, and the encoding lists every sixteenth step, so a 37-byte file
# holding one note of 2^21 ticks at one tick a beat would cost gigabytes. Per tune, and per --data folder.
MAX_TUNE_BYTES = 1 << 20  # a folk tune is a few kB
MAX_TUNE_TICKS = 10_000_000
MAX_TUNE_STEPS = 100_000  # sixteenth steps: over 4000 bars of 6/4
MAX_TUNE_NOTES = 100_000
MAX_DATA_FILES = 100_000
MAX_DATA_BYTES = 256 << 20
MAX_DATA_STEPS = 50_000_000  # the encoded folder: three int64 arrays of this many steps at most
MAX_DATA_NOTES = 10_000_000


@dataclass(frozen=True)
class Extent:
    """What decoding a MIDI file will cost: its length in ticks and sixteenth steps, and its notes."""

    ticks: int
    steps: int
    notes: int


def midi_extent(raw: bytes, what: str, max_steps: int = MAX_TUNE_STEPS) -> Extent:
    """Measure a MIDI file's bytes with mido (no arrays), refusing one over the per-tune budgets.

    A file whose data is cut short or that cannot be parsed is a GenkitError naming ``what``: a
    missing note is never read as silence."""
    import mido

    if len(raw) > MAX_TUNE_BYTES:
        raise GenkitError(f"{what} is {len(raw):,} bytes; a tune may be at most {MAX_TUNE_BYTES:,}")
    try:
        midi = mido.MidiFile(file=io.BytesIO(raw))
        ticks = max((sum(msg.time for msg in track) for track in midi.tracks), default=0)
        notes = sum(1 for track in midi.tracks for msg in track if msg.type == "note_on" and msg.velocity > 0)
        resolution = midi.ticks_per_beat
    except EOFError:
        raise GenkitError(f"{what}: not a readable MIDI file (truncated: its data ends inside a track)") from None
    except Exception as exc:
        raise GenkitError(f"{what}: not a readable MIDI file ({type(exc).__name__})") from None
    if not isinstance(resolution, int) or resolution <= 0:
        raise GenkitError(f"{what}: its header gives {resolution} ticks per beat; a MIDI file needs at least 1")
    steps = -(-ticks * STEPS_PER_QUARTER // resolution)
    if ticks > MAX_TUNE_TICKS:
        raise GenkitError(f"{what} lasts {ticks:,} ticks, more than the {MAX_TUNE_TICKS:,} genkit reads")
    if steps > max_steps:
        raise GenkitError(f"{what} lasts {steps:,} sixteenth notes, more than the {max_steps:,} genkit reads")
    if notes > MAX_TUNE_NOTES:
        raise GenkitError(f"{what} holds {notes:,} notes, more than the {MAX_TUNE_NOTES:,} genkit reads")
    return Extent(ticks, steps, notes)


def read_tune_bytes(path: Path, what: str, max_steps: int = MAX_TUNE_STEPS) -> tuple[bytes, Extent]:
    """A MIDI file's bytes (a regular file, read at most MAX_TUNE_BYTES) and its measured extent."""
    from genkit.reading import read_regular

    raw = read_regular(path, MAX_TUNE_BYTES, what)
    return raw, midi_extent(raw, what, max_steps)


TUNE_SUFFIXES = (".mid", ".midi", ".abc")


def midi_files(folder: Path) -> list[Path]:
    """The folder's tune files: MIDI, and ABC (abc.py; a file may hold many tunes)."""
    folder = Path(folder)
    if folder.is_file():
        raise GenkitError(f"--data {folder} is a file; give a folder of .mid or .abc files")
    files = []
    for p in folder.iterdir():
        if p.suffix.lower() in TUNE_SUFFIXES and p.is_file():
            files.append(p)
            if len(files) > MAX_DATA_FILES:
                raise GenkitError(f"--data {folder} holds more than {MAX_DATA_FILES:,} MIDI files")
    return sorted(files)


def read_folder(folder: Path) -> tuple[dict[Path, bytes], list[str]]:
    """Every usable MIDI file's bytes, the whole folder measured against the data budgets before any is
    decoded, and a reason per file left out (unreadable, cut short, or over a tune's budget)."""
    files = midi_files(folder)
    size = sum(p.stat().st_size for p in files)
    if size > MAX_DATA_BYTES:
        raise GenkitError(
            f"--data {folder} holds {size / 2**20:.0f} MB of MIDI, more than the {MAX_DATA_BYTES >> 20} MB genkit reads"
        )
    out, skipped, steps, notes = {}, [], 0, 0
    for path in files:
        try:
            if path.suffix.lower() == ".abc":
                out[path], extent = read_abc_bytes(path)
            else:
                out[path], extent = read_tune_bytes(path, path.name)
        except GenkitError as exc:  # like a tune that cannot be encoded: left out, and said why
            skipped.append(str(exc))
            continue
        steps, notes = steps + extent.steps, notes + extent.notes
        if steps > MAX_DATA_STEPS or notes > MAX_DATA_NOTES:
            raise GenkitError(
                f"--data {folder}: its tunes last more than {MAX_DATA_STEPS:,} sixteenth notes or hold more "
                f"than {MAX_DATA_NOTES:,} notes in all, more than genkit reads"
            )
    return out, skipped


def read_abc_bytes(path: Path) -> tuple[bytes, Extent]:
    """An ABC file's bytes (at most MAX_TUNE_BYTES) and its extent, counted by reading every tune."""
    from genkit.reading import read_regular
    from genkit_music import abc

    raw = read_regular(path, MAX_TUNE_BYTES, path.name)
    try:
        tunes, _ = _read_abc(raw)
    except abc.AbcError as exc:
        raise GenkitError(f"{path.name}: {exc}") from None
    return raw, Extent(0, sum(t.length for t in tunes), sum(len(t.notes) for t in tunes))


@functools.lru_cache(maxsize=32)
def _read_abc(raw: bytes):
    """abc.read_abc once per file's bytes: a folder is measured, then read split by split."""
    from genkit_music import abc

    return abc.read_abc(raw.decode("latin-1"))


def abc_tunes(path: Path, raw: bytes) -> list[tuple[str, object]]:
    """(split name, pretty_midi melody) per tune of an ABC file; tune ``X: n`` of ``name.abc`` is split as
    ``name{n}.mid`` is (the data README's rule for the Nottingham ABC files), and a tune that does
    not read is (name, the reason)."""
    tunes, problems = _read_abc(raw)
    out: list[tuple[str, object]] = [(f"{path.stem}{t.number}.mid", t) for t in tunes]
    return out + [(path.name, problem) for problem in problems]


def chord_track(midi):
    """The instrument holding a MIDI file's chords (named "chords", as genkit writes them), or None."""
    named = [i for i in midi.instruments if not i.is_drum and "chord" in (i.name or "").lower()]
    melodic = [i for i in midi.instruments if not i.is_drum and i not in named]
    return named[0] if named and melodic else None


def encode_midi_with_chords(midi, name: str = "") -> Tune:
    """encode_midi of the melody; a chord track, when there is one, becomes the Tune's chords (the notes
    sounding at each step; the lowest is the root)."""
    track = chord_track(midi)
    if track is None:
        return encode_midi(midi, name)
    midi.instruments = [i for i in midi.instruments if i is not track]
    tune = encode_midi(midi, name)
    _, pad = pickup_of(midi)
    per_step = midi.resolution / STEPS_PER_QUARTER
    sounding: list[list[int]] = [[] for _ in tune.events]
    for n in track.notes:
        start = round(midi.time_to_tick(n.start) / per_step) + pad
        end = min(round(midi.time_to_tick(n.end) / per_step) + pad, len(sounding))
        for t in range(max(start, 0), end):
            sounding[t].append(n.pitch)
    chords = np.zeros((len(tune.events), CHORD_FEATURES), dtype=np.float32)
    for t, pitches in enumerate(sounding):
        if pitches:
            chords[t] = chord_vector({p % 12 for p in pitches}, min(pitches) % 12, tune.key)
    tune.chords = chords if chords.any() else None
    return tune


def encode_abc(tune, name: str) -> Tune:
    """An abc.AbcTune as a Tune with its chords (the chord sounding at each step, in the normalised key)."""
    from genkit_music import abc

    melody = abc.to_midi(tune)
    melody.instruments = melody.instruments[:1]
    key = parse_key(tune.key)
    out = encode_midi(melody, name, key=key)
    if tune.chords:
        chords = np.zeros((len(out.events), CHORD_FEATURES), dtype=np.float32)
        for first, end, chord in tune.chords:
            chords[first:end] = chord_vector(chord.pitch_classes, chord.root, key)
        out.chords = chords
    return out


def read_midi(path_or_bytes):
    """pretty_midi.PrettyMIDI from a path or bytes; ValueError for a file that is not valid MIDI."""
    import pretty_midi

    try:
        if isinstance(path_or_bytes, (bytes, bytearray)):
            return pretty_midi.PrettyMIDI(io.BytesIO(path_or_bytes))
        return pretty_midi.PrettyMIDI(str(path_or_bytes))
    except Exception as exc:
        raise ValueError(f"not a readable MIDI file ({type(exc).__name__}: {exc})") from None


def load_split(folder: Path, split: str, raws: dict[Path, bytes] | None = None) -> tuple[list[Tune], list[str]]:
    """Encoded tunes of one split, and a note per file (or ABC tune) that was skipped (and why)."""
    from genkit_music import abc

    tunes, skipped = [], []
    for path, raw in (read_folder(folder)[0] if raws is None else raws).items():
        if path.suffix.lower() != ".abc":
            items: list[tuple[str, object]] = [(path.name, raw)]
        else:
            items = abc_tunes(path, raw)
        for name, item in items:
            if isinstance(item, str):
                if split == "train":
                    skipped.append(f"{name}: {item}")
                continue
            if split_of(name) != split:
                continue
            try:
                if isinstance(item, abc.AbcTune):
                    tunes.append(encode_abc(item, name))
                else:
                    tunes.append(encode_midi_with_chords(read_midi(item), name))
            except (ValueError, GenkitError) as exc:
                skipped.append(f"{name}: {exc}")
    return tunes, skipped


def load_splits(folder: Path) -> dict[str, list[Tune]]:
    """train/valid/test tunes; a folder with no usable MIDI is a user error.

    A small folder may leave valid or test empty; they then fall back to the training tunes
    (and the metrics say so through their ``*_is_train`` flags in evaluate).
    """
    raws, reasons = read_folder(folder)
    files = [*raws, *reasons]
    if not files:
        raise GenkitError(f"--data {folder} holds no .mid, .midi or .abc files")
    out = {}
    for split in ("train", "valid", "test"):
        out[split], skipped = load_split(folder, split, raws)
        reasons += skipped
    if not out["train"]:
        why = f" (e.g. {reasons[0]})" if reasons else ""
        raise GenkitError(f"--data {folder}: no usable melody in the training split of {len(files)} MIDI file(s){why}")
    return out
