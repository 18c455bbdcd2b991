"""How good are the tunes? An order-3 Markov baseline, and Yang & Lerch style statistics.

References:
- L.-C. Yang and A. Lerch, "On the evaluation of generative models in music", Neural Computing
  and Applications 32 (2020; preprint 2018): per-piece features; for each feature the
  distribution of distances *within* the real set against the distances *between* real and
  generated pieces, both smoothed by a Gaussian KDE and compared by KL divergence and by their
  overlapping area (OA). KL near 0 and OA near 1 mean the generated set is as close to the real
  tunes as they are to each other.
- Witten-Bell smoothing (Witten and Bell 1991) for the Markov chain, interpolated down to a
  uniform distribution so that no test event gets probability zero.

Every feature works on event sequences in the normalised key (tonic C), see data.py.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np

from genkit_music import data

# ---------------------------------------------------------------- the Markov baseline


class MarkovChain:
    """Order-k chain over the same event tokens as the LSTM (no meter input), Witten-Bell smoothed."""

    def __init__(self, sequences, order: int = 3):
        self.order = order
        self.counts = [defaultdict(Counter) for _ in range(order + 1)]  # counts[n][context of n events]
        for seq in sequences:
            padded = [data.START] * order + [int(e) for e in seq]
            for t in range(order, len(padded)):
                for n in range(order + 1):
                    self.counts[n][tuple(padded[t - n : t])][padded[t]] += 1
        self._cache: dict = {}

    def distribution(self, context) -> np.ndarray:
        """P(next event | the last ``order`` events), a (V,) array summing to 1."""
        context = tuple(context[-self.order :]) if self.order else ()
        if context in self._cache:
            return self._cache[context]
        p = np.full(data.VOCAB, 1.0 / data.VOCAB)
        for n in range(self.order + 1):  # from the empty context up to the full one
            seen = self.counts[n].get(context[len(context) - n :] if n else ())
            if not seen:
                continue
            total, types = sum(seen.values()), len(seen)
            lam = total / (total + types)
            mle = np.zeros(data.VOCAB)
            for ev, c in seen.items():
                mle[ev] = c / total
            p = lam * mle + (1 - lam) * p
        self._cache[context] = p
        return p

    def nll(self, seq) -> np.ndarray:
        """Per-step negative log-likelihood (nats) of one event sequence."""
        padded = [data.START] * self.order + [int(e) for e in seq]
        return np.array(
            [
                -math.log(self.distribution(padded[t - self.order : t])[padded[t]])
                for t in range(self.order, len(padded))
            ]
        )

    def sample(self, steps: int, rng: np.random.Generator, temperature: float = 1.0) -> np.ndarray:
        out = [data.START] * self.order
        sounding = False
        for _ in range(steps):
            p = self.distribution(out[-self.order :]).copy()
            if not sounding:
                p[data.NOTE_OFF] = 0.0  # nothing to stop, as in the LSTM's sampler
            if temperature != 1.0:
                p = p ** (1.0 / temperature)
            ev = int(rng.choice(data.VOCAB, p=p / p.sum()))
            sounding = ev >= data.FIRST_PITCH_TOKEN or (sounding and ev == data.NO_EVENT)
            out.append(ev)
        return np.array(out[self.order :], dtype=np.int64)


# ---------------------------------------------------------------- per-tune features

LENGTH_BINS = (1, 2, 3, 4, 6, 8, 12, 16)  # sixteenths; the last bin also takes anything longer


def _hist(values, bins: int) -> np.ndarray:
    h = np.bincount(np.asarray(values, dtype=np.int64), minlength=bins)[:bins].astype(float)
    return h / h.sum() if h.sum() else h


def features(events, meter: str) -> dict:
    """The six features of one tune: three histograms (vectors) and three numbers."""
    notes = data.notes_of(events)
    pitches = np.array([p for _, _, p in notes]) if notes else np.zeros(0, int)
    lengths = [min(int(np.searchsorted(LENGTH_BINS, d)), len(LENGTH_BINS) - 1) for _, d, _ in notes]
    intervals = np.clip(np.diff(pitches), -12, 12) + 12 if len(pitches) > 1 else []
    scale = np.isin(pitches % 12, data.MAJOR_SCALE) if len(pitches) else np.zeros(0, bool)
    width = data.bar_steps(meter)
    bars = [tuple(events[k : k + width]) for k in range(0, len(events), width)]
    sounding = [b for b in bars if any(e >= data.FIRST_PITCH_TOKEN for e in b)]
    repeats = sum(1 for i, b in enumerate(sounding) if b in sounding[:i])
    return {
        "pitch_class": _hist(pitches % 12, 12),
        "interval": _hist(intervals, 25),
        "note_length": _hist(lengths, len(LENGTH_BINS)),
        "pitch_range": np.array([float(pitches.max() - pitches.min()) if len(pitches) else 0.0]),
        "in_scale": np.array([float(scale.mean()) if len(scale) else 0.0]),
        "bar_repetition": np.array([repeats / len(sounding) if sounding else 0.0]),
    }


# ---------------------------------------------------------------- how a tune ends


def beat_steps(meter: str) -> int:
    """Sixteenths per beat: a dotted quarter in 6/8, 9/8 and 12/8, else the meter's unit."""
    num, den = (int(x) for x in meter.split("/"))
    return 16 // den * (3 if den == 8 and num % 3 == 0 else 1)


