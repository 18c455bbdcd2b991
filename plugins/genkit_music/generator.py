"""`genkit music`: sample the melody LSTM, batched, one seed per tune.

Everything the user can get wrong (key, meter, primer, primer MIDI) is checked before the first
tune is yielded, so a refused run writes nothing. Tune i's random
numbers (its key when none is asked for, and one uniform number per step) come from
``item_seed(run_seed, i)``, so tune i is the same whatever ``--n`` is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from genkit.artifacts import Midi
from genkit.device import item_seed
from genkit.errors import GenkitError
from genkit.models import ModelFormat, bounded
from genkit.progress import step_progress
from genkit_music import CLOSE_TRIES, chords, data, metrics
from genkit_music.model import MelodyLSTM
from genkit_music.roll import piano_roll, tune_steps

BATCH = 64


@dataclass
class MelodyConfig:
    """The config a melody model's weights carry (MelodyLSTM reads it as a table); the bounds are what
    genkit agrees to build from a file. Training-only keys (window, low, high) stay in the file's table."""

    embed: int = bounded(1, 4096)
    hidden: int = bounded(1, 8192)
    layers: int = bounded(1, 16)
    meters: list = field(default_factory=list)
    dropout: float = bounded(0.0, 1.0, default=0.0)
    lookbacks: list = field(default_factory=lambda: [1, 2])  # bars looked back; absent in the first weights
    countdown: int = bounded(0, 256, default=0)  # the bars-left input's cap; 0 (absent) = no such input
    chords: int = bounded(0, 1024, default=0)  # the chord input's width; 0 (absent) = no chord input


def check_config(cfg: MelodyConfig) -> None:
    """The meters the model was trained on are genkit's, and every lookback is a small whole number of bars."""
    if cfg.meters != list(data.METERS):
        raise ValueError("is not a melody config (its meters are not genkit's; written by 'genkit train music'?)")
    if len(cfg.lookbacks) > 8 or not all(isinstance(k, int) and 1 <= k <= 64 for k in cfg.lookbacks):
        raise ValueError(f"has invalid lookbacks {str(cfg.lookbacks)[:40]}")


# How a melody model's weights file becomes a model: the typed config and the network.
WEIGHTS = ModelFormat("music", MelodyConfig, build=lambda cfg: MelodyLSTM(asdict(cfg)), check=check_config)


MAX_PRIMER_BYTES = data.MAX_TUNE_BYTES  # a folk tune is a few kB
MAX_PRIMER_STEPS = 257 * data.MAX_BAR_STEPS  # sixteenths: the longest tune --bars allows (256), and a pickup


def read_primer_bytes(path) -> bytes:
    """A primer MIDI file's bytes, refused in one line if it is not a file, too big, too long or cut short
    (the budgets of data.midi_extent, measured before pretty_midi decodes it)."""
    return data.read_tune_bytes(path, f"--primer-midi {path}", MAX_PRIMER_STEPS)[0]


