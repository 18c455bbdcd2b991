"""The chords of an ABC folder, measured: what a chord-conditioned melody model has to match.

Reads every tune with genkit_music.abc and prints, for the data:

- tunes read and refused, and (with ``--midi``) how many play with exactly the onsets of the MIDI
  files made from the same ABC (Nottingham: Jukedeck's ``MIDI/melody`` files), the parser's yardstick;
- the share of melody notes on strong beats (the downbeat, and the middle of the bar in duple
  meters) that are tones of the chord sounding, against the share if each tune's chords were
  shuffled in time (what chance alone gives with the same chords);
- the chord vocabulary relative to the key (root degree and quality: "I", "V7", "vi"), the most
  common bar-to-bar changes and the entropy of the next chord given the current one.

Run: python bench/abc_chords.py [--data ../shared/data/music/nottingham-abc] [--midi ../shared/data/music/nottingham]
"""

from __future__ import annotations

import argparse
import math
import random
from collections import Counter
from pathlib import Path

DEGREES = ("I", "bII", "II", "bIII", "III", "IV", "#IV", "V", "bVI", "VI", "bVII", "VII")


def degree(chord, tonic: int) -> str:
    """A chord's name relative to the key: "V7", "ii" (minor chords in lower case), "vii°"."""
    name = DEGREES[(chord.root - tonic) % 12]
    third = (chord.pitch_classes[1] - chord.root) % 12
    fifth = (chord.pitch_classes[2] - chord.root) % 12
    if third == 3:
        name = name.lower() + ("°" if fifth == 6 else "")
    elif fifth == 8:
        name += "+"
    return name + ("7" if 10 in [(p - chord.root) % 12 for p in chord.pitch_classes[3:]] else "")


def meter_at(tune, step: int) -> str:
    return [m for s, m in tune.meters if s <= step][-1]


def chord_tone_shares(tunes, rng: random.Random) -> tuple[float, float, int]:
    """(share of strong-beat notes that are chord tones, the same with each tune's chords shuffled, notes)."""
    from genkit_music import metrics

    hits = chance = total = 0
    for tune in tunes:
        if not tune.chords:
            continue
        shuffled = [c for _, _, c in tune.chords]
        rng.shuffle(shuffled)
        spans = [(s, e, c) for (s, e, _), c in zip(tune.chords, shuffled)]
        for onset, _, pitch in tune.notes:
            chord = tune.chord_at(onset)
            if chord is None or not metrics.strong_beat(onset, meter_at(tune, onset)):
                continue
            other = next((c for s, e, c in spans if s <= onset < e), chord)
            total += 1
            hits += pitch % 12 in chord.pitch_classes
            chance += pitch % 12 in other.pitch_classes
    return hits / max(total, 1), chance / max(total, 1), total


def transitions(tunes) -> tuple[Counter, Counter, float]:
    """(chord vocabulary, changes between consecutive chords, entropy in bits of the next chord given this one)."""
    from genkit_music import data

    vocabulary, changes = Counter(), Counter()
    for tune in tunes:
        tonic = data.parse_key(tune.key).tonic
        names = [degree(c, tonic) for _, _, c in tune.chords]
        vocabulary.update(names)
        changes.update((a, b) for a, b in zip(names, names[1:]) if a != b)
    given = Counter()
    for (a, _), n in changes.items():
        given[a] += n
    total = sum(changes.values())
    entropy = -sum(n / total * math.log2(n / given[a]) for (a, _), n in changes.items()) if total else 0.0
    return vocabulary, changes, entropy


def midi_agreement(folder: Path, midi: Path) -> tuple[int, int]:
    import pretty_midi

    from genkit_music import abc

    same = total = 0
    for path in sorted(folder.glob("*.abc")):
        for tune in abc.read_abc(path.read_text(encoding="latin-1"))[0]:
            other = midi / f"{path.stem}{tune.number}.mid"
            if not other.exists():
                continue
            pm = pretty_midi.PrettyMIDI(str(other))
            onsets = sorted({round(pm.time_to_tick(n.start) * 4 / pm.resolution) for n in pm.instruments[0].notes})
            ours = sorted({s for s, _, _ in tune.notes})
            same += [s - onsets[0] for s in onsets] == [s - ours[0] for s in ours]
            total += 1
    return same, total


def main() -> None:
    from genkit_music import abc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/music/nottingham-abc")
    parser.add_argument("--midi", default="../shared/data/music/nottingham")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    tunes, problems = [], []
    for path in sorted(Path(args.data).glob("*.abc")):
        read, refused = abc.read_abc(path.read_text(encoding="latin-1"))
        tunes += read
        problems += [f"{path.name} {p}" for p in refused]
    print(f"tunes read: {len(tunes)}, refused: {len(problems)}" + "".join(f"\n  {p}" for p in problems[:5]))
    if Path(args.midi).is_dir():
        same, total = midi_agreement(Path(args.data), Path(args.midi))
        print(f"onsets as in the MIDI files: {same} of {total} ({same / max(total, 1):.1%})")
    with_chords = [t for t in tunes if t.chords]
    share, chance, notes = chord_tone_shares(with_chords, random.Random(0))
    print(f"tunes with chords: {len(with_chords)}")
    print(
        f"strong-beat melody notes that are chord tones: {share:.3f} (chords shuffled in time: {chance:.3f}; {notes} notes)"
    )
    vocabulary, changes, entropy = transitions(with_chords)
    spans = sum(vocabulary.values())
    print(f"chords (relative to the key): {len(vocabulary)} kinds, {spans} spans; most common:")
    print("  " + ", ".join(f"{name} {n / spans:.3f}" for name, n in vocabulary.most_common(args.top)))
    total = sum(changes.values())
    print(f"chord changes: {total}; entropy of the next chord given this one: {entropy:.2f} bits; most common:")
    print("  " + ", ".join(f"{a}->{b} {n / total:.3f}" for (a, b), n in changes.most_common(args.top)))


if __name__ == "__main__":
    main()
