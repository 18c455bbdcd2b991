"""Chord progressions, one chord per bar: learnt from the training tunes, or given by the user.

A chord model (config ``chords``) reads the chord under every step; `genkit music --chords` draws a
progression from a first-order chain over the chords at the training tunes' bar lines (stored in
the weights' metadata as ``chord_chain``), and ``--backing "G D Em C"`` takes the user's, one per
bar, repeated to the end. Chords live in the normalised key (tonic C) as (root, pitch classes).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from genkit.errors import GenkitError
from genkit_music import data

MAX_CHAIN_CHORDS = 256  # a chain in hostile metadata may name at most this many chords
MAX_BACKING = 256  # chords in --backing


def bar_chords(tune: data.Tune) -> list[tuple[int, tuple[int, ...]]]:
    """The chord sounding at each bar line of a tune that has chords, as (root, pitch classes)."""
    if tune.chords is None:
        return []
    out = []
    for t in np.flatnonzero(tune.positions == 0):
        if tune.chords[t].any():
            out.append(data.chord_symbols_of(tune.chords[t]))
    return out


def learn_chain(tunes: list[data.Tune]) -> dict | None:
    """The chain's JSON table from the tunes' bar-line chords: first, next and last counts; None without chords."""
    sequences = [seq for seq in (bar_chords(t) for t in tunes) if seq]
    if not sequences:
        return None
    counts = Counter(c for seq in sequences for c in seq)
    names = [c for c, _ in counts.most_common(MAX_CHAIN_CHORDS)]
    index = {c: i for i, c in enumerate(names)}
    first, last = [0] * len(names), [0] * len(names)
    follow = [[0] * len(names) for _ in names]
    for seq in sequences:
        kept = [index[c] for c in seq if c in index]
        if not kept:
            continue
        first[kept[0]] += 1
        last[kept[-1]] += 1
        for a, b in zip(kept, kept[1:]):
            follow[a][b] += 1
    chords = [[root, list(pcs)] for root, pcs in names]
    return {"chords": chords, "first": first, "next": follow, "last": last}


class Chain:
    """A chord chain read from weights metadata, checked as hostile input."""

    def __init__(self, table, what: str):
        try:
            chords = [(int(r), tuple(int(p) for p in pcs)) for r, pcs in table["chords"]]
            first = torch.tensor([float(x) for x in table["first"]])
            last = torch.tensor([float(x) for x in table["last"]])
            follow = torch.tensor([[float(x) for x in row] for row in table["next"]])
        except (KeyError, TypeError, ValueError) as exc:
            raise GenkitError(f"{what}: its chord_chain metadata is not a chord chain ({type(exc).__name__})") from None
        n = len(chords)
        shapes_ok = 0 < n <= MAX_CHAIN_CHORDS and first.shape == last.shape == (n,) and follow.shape == (n, n)
        values_ok = all(0 <= r < 12 and all(0 <= p < 12 for p in pcs) for r, pcs in chords)
        if not shapes_ok or not values_ok or not bool(torch.isfinite(follow).all()) or (follow < 0).any():
            raise GenkitError(f"{what}: its chord_chain metadata is not a chord chain")
        if first.sum() <= 0 or (first < 0).any() or (last < 0).any():
            raise GenkitError(f"{what}: its chord_chain metadata is not a chord chain")
        self.chords, self.first, self.last = chords, first, last
        self.follow = follow + 1e-3 * first[None, :]  # a chord never followed by another still moves on

    def sample(self, bars: int, generator: torch.Generator) -> list[tuple[int, tuple[int, ...]]]:
        """``bars`` chords: the first from the tunes' openings, the last weighted by how often tunes end on it."""
        k = int(torch.multinomial(self.first, 1, generator=generator))
        out = [k]
        for b in range(1, bars):
            weights = self.follow[out[-1]] * (self.last + 1e-3 if b == bars - 1 else 1.0)
            out.append(int(torch.multinomial(weights, 1, generator=generator)))
        return [self.chords[i] for i in out]


def parse_backing(text: str, key: data.Key) -> list[tuple[int, tuple[int, ...]]]:
    """``"G D Em C"`` (chord symbols of the tune's key) -> chords in the normalised key; a bad symbol is a user error."""
    from genkit_music import abc

    symbols = text.replace("|", " ").split()
    if not symbols:
        raise GenkitError('--backing holds no chord; give one per bar, e.g. --backing "G D Em C"')
    if len(symbols) > MAX_BACKING:
        raise GenkitError(f"--backing holds {len(symbols)} chords; at most {MAX_BACKING}")
    out = []
    for i, symbol in enumerate(symbols, 1):
        chord = abc.parse_chord(symbol)
        if chord is None:
            raise GenkitError(f"--backing chord {i} ({symbol!r}) is not a chord: use e.g. G, Em, D7, Bb, F#m, Gdim")
        out.append(data.chord_symbols_of(data.chord_vector(chord.pitch_classes, chord.root, key)))
    return out


def step_features(progression, meter: str, steps: int, pickup: bool) -> np.ndarray:
    """(steps, CHORD_FEATURES): chord k of the progression under bar k (after the pickup bar, when the
    tune opens with one, whose bar is under the first chord too); the progression repeats to the end."""
    bar = data.bar_steps(meter)
    out = np.zeros((steps, data.CHORD_FEATURES), dtype=np.float32)
    for t in range(steps):
        k = max(t // bar - (1 if pickup else 0), 0) % len(progression)
        root, pcs = progression[k]
        out[t, list(pcs)] = 1.0
        out[t, 12 + root] = 1.0
    return out


def under(progressions, meter: str, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, steps, CHORD_FEATURES) twice, for the tunes' progressions: laid out for a tune that opens with
    a pickup and for one that does not (the model picks per tune once its first step is drawn)."""
    return tuple(  # type: ignore[return-value]
        torch.from_numpy(np.stack([step_features(p, meter, steps, pickup) for p in progressions]))
        for pickup in (True, False)
    )


def add_track(midi, progression, key: data.Key, meter: str, bars: int, pickup_steps: int, tempo: float) -> None:
    """Append the progression as block chords (an instrument named "chords") under the written melody:
    chord k under bar k after the pickup, in ``key``, around middle C."""
    import pretty_midi

    seconds = 60.0 / tempo / data.STEPS_PER_QUARTER
    bar = data.bar_steps(meter)
    track = pretty_midi.Instrument(program=0, name="chords")
    for k in range(bars):
        root, pcs = progression[k % len(progression)]
        start, end = (pickup_steps + k * bar) * seconds, (pickup_steps + (k + 1) * bar) * seconds
        base = data.to_key(48 + root, key)  # the root in the octave below middle C
        for pc in pcs:
            pitch = base + (data.to_key(48 + pc, key) - data.to_key(48 + root, key)) % 12
            track.notes.append(pretty_midi.Note(60, int(pitch), start, end))
    midi.instruments.append(track)


_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def name(chord: tuple[int, tuple[int, ...]], key: data.Key) -> str:
    """A chord of the normalised key by its symbol in ``key``: "G", "Em", "D7", "Bdim", "Caug"."""
    root, pcs = chord
    real = [data.to_key(60 + pc, key) % 12 for pc in pcs]
    top = real[0]
    steps = {(p - top) % 12 for p in real[1:]}
    quality = "m" if 3 in steps and 6 not in steps else "dim" if {3, 6} <= steps else "aug" if 8 in steps else ""
    return _NAMES[top] + quality + ("7" if 10 in steps else "")