class MusicGenerator:
    def __init__(self, device, weights):
        self.device = device
        self.loaded = WEIGHTS.load(weights, device)  # every check before any memory is used
        self.model = self.loaded.module
        counts = self.loaded.metadata.get("key_counts") or {"C": 1}
        if (
            not isinstance(counts, dict)
            or not all(isinstance(v, (int, float)) and 0 <= v < float("inf") for v in counts.values())
            or not sum(counts.values()) > 0
        ):
            raise GenkitError(f"{weights}: its key_counts metadata is not a table of key frequencies")
        try:
            self.keys = [data.parse_key(k) for k in counts]
        except (ValueError, KeyError, TypeError) as exc:
            raise GenkitError(f"{weights}: its key_counts metadata names an unknown key ({exc})") from None
        self.key_weights = torch.tensor([float(v) for v in counts.values()])
        self.weights_name = str(weights)
        table = self.loaded.metadata.get("chord_chain")
        self.chain = chords.Chain(table, str(weights)) if self.model.chord_width and table else None

    @classmethod
    def training_task(cls, data_dir, options, config):
        from genkit_music.task import make_task

        return make_task(data_dir, options, config)

    # ------------------------------------------------------------ checking the request

    def _primer(self, options) -> tuple[list[int], data.Key | None, str | None]:
        """The primer as real MIDI pitches per step (None = no new event, -1 = note-off), its key, its meter."""
        text, path = options.get("primer"), options.get("primer_midi")
        if text and path:
            raise GenkitError("give --primer or --primer-midi, not both")
        if text:
            return data.parse_primer(text), None, None
        if path:
            return self._primer_midi(path)
        return [], None, None

    def _primer_midi(self, path):
        from pathlib import Path

        path = Path(path)
        if not path.exists():
            raise GenkitError(f"--primer-midi {path}: no such file")
        try:
            midi = data.read_midi(read_primer_bytes(path))
        except ValueError as exc:
            raise GenkitError(f"--primer-midi {path}: {exc}") from None
        track = data.chord_track(midi)  # a file with a chord track (genkit music --chords): its melody primes
        midi.instruments = [i for i in midi.instruments if i is not track]
        all_notes = [n for inst in midi.instruments for n in inst.notes]
        melodic = [n for inst in midi.instruments if not inst.is_drum for n in inst.notes]
        if not all_notes:
            raise GenkitError(f"--primer-midi {path} holds no notes")
        if not melodic:
            raise GenkitError(f"--primer-midi {path} holds only drums; give a melody")
        # Monophonic means no two notes sound together for more than half a sixteenth.
        tol = midi.resolution / 8
        spans = sorted((midi.time_to_tick(n.start), midi.time_to_tick(n.end)) for n in melodic)
        end = spans[0][1]
        for start, stop in spans[1:]:
            if start < end - tol:
                raise GenkitError(
                    f"--primer-midi {path} is polyphonic (notes overlap at tick {start}); give a single melody line"
                )
            end = max(end, stop)
        meter, pad = data.pickup_of(midi)  # a file opening with a pickup measure (genkit writes them)
        if meter is None and midi.time_signature_changes:
            ts = midi.time_signature_changes[0]
            meter = f"{ts.numerator}/{ts.denominator}"
            if meter not in data.METERS:
                raise GenkitError(f"--primer-midi {path} is in {meter}; the model knows {', '.join(data.METERS)}")
        key = None
        if midi.key_signature_changes:
            k = midi.key_signature_changes[0].key_number
            key = data.Key(k % 12, k >= 12)
        return [None] * pad + self._steps_from_midi(midi), key, meter

    @staticmethod
    def _steps_from_midi(midi) -> list:
        """Quantise a melody to sixteenths: a pitch where a note starts, -1 where it stops, else None."""
        res = midi.resolution
        onsets = {}
        for inst in midi.instruments:
            if inst.is_drum:
                continue
            for n in inst.notes:
                s = round(midi.time_to_tick(n.start) * data.STEPS_PER_QUARTER / res)
                e = max(s + 1, round(midi.time_to_tick(n.end) * data.STEPS_PER_QUARTER / res))
                if s not in onsets or n.pitch > onsets[s][0]:
                    onsets[s] = (n.pitch, e)
        length = max(e for _, e in onsets.values())
        # A file genkit wrote marks its end on the final bar line: a closing rest is part of the primer.
        marks = [
            round(midi.time_to_tick(t.time) * data.STEPS_PER_QUARTER / res) for t in midi.text_events if t.text == "end"
        ]
        length = max([length, *marks])
        steps: list = [None] * length
        starts = sorted(onsets)
        for i, s in enumerate(starts):
            pitch, e = onsets[s]
            steps[s] = pitch
            following = starts[i + 1] if i + 1 < len(starts) else length + 1
            if e < following and e < length:
                steps[e] = -1
        return steps

    def _primer_events(self, steps, key: data.Key) -> list[int]:
        low, high = data.LOW + key.shift, data.HIGH + key.shift
        events = []
        for p in steps:
            if p is None:
                events.append(data.NO_EVENT)
            elif p == -1:
                events.append(data.NOTE_OFF)
            else:
                q = data.from_key(p, key)
                if not data.LOW <= q <= data.HIGH:
                    raise GenkitError(
                        f"primer pitch {p} is outside the model's range: in {key.name} it plays {low}-{high}"
                    )
                events.append(data.FIRST_PITCH_TOKEN + q - data.LOW)
        return events

    # ------------------------------------------------------------ generating

    def _setting(self, options) -> tuple[int, str, data.Key | None, list[int]]:
        """(bars to keep, counting the primer's; meter; key or None to draw one per tune; primer events)."""
        primer_steps, primer_key, primer_meter = self._primer(options)
        meter = options.get("time_signature") or primer_meter or "4/4"
        if meter not in data.METERS:
            raise GenkitError(f"unknown time signature {meter!r}: use one of {', '.join(data.METERS)}")
        key = data.parse_key(options["key"]) if options.get("key") else primer_key
        if key is None and primer_steps:
            pitches = [p for p in primer_steps if p not in (None, -1)]
            key = data.estimate_key(pitches)
        primer = self._primer_events(primer_steps, key or data.Key(0)) if primer_steps else []
        bars = int(options.get("bars", 8)) + primer_bars(primer, meter)  # --bars counts after the primer
        return bars, meter, key, primer

    def generate(self, n, seed, options, format):
        tempo, temperature = float(options.get("tempo", 120.0)), float(options.get("temperature", 1.0))
        program = int(options.get("program", 0))
        bars, meter, key, primer = self._setting(options)
        with_chords = self._check_chords(options)

        for first in range(0, n, BATCH):
            items = range(first, min(n, first + BATCH))
            gens = [torch.Generator().manual_seed(item_seed(seed, i)) for i in items]
            keys = [key or self.keys[int(torch.multinomial(self.key_weights, 1, generator=g))] for g in gens]
            # One bar more than asked: a tune that opens with a pickup (rests, then notes) drops the
            # rests and keeps ``bars`` whole bars after the pickup (data.decode).
            steps = (bars + 1) * data.bar_steps(meter)
            uniforms = torch.stack([torch.rand(steps, generator=g) for g in gens])
            meters = [data.METERS.index(meter)] * len(gens)
            tries = int(options.get("close_tries", CLOSE_TRIES))
            closing = None
            if tries:  # drawn after the steps' numbers, so tune i's first draw is the same with any --close-tries
                redraws = torch.stack([torch.rand(tries, data.bar_steps(meter), generator=g) for g in gens])
                closing = (metrics.closes([meter] * len(gens), [bars] * len(gens)), redraws)
            progressions = [self._progression(options, k, bars, g) for k, g in zip(keys, gens)] if with_chords else []
            # The whole batch is made at once: a bar over its steps, else the first item waits unseen.
            with step_progress(steps, f"tunes {first + 1}-{first + len(gens)}, sixteenths") as advance:
                events = self.model.generate(
                    meters,
                    steps,
                    uniforms,
                    primer=primer,
                    temperature=temperature,
                    on_step=advance,
                    bars=bars,
                    closing=closing,
                    chords=chords.under(progressions, meter, steps) if progressions else None,
                )
            events = events.cpu().numpy()
            for row, i in enumerate(items):
                midi = data.decode(events[row], keys[row], tempo, program, meter, bars)
                info = {"key": keys[row].name, "time_signature": meter, "bars": bars, "tempo": tempo}
                if progressions:
                    pickup = len(data.kept(list(events[row]), meter, bars)) % data.bar_steps(meter)
                    chords.add_track(midi, progressions[row], keys[row], meter, bars, pickup, tempo)
                    info["chords"] = " ".join(chords.name(c, keys[row]) for c in progressions[row][:bars])
                if primer:
                    info["primer_bars"] = bars - int(options.get("bars", 8))
                yield Midi(
                    midi=midi,
                    index=i,
                    seed=item_seed(seed, i),
                    info=info,
                    render_audio=_audio_renderer(midi, program, tune_steps(midi, tempo) * 15.0 / tempo),
                    render_piano_roll=_roll_renderer(midi, meter, tempo),
                )

    def _check_chords(self, options) -> bool:
        """Whether to play over chords; a request these weights cannot serve is a user error."""
        wanted = bool(options.get("chords") or options.get("backing"))
        if wanted and not self.model.chord_width:
            raise GenkitError(
                f"--chords/--backing: {Path(self.weights_name).name} has no chord input; use --weights nottingham-chords"
            )
        if wanted and self.chain is None and not options.get("backing"):
            raise GenkitError(f"--chords: {Path(self.weights_name).name} carries no chord chain; give --backing")
        return wanted

    def _progression(self, options, key: data.Key, bars: int, generator: torch.Generator):
        """One chord per bar for one tune: the user's --backing, or drawn from the chain with the tune's seed."""
        if options.get("backing"):
            return chords.parse_backing(options["backing"], key)
        assert self.chain is not None
        return self.chain.sample(bars + 1, generator)


def primer_bars(primer: list[int], meter: str) -> int:
    """The whole bars data.decode keeps of a primer's events: a bar it ends inside counts whole, and a
    first bar that is a pickup (it opens with rests) is the pickup, not a bar."""
    if not primer:
        return 0
    bar = data.bar_steps(meter)
    return -(-len(primer) // bar) - (1 if data.leading_silence(primer) > 0 else 0)


def _audio_renderer(midi, program, seconds):
    def render():
        from genkit_music.synth import render_midi

        return render_midi(midi, program=program, seconds=seconds)

    return render


def _roll_renderer(midi, meter, tempo):
    return lambda: piano_roll(midi, meter, tempo)
