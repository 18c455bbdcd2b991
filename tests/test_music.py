"""`genkit music`: tunes of exact length and meter, audio, piano rolls, primers, training, bad input."""

from __future__ import annotations

import csv
import json
import wave

import numpy as np
import pretty_midi
import pytest

from conftest import DATA, assert_user_error, needs_data
from conftest import run_genkit as _run_genkit

NOTTINGHAM = "music/nottingham"


def run_genkit(*args, **kwargs):
    """The real CLI on one thread: the team's CPU is shared, and two threads on a busy machine are
    slower than one for a small LSTM stepping through time."""
    return _run_genkit(*args, env={"OMP_NUM_THREADS": "1"}, **kwargs)


def melody_notes(path):
    midi = pretty_midi.PrettyMIDI(str(path))
    return midi, [n for inst in midi.instruments for n in inst.notes]


def write_melody(path, pitches, step=0.25, program=0, drum=False, meter=(4, 4), key=None, chords=False):
    """A MIDI file at 120 BPM: one note per ``step`` seconds (0.25 s = an eighth note)."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(meter[0], meter[1], 0))
    if key is not None:
        midi.key_signature_changes.append(pretty_midi.KeySignature(key, 0))
    inst = pretty_midi.Instrument(program=program, is_drum=drum)
    for i, p in enumerate(pitches):
        inst.notes.append(pretty_midi.Note(90, p, i * step, (i + 1) * step))
        if chords:
            inst.notes.append(pretty_midi.Note(90, p + 4, i * step, (i + 1) * step))
    midi.instruments.append(inst)
    midi.write(str(path))
    return path


# ---------------------------------------------------------------- generating


@pytest.mark.parametrize("meter,bar_quarters", [("4/4", 4), ("3/4", 3), ("6/8", 3)])
def test_tune_has_exact_bars_and_meter(tmp_path, meter, bar_quarters):
    out = tmp_path / "tune.mid"
    run_genkit("music", "--bars", 8, "--time-signature", meter, "--tempo", 100, "--key", "D",
               "--seed", 3, "-o", out, check=0)
    midi, notes = melody_notes(out)
    bar_seconds = bar_quarters * 60 / 100
    assert midi.get_end_time() == pytest.approx(8 * bar_seconds)
    assert notes and max(n.end for n in notes) <= 8 * bar_seconds + 1e-6
    ts = midi.time_signature_changes[0]
    assert f"{ts.numerator}/{ts.denominator}" == meter
    assert midi.key_signature_changes[0].key_number == 2  # D major
    # Monophonic, and every onset on the sixteenth grid.
    starts = sorted((n.start, n.end) for n in notes)
    assert all(a[1] <= b[0] + 1e-6 for a, b in zip(starts, starts[1:]))
    sixteenth = 60 / 100 / 4
    assert all(abs(n.start / sixteenth - round(n.start / sixteenth)) < 1e-6 for n in notes)
    # Provenance is embedded as a MIDI text event.
    assert any(t.text.startswith("genkit:") for t in midi.text_events)


def test_per_item_seeds_and_program(tmp_path):
    run_genkit("music", "--n", 3, "--seed", 11, "--key", "G", "--program", 40, "-o", tmp_path / "a.mid", check=0)
    run_genkit("music", "--n", 1, "--seed", 11, "--key", "G", "--program", 40, "-o", tmp_path / "b.mid", check=0)
    first = [(n.pitch, n.start, n.end) for n in melody_notes(tmp_path / "a-000.mid")[1]]
    alone = [(n.pitch, n.start, n.end) for n in melody_notes(tmp_path / "b.mid")[1]]
    assert first == alone  # item 0 does not depend on --n
    second = [(n.pitch, n.start) for n in melody_notes(tmp_path / "a-001.mid")[1]]
    assert second != [(p, s) for p, s, _ in first]
    midi, notes = melody_notes(tmp_path / "a-002.mid")
    assert midi.instruments[0].program == 40
    # A tune in G keeps mostly to G major's scale (a trained model; a random one would not).
    in_scale = np.mean([n.pitch % 12 in (7, 9, 11, 0, 2, 4, 6) for n in notes])
    assert in_scale > 0.8


def test_minor_key_and_primer_continue(tmp_path):
    out = tmp_path / "p.mid"
    run_genkit("music", "--primer", "62 64 66 67", "--key", "Am", "--bars", 4, "--seed", 2, "-o", out, check=0)
    midi, notes = melody_notes(out)
    assert [n.pitch for n in notes[:4]] == [62, 64, 66, 67]
    assert [round(n.start, 3) for n in notes[:4]] == [0.0, 0.25, 0.5, 0.75]
    assert midi.key_signature_changes[0].key_number == 12 + 9  # A minor
    assert len(notes) > 5


def test_primer_midi_sets_meter_and_key(tmp_path):
    primer = write_melody(tmp_path / "in.mid", [67, 69, 71, 72, 74, 72], meter=(3, 4), key=7)
    out = tmp_path / "cont.mid"
    run_genkit("music", "--primer-midi", primer, "--bars", 6, "--seed", 1, "-o", out, check=0)
    midi, notes = melody_notes(out)
    assert [n.pitch for n in notes[:6]] == [67, 69, 71, 72, 74, 72]
    ts = midi.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (3, 4)
    assert midi.get_end_time() == pytest.approx(6 * 1.5)
    assert midi.key_signature_changes[0].key_number == 7


def test_wav_and_piano_roll(tmp_path):
    from PIL import Image

    out, roll = tmp_path / "tune.wav", tmp_path / "roll.png"
    run_genkit("music", "--bars", 4, "--seed", 4, "--program", 73, "-o", out, "--piano-roll", roll, check=0)
    with wave.open(str(out)) as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (44100, 2, 1)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float) / 32767
    assert 8.0 <= len(pcm) / 44100 <= 8.5  # 4 bars of 4/4 at 120 BPM, plus the release tail
    assert 0.8 < np.abs(pcm).max() < 0.95  # normalised to -1 dBFS, not clipped
    assert np.abs(pcm[:10]).max() < 0.01 and np.abs(pcm[-10:]).max() < 0.01  # faded in and out
    picture = np.asarray(Image.open(roll))
    assert picture.ndim == 3 and picture.shape[1] == 4 * 16 * 4  # 4 px per sixteenth
    assert (picture == (30, 70, 160)).all(-1).any()  # note cells are drawn


def test_synth_has_no_clicks_between_notes():
    from genkit_music.synth import RATE, render_notes

    # Legato repeated notes and a leap, on a flute-like timbre: any step in the waveform would show
    # as a second difference far above a smooth wave's (2 pi f / rate)^2 * amplitude.
    notes = [(0.0, 0.25, 69, 100), (0.25, 0.5, 69, 100), (0.5, 0.625, 81, 100), (0.625, 1.0, 64, 100)]
    samples, rate = render_notes(notes, 1.0, program=73)
    assert rate == RATE and samples.dtype == np.float32
    assert np.abs(samples).max() == pytest.approx(10 ** (-1 / 20), abs=1e-3)
    smooth_limit = (2 * np.pi * 3 * 880 / RATE) ** 2
    assert np.abs(np.diff(samples, 2)).max() < smooth_limit


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("args,fragment", [
    (["--bars", "0"], "--bars"),
    (["--bars", "-3"], "--bars"),
    (["--bars", "100000"], "--bars"),
    (["--tempo", "0"], "--tempo"),
    (["--tempo", "-60"], "--tempo"),
    (["--tempo", "5000"], "--tempo"),
    (["--time-signature", "7/8"], "time-signature"),
    (["--program", "128"], "--program"),
    (["--temperature", "0"], "--temperature"),
])
def test_bad_options_refused_before_loading(tmp_path, args, fragment):
    assert_user_error(run_genkit("music", *args, "-o", tmp_path / "x.mid"), fragment)
    assert not list(tmp_path.iterdir())


def test_bad_key_primer_and_primer_midi(tmp_path):
    cases = [
        (["--key", "H"], "unknown key"),
        (["--primer", "62 64 130"], "not a MIDI pitch"),
        (["--primer", "20 22"], "outside the model's range"),
        (["--primer", "62 sixty"], "--primer"),
        (["--primer", "60 62", "--bars", "1", "--primer-midi", "x.mid"], "not both"),
    ]
    empty = pretty_midi.PrettyMIDI()
    empty.write(str(tmp_path / "empty.mid"))
    cases.append((["--primer-midi", tmp_path / "empty.mid"], "no notes"))
    cases.append((["--primer-midi", write_melody(tmp_path / "drums.mid", [36, 38, 42], drum=True)], "only drums"))
    cases.append((["--primer-midi", write_melody(tmp_path / "chords.mid", [60, 62], chords=True)], "polyphonic"))
    (tmp_path / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    cases.append((["--primer-midi", tmp_path / "corrupt.mid"], "not a readable MIDI"))
    cases.append((["--primer-midi", write_melody(tmp_path / "long.mid", [60] * 80)], "--bars"))
    out = tmp_path / "out"
    for args, fragment in cases:
        assert_user_error(run_genkit("music", *args, "-o", out / "x.mid"), fragment)
    assert not out.exists()


# ---------------------------------------------------------------- training and evaluation


def test_train_refuses_folder_without_usable_midi(tmp_path):
    (tmp_path / "notes.txt").write_text("not music")
    assert_user_error(run_genkit("train", "music", "--data", tmp_path, "--out", tmp_path / "run"), "no .mid")
    for i in range(3):
        (tmp_path / f"bad{i}.mid").write_bytes(b"not a midi file at all")
    assert_user_error(run_genkit("train", "music", "--data", tmp_path, "--out", tmp_path / "run"), "no usable melody")


def test_train_and_eval_tiny_model(tmp_path):
    data = tmp_path / "tunes"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(24):
        write_melody(data / f"tune{i}.mid", list(67 + rng.choice([0, 2, 4, 5, 7], size=32)), key=7)
    run = tmp_path / "run"
    proc = run_genkit("train", "music", "--data", data, "--out", run, "--hidden", 16, "--layers", 1,
                      "--epochs", 2, "--batch-size", 4, "--no-eval", "--quiet", check=0)
    weights = run / "music.safetensors"
    assert weights.exists() and json.loads(proc.stdout)["steps"] >= 2
    run_genkit("music", "--weights", weights, "--bars", 2, "-o", tmp_path / "t.mid", check=0)
    assert melody_notes(tmp_path / "t.mid")[0].get_end_time() == pytest.approx(4.0)
    proc = run_genkit("eval", "music", "--data", data, "--weights", weights, "--json", check=0)
    metrics = json.loads(proc.stdout)
    for key in ("test_nll_per_step", "markov_nll_per_step", "nll_per_note_on_reduction",
                "lstm_pitch_class_oa", "markov_bar_repetition_kl"):
        assert np.isfinite(metrics[key]), key


# ---------------------------------------------------------------- the data


@needs_data(NOTTINGHAM, "music/nottingham-split.csv")
def test_split_reproduces_the_readme():
    from genkit_music.data import split_of

    with open(DATA / "music/nottingham-split.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert all(split_of(r["file"]) == r["split"] for r in rows)
    counts = {s: sum(r["split"] == s for r in rows) for s in ("train", "valid", "test")}
    assert counts == {"train": 817, "valid": 104, "test": 113}


@needs_data(NOTTINGHAM)
def test_encoding_round_trip_and_double_stops():
    from genkit_music import data

    for name in ("jigs10.mid", "reelsd-g1.mid"):  # reelsd-g1 holds double-stops
        midi = pretty_midi.PrettyMIDI(str(DATA / NOTTINGHAM / name))
        tune = data.encode_midi(midi, name)
        meter = data.METERS[int(tune.meters[0])]
        assert len(tune.events) % data.bar_steps(meter) == 0
        back = data.decode(tune.events, tune.key, 120, 0, meter, tune.bars)
        onsets = {}
        for n in midi.instruments[0].notes:  # highest pitch per sixteenth onset
            s = round(n.start * 8)
            onsets[s] = max(onsets.get(s, 0), n.pitch)
        assert [(round(n.start * 8), n.pitch) for n in back.instruments[0].notes] == sorted(onsets.items())