def ending(events, meter: str) -> dict:
    """How one tune (events in the normalised key, tonic C) ends: its last note's pitch class is the
    tonic (``on_tonic``), that note's length in sixteenths (``final_steps``, to its note-off or the end),
    and ``cadence``: on the tonic and lasting at least a beat, a close rather than a cut."""
    notes = data.notes_of(events)
    if not notes:
        return {"on_tonic": 0.0, "final_steps": 0.0, "cadence": 0.0}
    _, length, pitch = notes[-1]
    tonic = pitch % 12 == 0
    return {
        "on_tonic": float(tonic),
        "final_steps": float(length),
        "cadence": float(tonic and length >= beat_steps(meter)),
    }


def endings(tunes: list[tuple[np.ndarray, str]]) -> dict[str, float]:
    """The share of (events, meter) tunes ending on the tonic, in a cadence, and the final note's mean length."""
    rows = [ending(ev, meter) for ev, meter in tunes]
    return {k: float(np.mean([r[k] for r in rows])) for k in ("on_tonic", "cadence", "final_steps")}


def closes(meters: list[str], bars: list[int]):
    """For MelodyLSTM.generate's ``closing``: a function of the generated (B, steps) events that says, per
    tune, whether what data.decode keeps of it (``bars[i]`` bars in ``meters[i]``) ends in a cadence."""

    def accept(events) -> np.ndarray:
        rows = np.asarray(events.cpu())
        kept = [data.kept(list(row), m, b) for row, m, b in zip(rows, meters, bars)]
        return np.array([ending(ev, m)["cadence"] > 0 for ev, m in zip(kept, meters)])

    return accept


FEATURES = ("pitch_class", "interval", "note_length", "pitch_range", "in_scale", "bar_repetition")


# ---------------------------------------------------------------- Yang & Lerch comparison


def _kde(samples: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian KDE with Scott's bandwidth, normalised to a density on ``grid``."""
    samples = np.asarray(samples, dtype=float)
    bw = max(samples.std() * len(samples) ** (-1 / 5), 1e-3 * (grid[-1] - grid[0]) + 1e-9)
    dens = np.exp(-0.5 * ((grid[:, None] - samples[None, :]) / bw) ** 2).sum(1)
    step = grid[1] - grid[0]
    return dens / max(dens.sum() * step, 1e-300)


def _distances(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distances: all pairs within ``a`` (i < j) or all pairs across ``a`` x ``b``."""
    if b is None:
        d = np.linalg.norm(a[:, None] - a[None, :], axis=-1)
        return d[np.triu_indices(len(a), 1)]
    return np.linalg.norm(a[:, None] - b[None, :], axis=-1).ravel()


def compare(real: np.ndarray, generated: np.ndarray, points: int = 512) -> tuple[float, float]:
    """(overlapping area, KL(intra-real || inter)) of the two distance distributions of one feature."""
    intra, inter = _distances(real), _distances(real, generated)
    hi = max(intra.max(), inter.max())
    grid = np.linspace(0.0, hi * 1.1 + 1e-6, points)
    p, q = _kde(intra, grid), _kde(inter, grid)
    step = grid[1] - grid[0]
    oa = float(np.minimum(p, q).sum() * step)
    eps = 1e-10
    kl = float((p * np.log((p + eps) / (q + eps))).sum() * step)
    return oa, max(kl, 0.0)


def feature_table(tunes: list[tuple[np.ndarray, str]]) -> dict[str, np.ndarray]:
    """(events, meter) pairs -> {feature: (N, d) array}."""
    rows = [features(ev, meter) for ev, meter in tunes]
    return {f: np.stack([r[f] for r in rows]) for f in FEATURES}


def statistics(real: dict, generated: dict, prefix: str) -> dict:
    """``{prefix}_{feature}_oa`` and ``..._kl`` for each feature, plus the generated means."""
    out = {}
    for f in FEATURES:
        oa, kl = compare(real[f], generated[f])
        out[f"{prefix}_{f}_oa"] = oa
        out[f"{prefix}_{f}_kl"] = kl
    for f in ("pitch_range", "in_scale", "bar_repetition"):
        out[f"{prefix}_{f}_mean"] = float(generated[f].mean())
    return out


# ---------------------------------------------------------------- melody over chords


def strong_beat(position: int, meter: str) -> bool:
    """The downbeat, and the middle of the bar in duple meters (2/4, 4/4, 2/2, 6/8, 6/4, 12/8)."""
    num, den = map(int, meter.split("/"))
    bar = num * 16 // den
    return position % bar == 0 or (num in (2, 4, 6, 12) and position % bar == bar // 2)


def chord_tone_share(tunes) -> float:
    """Of the notes starting on strong beats over a chord, the share that are tones of it.

    ``tunes``: (events, meter, chords) with chords (T, CHORD_FEATURES) in the same normalised key."""
    hits = total = 0
    for events, meter, chords in tunes:
        for t, ev in enumerate(events[: len(chords)]):
            if ev < data.FIRST_PITCH_TOKEN or not chords[t].any() or not strong_beat(t, meter):
                continue
            total += 1
            hits += bool(chords[t][(data.LOW + int(ev) - data.FIRST_PITCH_TOKEN) % 12] > 0.5)
    return hits / total if total else float("nan")


def change_distribution(progressions) -> Counter:
    """Counts of chord changes (a, b), a != b, between consecutive bars; chords as hashable (root, pcs)."""
    out: Counter = Counter()
    for seq in progressions:
        out.update((a, b) for a, b in zip(seq, seq[1:]) if a != b)
    return out


def total_variation(p: Counter, q: Counter) -> float:
    """Half the L1 distance between two count tables as distributions (0 same, 1 disjoint)."""
    P, Q = sum(p.values()) or 1, sum(q.values()) or 1
    return 0.5 * sum(abs(p[k] / P - q[k] / Q) for k in set(p) | set(q))
