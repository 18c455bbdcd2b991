"""A small additive synthesiser in torch + torchaudio: a melody's notes -> mono 44.1 kHz samples.

Each note is a sum of harmonics (the timbre picked by the General MIDI program's family) shaped by
an attack-decay-sustain-release envelope that starts and ends at zero, so consecutive notes never
click. The mix is rendered at twice the output rate (harmonics near the top alias less), low-pass
filtered (a torchaudio biquad), resampled to 44.1 kHz (torchaudio's windowed-sinc resampler),
faded in and out, and normalised to a peak of -1 dBFS: never clipped.

Memory stays bounded by the output (float32 at 44.1 kHz) plus one block: the oversampled mix is
made, filtered and resampled ``BLOCK`` samples at a time (about 6 s), each block's filter rerun
over the previous block's last ``WARMUP`` samples and its resampler given ``CONTEXT`` samples
either side, so the blocks join seamlessly; a vibrato's phase is carried from block to block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torchaudio.functional as AF

RATE = 44_100
OVERSAMPLE = 2
TAIL_SECONDS = 0.3  # room after the last bar line for the final note's release
PEAK = 10 ** (-1 / 20)  # -1 dBFS
# Oversampled samples made at a time (~6 s): the mix never exists whole. Larger blocks were no
# faster and cost more (1 << 21, 24 s, held ~220 MB at once; this ~85 MB).
BLOCK = 1 << 19
# The biquad's poles lie inside radius 0.9 for every cutoff used, so its state is forgotten to far
# below float32 precision within a few hundred samples: rerunning 1024 gives the same output.
WARMUP = 1024
CONTEXT = 64  # input samples either side the resampler's kernel (28 taps at 2:1) may read


@dataclass(frozen=True)
class Timbre:
    harmonics: tuple[float, ...]  # amplitude of harmonic 1, 2, 3, ...
    attack: float  # seconds
    decay: float  # seconds to fall to the sustain level
    sustain: float  # level 0-1
    release: float  # seconds
    cutoff: float  # low-pass, Hz
    vibrato: float = 0.0  # depth in semitones (5.5 Hz)


_PIANO = Timbre((1.0, 0.45, 0.25, 0.12, 0.08, 0.04), 0.005, 0.6, 0.25, 0.08, 6000)
# General MIDI families of eight programs each (program // 8).
_FAMILIES = {
    0: _PIANO,
    1: Timbre((1.0, 0.3, 0.4, 0.1, 0.1), 0.002, 0.25, 0.0, 0.15, 8000),  # chromatic percussion
    2: Timbre((1.0, 0.6, 0.0, 0.35, 0.0, 0.2), 0.01, 0.05, 0.9, 0.03, 5000),  # organ
    3: Timbre((1.0, 0.5, 0.33, 0.2, 0.12, 0.08), 0.003, 0.4, 0.15, 0.06, 4500),  # guitar
    4: Timbre((1.0, 0.25, 0.1), 0.01, 0.2, 0.6, 0.06, 2500),  # bass
    5: Timbre(tuple(1 / k for k in range(1, 9)), 0.06, 0.1, 0.85, 0.12, 5000, 0.08),  # strings
    6: Timbre(tuple(1 / k for k in range(1, 9)), 0.08, 0.1, 0.85, 0.15, 4000, 0.06),  # ensemble
    7: Timbre((1.0, 0.7, 0.5, 0.35, 0.25, 0.15), 0.03, 0.1, 0.8, 0.06, 5000),  # brass
    8: Timbre((1.0, 0.0, 0.5, 0.0, 0.3, 0.0, 0.15), 0.03, 0.1, 0.8, 0.06, 4500, 0.04),  # reed
    9: Timbre((1.0, 0.15, 0.05), 0.04, 0.1, 0.85, 0.08, 6000, 0.05),  # pipe (flute, whistle)
}


def timbre_for(program: int) -> Timbre:
    return _FAMILIES.get(int(program) // 8, _PIANO)


@dataclass
class _Voice:
    """One note in oversampled samples; ``phase_sum`` carries its vibrato's phase between blocks."""

    start: int
    n_on: int
    n_total: int
    freq: float
    gain: float
    phase_sum: float = 0.0


