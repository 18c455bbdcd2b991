"""`genkit music`: tunes of exact length and meter, audio, piano rolls, primers, training, bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
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


def meter_and_pickup(midi):
    """The tune's meter and its pickup in seconds (0 without one): genkit writes a pickup as a short
    first measure with its own time signature, then the meter."""
    changes = midi.time_signature_changes
    last = changes[-1]
    return f"{last.numerator}/{last.denominator}", last.time


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
    run_genkit(
        "music", "--bars", 8, "--time-signature", meter, "--tempo", 100, "--key", "D", "--seed", 3, "-o", out, check=0
    )
    midi, notes = melody_notes(out)
    bar_seconds = bar_quarters * 60 / 100
    found, pickup = meter_and_pickup(midi)
    assert found == meter and 0 <= pickup < bar_seconds
    assert midi.get_end_time() == pytest.approx(pickup + 8 * bar_seconds)  # a pickup, then 8 whole bars
    assert notes and max(n.end for n in notes) <= pickup + 8 * bar_seconds + 1e-6
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


def test_tunes_start_on_their_first_note(tmp_path):
    # The training tunes write a pickup as rests in bar 1; a generated file opens on the pickup.
    run_genkit("music", "--n", 8, "--bars", 2, "--seed", 5, "-o", tmp_path, check=0)
    pickups = 0
    for path in sorted(tmp_path.glob("*.mid")):
        midi, notes = melody_notes(path)
        assert min(n.start for n in notes) < 1e-6, path
        meter, pickup = meter_and_pickup(midi)
        if pickup:
            pickups += 1
            first = midi.time_signature_changes[0]
            assert first.time == 0 and first.numerator / first.denominator * 2 == pytest.approx(pickup)
        assert midi.get_end_time() == pytest.approx(pickup + 2 * 2.0)
    assert pickups  # most Nottingham tunes open with a pickup, and so do the model's


def test_primer_in_magenta_style(tmp_path):
    out = tmp_path / "p.mid"
    # One token per sixteenth (0.125 s at 120 BPM): 60 held two steps, 62 one step, a rest, 64.
    run_genkit("music", "--primer", "60 _ 62 - 64", "--key", "C", "--bars", 1, "--seed", 1, "-o", out, check=0)
    notes = melody_notes(out)[1]
    assert [(n.pitch, round(n.start, 3)) for n in notes[:3]] == [(60, 0.0), (62, 0.25), (64, 0.5)]
    assert round(notes[0].end, 3) == 0.25 and round(notes[1].end, 3) == 0.375
    # Magenta's own list form means the same.
    same = tmp_path / "q.mid"
    run_genkit("music", "--primer", "[60, -2, 62, -1, 64]", "--key", "C", "--bars", 1, "--seed", 1, "-o", same, check=0)
    assert [(n.pitch, n.start, n.end) for n in melody_notes(same)[1]] == [(n.pitch, n.start, n.end) for n in notes]


@pytest.mark.parametrize(
    "primer,fragment",
    [
        ("_ 60", "starts with '_'"),
        ("- - -", "only rests"),
        ("60 x 62", "token 2 'x'"),
        ("  ", "empty"),
        ("60 128", "not a MIDI pitch"),
    ],
)
def test_bad_primers_are_one_line_errors(tmp_path, primer, fragment):
    assert_user_error(run_genkit("music", "--primer", primer, "-o", tmp_path / "x.mid"), fragment)
    assert not list(tmp_path.iterdir())


def test_continuing_a_tune_keeps_its_pickup(tmp_path):
    first = tmp_path / "first.mid"
    run_genkit(
        "music",
        "--primer",
        "- - - - - - - - - - - - 67 _ 69 _",
        "--key",
        "G",
        "--bars",
        2,
        "--seed",
        3,
        "-o",
        first,
        check=0,
    )
    midi, notes = melody_notes(first)
    assert meter_and_pickup(midi) == ("4/4", 0.5) and notes[0].start == 0  # a quarter-note pickup
    more = tmp_path / "more.mid"
    run_genkit("music", "--primer-midi", first, "--bars", 4, "--seed", 4, "-o", more, check=0)
    again, again_notes = melody_notes(more)
    assert meter_and_pickup(again) == ("4/4", 0.5)
    assert [(n.pitch, n.start) for n in again_notes[: len(notes)]] == [(n.pitch, n.start) for n in notes]


def test_minor_key_and_primer_continue(tmp_path):
    out = tmp_path / "p.mid"
    run_genkit("music", "--primer", "62 _ 64 _ 66 _ 67 _", "--key", "Am", "--bars", 4, "--seed", 2, "-o", out, check=0)
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
    assert meter_and_pickup(midi) == ("3/4", 0)  # the primer starts on its first beat: no pickup
    assert midi.get_end_time() == pytest.approx((1 + 6) * 1.5)  # the primer's bar, then 6 generated ones
    assert midi.key_signature_changes[0].key_number == 7


@pytest.mark.parametrize("bars", [1, 3])
def test_bars_count_what_follows_a_long_primer(tmp_path, bars):
    """As melody_rnn does: a primer of ten bars is continued by --bars more, not refused."""
    pitches = [60, 62, 64, 65, 67, 65, 64, 62] * 10  # eighth notes: ten bars of 4/4
    primer = write_melody(tmp_path / "long.mid", pitches, key=0)
    out = tmp_path / "more.mid"
    run_genkit("music", "--primer-midi", primer, "--bars", bars, "--seed", 5, "-o", out, check=0)
    midi, notes = melody_notes(out)
    assert [n.pitch for n in notes[:80]] == pitches
    assert midi.get_end_time() == pytest.approx((10 + bars) * 2.0)  # 4/4 bars of 2 s at 120 BPM


def test_wav_and_piano_roll(tmp_path):
    from PIL import Image

    from genkit_music import roll as piano

    out, roll = tmp_path / "tune.wav", tmp_path / "roll.png"
    run_genkit("music", "--bars", 4, "--seed", 4, "--program", 73, "-o", out, "--piano-roll", roll, check=0)
    with wave.open(str(out)) as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (44100, 2, 1)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float) / 32767
    assert 8.0 <= len(pcm) / 44100 <= 10.5  # a pickup and 4 bars of 4/4 at 120 BPM, plus the release tail
    assert np.abs(pcm[: 44100 // 20]).max() > 0.05  # sound within 50 ms: no silent pickup bar
    assert 0.8 < np.abs(pcm).max() < 0.95  # normalised to -1 dBFS, not clipped
    assert np.abs(pcm[:10]).max() < 0.01 and np.abs(pcm[-10:]).max() < 0.01  # faded in and out
    picture = np.asarray(Image.open(roll))
    steps = (picture.shape[1] - piano.LEFT) / 4  # 4 px per sixteenth, right of the pitch axis
    assert picture.ndim == 3 and 4 * 16 <= steps < 5 * 16  # four bars, and a pickup when the tune has one
    assert (picture == piano.NOTE_RGB).all(-1).any()  # note cells are drawn
    margin = picture[piano.TOP :, : piano.LEFT - 3, 0]
    assert (margin == piano.INK).sum() >= 10  # a C's name is written left of the roll
    assert (picture[: piano.TOP, piano.LEFT :, 0] == piano.INK).any()  # bar numbers on top


def test_piano_roll_names_the_cs():
    from genkit_music import roll as piano

    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0)
    inst.notes += [pretty_midi.Note(90, 55, 0, 0.5), pretty_midi.Note(90, 74, 0.5, 1.0)]
    midi.instruments.append(inst)
    midi.text_events.append(pretty_midi.Text("end", 2.0))
    picture = piano.piano_roll(midi, "4/4", 120)
    high = 74 + 2
    for pitch in (60, 72):  # C4 and C5 lie in 53-76
        y = piano.TOP + (high - pitch) * 5
        expected = np.full((5, 12), piano.PAPER, np.uint8)
        piano.draw_text(expected, piano.note_name(pitch), 0, 0)
        assert (picture[y : y + 5, :12, 0] == expected).all(), pitch
    assert piano.note_name(60) == "C4" and piano.note_name(0) == "C-1"


def test_wav_reproduces_as_wav(tmp_path):
    import shlex

    out = tmp_path / "tune.wav"
    run_genkit("music", "--bars", 1, "--seed", 9, "-o", out, check=0)
    command = json.loads((tmp_path / "tune.wav.genkit.json").read_text())["command"]
    argv = shlex.split(command)
    assert argv[:2] == ["genkit", "music"]
    (tmp_path / "again").mkdir()
    run_genkit(*argv[1:], cwd=tmp_path / "again", check=0)
    made = list((tmp_path / "again").rglob("*.*"))
    wavs = [p for p in made if p.suffix == ".wav"]
    assert wavs and not [p for p in made if p.suffix == ".mid"], made
    assert wavs[0].read_bytes() == out.read_bytes()


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


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--bars", "0"], "--bars"),
        (["--bars", "-3"], "--bars"),
        (["--bars", "100000"], "--bars"),
        (["--tempo", "0"], "--tempo"),
        (["--tempo", "-60"], "--tempo"),
        (["--tempo", "5000"], "--tempo"),
        (["--time-signature", "7/8"], "time-signature"),
        (["--program", "128"], "--program"),
        (["--temperature", "0"], "--temperature"),
    ],
)
def test_bad_options_refused_before_loading(tmp_path, args, fragment):
    assert_user_error(run_genkit("music", *args, "-o", tmp_path / "x.mid"), fragment)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "args,fragment",
    [(["--key", "H"], "unknown key"), (["--primer", "60 x"], "token 2"), (["--primer", "_ 60"], "hold")],
)
def test_a_bad_key_or_primer_is_refused_before_torch_is_imported(tmp_path, args, fragment):
    """The spec names light validators for --key and --primer, so the error costs no model load."""
    code = (
        "import sys\nfrom genkit.cli import main\n"
        f"try:\n    main({['music', *args, '-o', str(tmp_path / 'x.mid')]!r})\n"
        "except SystemExit as exc:\n    assert exc.code == 2, exc.code\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert fragment in proc.stderr and proc.stderr.count("genkit: error:") == 1, proc.stderr
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
    proc = run_genkit(
        "train",
        "music",
        "--data",
        data,
        "--out",
        run,
        "--hidden",
        16,
        "--layers",
        1,
        "--epochs",
        2,
        "--batch-size",
        4,
        "--no-eval",
        "--quiet",
        check=0,
    )
    weights = run / "music.safetensors"
    assert weights.exists() and json.loads(proc.stdout)["steps"] >= 2
    run_genkit("music", "--weights", weights, "--bars", 2, "-o", tmp_path / "t.mid", check=0)
    tune = melody_notes(tmp_path / "t.mid")[0]
    _, pickup = meter_and_pickup(tune)  # an unseeded sample may open with a pickup
    assert tune.get_end_time() == pytest.approx(pickup + 2 * 2.0)  # then two whole 4/4 bars at 120 bpm
    proc = run_genkit("eval", "music", "--data", data, "--weights", weights, "--json", check=0)
    metrics = json.loads(proc.stdout)
    for key in (
        "test_nll_per_step",
        "markov_nll_per_step",
        "nll_per_note_on_reduction",
        "lstm_pitch_class_oa",
        "markov_bar_repetition_kl",
    ):
        assert np.isfinite(metrics[key]), key
    # How tunes end: the share on the tonic and in a cadence, of the data, the LSTM's and the chain's.
    for who in ("test", "lstm", "markov"):
        assert 0 <= metrics[f"{who}_end_cadence"] <= metrics[f"{who}_end_on_tonic"] <= 1, who
        assert metrics[f"{who}_end_final_steps"] > 0, who


def test_an_ending_is_read_from_the_last_note():
    from genkit_music import data, metrics

    def events(*notes):  # (normalised pitch, sixteenths) -> events, each note held to the next
        out = []
        for pitch, length in notes:
            out += [data.FIRST_PITCH_TOKEN + pitch - data.LOW] + [data.NO_EVENT] * (length - 1)
        return out

    held_tonic = events((64, 4), (62, 4), (60, 8))
    assert metrics.ending(held_tonic, "4/4") == {"on_tonic": 1.0, "final_steps": 8.0, "cadence": 1.0}
    assert metrics.ending(events((64, 4), (60, 1)), "4/4")["cadence"] == 0.0  # on the tonic, but cut
    assert metrics.ending(events((60, 4), (62, 12)), "4/4")["on_tonic"] == 0.0
    assert metrics.ending(events((67, 4), (72, 4)), "6/8")["cadence"] == 0.0  # a 6/8 beat is 6 sixteenths
    shares = metrics.endings([(held_tonic, "4/4"), (events((62, 4)), "3/4")])
    assert shares == {"on_tonic": 0.5, "cadence": 0.5, "final_steps": 6.0}


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
        first = min(onsets)  # the file's leading rests (the pickup's padding) are cut
        assert [(round(n.start * 8), n.pitch) for n in back.instruments[0].notes] == [
            (s - first, p) for s, p in sorted(onsets.items())
        ]
        again = data.encode_midi(back, name)  # the pickup measure reads back as the padded bar
        assert list(again.events) == list(tune.events)


def test_the_endings_bench_reads_back_what_genkit_music_wrote(tmp_path):
    """bench/music_endings.py: every written tune is read back and measured, per meter asked for."""
    from conftest import REPO

    command = [sys.executable, str(REPO / "bench" / "music_endings.py"), "--n", "3", "--bars", "2"]
    command += ["--meters", "4/4,3/4", "--close-tries", "0,4", "--data", str(tmp_path / "none"), "--json"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = json.loads(proc.stdout)
    assert list(table) == ["nottingham --bars 2 --close-tries 0", "nottingham --bars 2 --close-tries 4"]
    for row in table.values():
        assert row["tunes"] == 6 and 0 <= row["cadence"] <= row["on_tonic"] <= 1 and row["final_steps"] > 0


def test_a_last_bar_that_does_not_close_is_redrawn_and_nothing_before_it_changes(tmp_path):
    """--close-tries: the last bar is drawn again from the model until it ends in a cadence; the bars
    before it are the first draw's, note for note, and tune i is the same whatever --n is."""
    from genkit_music import data, metrics

    def tunes(folder, *args):
        run_genkit("music", "--bars", 4, "--seed", 3, "-o", folder, *args, check=0)
        paths = sorted(folder.glob("*.mid"))
        return [
            data.encode_midi(pretty_midi.PrettyMIDI(str(p)), p.name, strict_range=False).events.tolist() for p in paths
        ]

    first = tunes(tmp_path / "first", "--n", 12, "--close-tries", 0)
    closed = tunes(tmp_path / "closed", "--n", 12)
    assert tunes(tmp_path / "three", "--n", 3) == closed[:3]
    for a, b in zip(first, closed):
        assert len(a) == len(b) and a[:-16] == b[:-16]  # a 4/4 bar is 16 sixteenths
    cadences = [sum(metrics.ending(ev, "4/4")["cadence"] for ev in group) for group in (first, closed)]
    assert cadences[1] > cadences[0] and cadences[1] >= 8, cadences


@needs_data("music/nottingham-abc", "music/nottingham")
def test_the_nottingham_abc_files_play_as_their_midi_files_do():
    """genkit_music.abc's yardstick: the onsets of the MIDI files Jukedeck made from the same ABC files."""
    from genkit_music import abc

    same = total = 0
    for path in sorted((DATA / "music" / "nottingham-abc").glob("*.abc"))[:4]:
        tunes, _ = abc.read_abc(path.read_text(encoding="latin-1"))
        for tune in tunes:
            midi = pretty_midi.PrettyMIDI(str(DATA / "music" / "nottingham" / f"{path.stem}{tune.number}.mid"))
            onsets = sorted(
                {round(midi.time_to_tick(n.start) * 4 / midi.resolution) for n in midi.instruments[0].notes}
            )
            ours = sorted({s for s, _, _ in tune.notes})
            same += [s - onsets[0] for s in onsets] == [s - ours[0] for s in ours]
            total += 1
    assert total > 150 and same / total > 0.6, (same, total)
