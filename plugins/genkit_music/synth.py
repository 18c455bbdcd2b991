"""A small additive synthesiser in torch + torchaudio: a melody's notes -> mono 44.1 kHz samples.

Each note is a sum of harmonics (the timbre picked by the General MIDI program's family) shaped by
an attack-decay-sustain-release envelope that starts and ends at zero, so consecutive notes never
click. The mix is rendered at twice the output rate (harmonics near the top alias less), low-pass
filtered (torchaudio's biquad), resampled to 44.1 kHz (torchaudio's windowed-sinc resampler),
faded in and out (torchaudio's Fade), and normalised to a peak of -1 dBFS: never clipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torchaudio.functional as AF
from torchaudio.transforms import Fade

RATE = 44_100
OVERSAMPLE = 2
TAIL_SECONDS = 0.3  # room after the last bar line for the final note's release
PEAK = 10 ** (-1 / 20)  # -1 dBFS


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


def _envelope(n_on: int, n_total: int, rate: int, tb: Timbre) -> torch.Tensor:
    """ADSR over ``n_total`` samples, the note held for ``n_on`` of them; 0 at both ends."""
    t = torch.arange(n_total, dtype=torch.float64) / rate
    held = n_on / rate
    attack = min(tb.attack, held / 2)
    level = torch.where(t < attack, t / max(attack, 1e-9),
                        tb.sustain + (1 - tb.sustain) * torch.exp(-(t - attack) / max(tb.decay, 1e-9) * 3))
    at_release = float(level[min(n_on, n_total) - 1]) if n_on > 0 else 0.0
    rel = torch.clamp(1 - (t - held) / tb.release, min=0.0) * at_release
    return torch.where(t < held, level, rel)


def render_notes(notes, seconds: float, program: int = 0) -> tuple[np.ndarray, int]:
    """notes: (start s, end s, MIDI pitch, velocity 0-127) -> (float32 samples in [-1, 1], 44100)."""
    tb = timbre_for(program)
    rate = RATE * OVERSAMPLE
    length = int(round((seconds + TAIL_SECONDS) * rate))
    mix = torch.zeros(length, dtype=torch.float64)
    for start, end, pitch, velocity in notes:
        s = int(round(start * rate))
        n_on = max(1, int(round((end - start) * rate)))
        n_total = min(n_on + int(tb.release * rate), length - s)
        if n_total <= 0:
            continue
        freq = 440.0 * 2 ** ((pitch - 69) / 12)
        t = torch.arange(n_total, dtype=torch.float64) / rate
        # Vibrato bends the phase, not the amplitude; it fades in so short notes stay steady.
        bend = tb.vibrato * torch.sin(2 * math.pi * 5.5 * t) * torch.clamp(t / 0.3, max=1.0)
        phase = 2 * math.pi * freq * torch.cumsum(2 ** (bend / 12), 0) / rate
        wave = torch.zeros(n_total, dtype=torch.float64)
        for k, amp in enumerate(tb.harmonics, start=1):
            if amp and k * freq < 0.45 * rate:
                wave += amp * torch.sin(k * phase)
        mix[s:s + n_total] += (velocity / 127) * wave * _envelope(n_on, n_total, rate, tb)
    audio = mix.float()[None]  # (1, N)
    audio = AF.lowpass_biquad(audio, rate, min(tb.cutoff, 0.45 * RATE))
    audio = AF.resample(audio, rate, RATE)
    fade = Fade(fade_in_len=int(0.005 * RATE), fade_out_len=int(0.05 * RATE), fade_shape="half_sine")
    audio = fade(audio)[0]
    peak = float(audio.abs().max())
    if peak > 0:
        audio = audio * (PEAK / peak)
    return audio.numpy().astype(np.float32), RATE


def render_midi(midi, program: int = 0, seconds: float | None = None) -> tuple[np.ndarray, int]:
    """A pretty_midi melody -> audio lasting ``seconds`` (default: the MIDI's end) plus a short tail."""
    notes = [(n.start, n.end, n.pitch, n.velocity) for inst in midi.instruments if not inst.is_drum for n in inst.notes]
    return render_notes(notes, seconds if seconds is not None else midi.get_end_time(), program)