def _attack_decay(t: torch.Tensor, attack: float, tb: Timbre) -> torch.Tensor:
    return torch.where(
        t < attack,
        t / max(attack, 1e-9),
        tb.sustain + (1 - tb.sustain) * torch.exp(-(t - attack) / max(tb.decay, 1e-9) * 3),
    )


def _envelope(i: torch.Tensor, voice: _Voice, rate: int, tb: Timbre) -> torch.Tensor:
    """ADSR at sample indices ``i`` of a note held ``n_on`` samples; 0 at both ends."""
    t = i / rate
    held = voice.n_on / rate
    attack = min(tb.attack, held / 2)
    last_held = torch.tensor([float(min(voice.n_on, voice.n_total) - 1)], dtype=torch.float64) / rate
    at_release = float(_attack_decay(last_held, attack, tb)[0])
    rel = torch.clamp(1 - (t - held) / tb.release, min=0.0) * at_release
    return torch.where(t < held, _attack_decay(t, attack, tb), rel)


def _voice_samples(voice: _Voice, i0: int, i1: int, rate: int, tb: Timbre) -> torch.Tensor:
    """Samples ``i0`` to ``i1`` (counted from the note's start) of one note, vibrato phase carried."""
    i = torch.arange(i0, i1, dtype=torch.float64)
    if tb.vibrato:
        # Vibrato bends the phase, not the amplitude; it fades in so short notes stay steady.
        t = i / rate
        bend = tb.vibrato * torch.sin(2 * math.pi * 5.5 * t) * torch.clamp(t / 0.3, max=1.0)
        steps = torch.cumsum(2 ** (bend / 12), 0) + voice.phase_sum
        voice.phase_sum = float(steps[-1])
    else:
        steps = i + 1  # the running sum of unbent steps of 1
    phase = 2 * math.pi * voice.freq * steps / rate
    wave = torch.zeros(i1 - i0, dtype=torch.float64)
    for k, amp in enumerate(tb.harmonics, start=1):
        if amp and k * voice.freq < 0.45 * rate:
            wave += amp * torch.sin(k * phase)
    return voice.gain * wave * _envelope(i, voice, rate, tb)


def _voices(notes, tb: Timbre, rate: int, length: int) -> list[_Voice]:
    voices = []
    for start, end, pitch, velocity in notes:
        s = int(round(start * rate))
        n_on = max(1, int(round((end - start) * rate)))
        n_total = min(n_on + int(tb.release * rate), length - s)
        if n_total > 0:
            voices.append(_Voice(s, n_on, n_total, 440.0 * 2 ** ((pitch - 69) / 12), velocity / 127))
    return sorted(voices, key=lambda v: v.start)


def _mix_block(voices: list[_Voice], a: int, b: int, rate: int, tb: Timbre) -> torch.Tensor:
    """Oversampled samples ``a`` to ``b`` of the mix, as float32 (the filter's precision)."""
    mix = torch.zeros(b - a, dtype=torch.float64)
    for voice in voices:
        if voice.start >= b:
            break
        lo, hi = max(a, voice.start), min(b, voice.start + voice.n_total)
        if lo < hi:
            mix[lo - a : hi - a] += _voice_samples(voice, lo - voice.start, hi - voice.start, rate, tb)
    return mix.float()


