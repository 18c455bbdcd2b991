"""The WAV synthesiser (genkit_music.synth): memory bounded by the output, seamless blocks, no clipping."""

from __future__ import annotations

import os
import subprocess
import sys
import wave

import numpy as np
import pytest
from conftest import run_genkit

RATE = 44_100


def walking_tune(seconds: float, velocity: int = 100) -> list[tuple[float, float, int, int]]:
    """Eighth notes up and down an octave for ``seconds``: (start, end, pitch, velocity)."""
    pitches = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62]
    return [(i * 0.25, (i + 1) * 0.25, pitches[i % len(pitches)], velocity) for i in range(int(seconds * 4))]


def peak_rss_mb(command: list[str]) -> float:
    """Run ``command`` as the only child of a fresh Python and return the child's peak RSS in MB
    (RUSAGE_CHILDREN of this test process would include every earlier test's children)."""
    code = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "if p.returncode: sys.exit(p.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("GENKIT_DEVICE", None)
    proc = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return float(proc.stdout.strip().splitlines()[-1])


def wav_frames(path) -> int:
    with wave.open(str(path)) as w:
        return w.getnframes()


def test_a_long_wav_costs_memory_in_proportion_to_its_output(tmp_path):
    # The old synthesiser held the whole mix at 88.2 kHz in float64 plus the filter's and the
    # resampler's copies: ~7 MB per second of audio, 1.6 GB for 64 bars at 120 BPM, 11.9 GB for
    # 256 bars at 40. Now the mix is made a block at a time and only the float32 output is whole.
    genkit = [sys.executable, "-m", "genkit", "music", "--seed", "3", "--quiet"]
    short = peak_rss_mb([*genkit, "--bars", "2", "-o", str(tmp_path / "short.wav")])
    long = peak_rss_mb([*genkit, "--bars", "24", "--tempo", "40", "-o", str(tmp_path / "long.wav")])
    seconds = wav_frames(tmp_path / "long.wav") / RATE
    assert seconds > 140  # 24 bars of 4/4 at 40 BPM (plus a pickup): 144-150 s
    output_mb = seconds * RATE * 4 / 2**20  # the float32 samples the synthesiser returns
    # The WAV encoder (genkit/encode.py) converts through float64, about 4 more copies of the output.
    assert long <= 1.3 * short + 6 * output_mb, (short, long, output_mb)


def test_the_synthesiser_itself_holds_only_its_output_and_one_block():
    code = (
        "import resource, sys\n"
        "from genkit_music.synth import render_notes\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from test_music_audio import walking_tune\n"
        "render_notes(walking_tune(8), 8)  # imports and a whole block's workspace (a block is ~6 s)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "samples, _ = render_notes(walking_tune(float(sys.argv[1])), float(sys.argv[1]))\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before, samples.nbytes / 2**20)\n"
    )
    tests = os.path.dirname(__file__)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", code, "300", tests], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    grew, output_mb = map(float, proc.stdout.split())
    assert output_mb > 50  # 300 s of float32 at 44.1 kHz
    # The old renderer grew by ~7 MB a second here (2 GB); now: the output and a block's workspace.
    assert grew <= output_mb + 150, (grew, output_mb)


@pytest.mark.parametrize("program", [0, 73])  # piano; flute, whose vibrato phase crosses blocks
def test_blocks_join_seamlessly(monkeypatch, program):
    from genkit_music import synth

    notes = walking_tune(3) + [(3.0, 6.0, 67, 90)]  # a long note spanning many small blocks
    whole, _ = synth.render_notes(notes, 6.0, program=program)
    monkeypatch.setattr(synth, "BLOCK", 4099)  # odd, and shorter than a note
    blocks, _ = synth.render_notes(notes, 6.0, program=program)
    assert blocks.shape == whole.shape and blocks.dtype == np.float32
    assert np.abs(blocks - whole).max() < 1e-5


def test_loud_notes_are_not_clipped_before_normalising():
    from genkit_music.synth import render_notes

    # Brass sums six harmonics: a loud note's mix peaks near 2. The old renderer clamped it to 1
    # inside the low-pass filter (12% of a brass tune's samples), flattening the loud waveform;
    # normalisation is linear, so a loud and a quiet rendering must now have the same shape.
    loud, _ = render_notes(walking_tune(2, velocity=127), 2, program=56)
    quiet, _ = render_notes(walking_tune(2, velocity=20), 2, program=56)
    assert np.abs(loud).max() == pytest.approx(10 ** (-1 / 20), abs=1e-4)
    assert np.abs(loud - quiet).max() < 1e-4


def test_a_tune_of_many_blocks_is_faded_normalised_and_the_right_length(tmp_path):
    out = tmp_path / "tune.wav"
    run_genkit(
        "music",
        "--bars",
        8,
        "--tempo",
        50,
        "--seed",
        5,
        "--program",
        41,
        "-o",
        out,
        env={"OMP_NUM_THREADS": "1"},
        check=0,
    )
    with wave.open(str(out)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float) / 32767
    assert 38.4 <= len(pcm) / RATE <= 48.7  # 8 bars (and a pickup) of 4/4 at 50 BPM, plus the tail
    assert 0.88 < np.abs(pcm).max() < 0.9  # -1 dBFS
    assert np.abs(pcm[:10]).max() < 0.01 and np.abs(pcm[-10:]).max() < 0.01