class _Lowpass:
    """A low-pass biquad over consecutive blocks: each block is filtered after the last ``WARMUP``
    input samples, which brings the filter to the state it had at the block's start."""

    def __init__(self, cutoff: float, rate: int):
        w0 = 2 * math.pi * cutoff / rate
        alpha = math.sin(w0) / 2 / 0.707  # Q of 0.707, torchaudio's default: no resonant peak
        self.b = torch.tensor([(1 - math.cos(w0)) / 2, 1 - math.cos(w0), (1 - math.cos(w0)) / 2])
        self.a = torch.tensor([1 + alpha, -2 * math.cos(w0), 1 - alpha])
        self.history = torch.zeros(0)

    def __call__(self, block: torch.Tensor) -> torch.Tensor:
        joined = torch.cat([self.history, block])
        # clamp=False: the mix may exceed 1 before normalising, and clamping it here would clip.
        out = AF.lfilter(joined[None], self.a, self.b, clamp=False)[0, len(self.history) :]
        self.history = joined[-WARMUP:]
        return out


class _Resampler:
    """Resamples consecutive filtered blocks into ``out``: an output sample is written once every
    input sample the kernel reads has arrived, so each equals what one whole-signal pass gives."""

    def __init__(self, out: np.ndarray, rate: int):
        self.out, self.rate = out, rate
        self.pending = torch.zeros(0)  # input from sample ``start`` on (``start`` is even)
        self.start = 0
        self.next = 0  # the first output sample not yet written

    def feed(self, block: torch.Tensor, final: bool) -> None:
        buf = torch.cat([self.pending, block])
        begin, end = self.start, self.start + len(buf)
        resampled = AF.resample(buf[None], self.rate, RATE)[0].numpy()
        first = begin // OVERSAMPLE  # the output sample resampled[0] stands for
        stop = len(self.out) if final else max(self.next, (end - CONTEXT) // OVERSAMPLE)
        self.out[self.next : stop] = resampled[self.next - first : stop - first]
        self.next = stop
        self.start = max(0, OVERSAMPLE * stop - CONTEXT)
        self.pending = buf[self.start - begin :]


def _half_sine(n: int, rising: bool) -> np.ndarray:
    shift = -math.pi / 2 if rising else math.pi / 2
    return (torch.sin(torch.linspace(0, 1, n) * math.pi + shift) / 2 + 0.5).clamp(0, 1).numpy()


def _fade(out: np.ndarray) -> None:
    """Half-sine fades, 5 ms in and 50 ms out, applied in place (no copy of the whole tune)."""
    fade_in, fade_out = int(0.005 * RATE), int(0.05 * RATE)
    out[:fade_in] *= _half_sine(fade_in, rising=True)
    out[len(out) - fade_out :] *= _half_sine(fade_out, rising=False)


def render_notes(notes, seconds: float, program: int = 0) -> tuple[np.ndarray, int]:
    """notes: (start s, end s, MIDI pitch, velocity 0-127) -> (float32 samples in [-1, 1], 44100)."""
    tb = timbre_for(program)
    rate = RATE * OVERSAMPLE
    length = int(round((seconds + TAIL_SECONDS) * rate))
    out = np.zeros(-(-length // OVERSAMPLE), dtype=np.float32)
    voices = _voices(notes, tb, rate, length)
    lowpass, resampler = _Lowpass(min(tb.cutoff, 0.45 * RATE), rate), _Resampler(out, rate)
    for a in range(0, length, BLOCK):
        b = min(length, a + BLOCK)
        resampler.feed(lowpass(_mix_block(voices, a, b, rate, tb)), final=b == length)
    _fade(out)
    peak = max(float(out.max()), -float(out.min()))
    if peak > 0:
        out *= PEAK / peak
    return out, RATE


def render_midi(midi, program: int = 0, seconds: float | None = None) -> tuple[np.ndarray, int]:
    """A pretty_midi melody -> audio lasting ``seconds`` (default: the MIDI's end) plus a short tail."""
    notes = [(n.start, n.end, n.pitch, n.velocity) for inst in midi.instruments if not inst.is_drum for n in inst.notes]
    return render_notes(notes, seconds if seconds is not None else midi.get_end_time(), program)
