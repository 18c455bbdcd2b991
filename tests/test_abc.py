"""ABC tunes with chord symbols (genkit_music.abc): what is played, and `genkit train music` on ABC files."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pretty_midi = pytest.importorskip("pretty_midi")

from conftest import assert_user_error, run_genkit

from genkit_music import abc, data

pytestmark = pytest.mark.fast


def one(text: str) -> abc.AbcTune:
    tunes, problems = abc.read_abc(text)
    assert not problems, problems
    (tune,) = tunes
    return tune


def pitches(tune: abc.AbcTune) -> list[int]:
    return [p for _, _, p in tune.notes]


def test_lengths_broken_rhythm_triplets_ties_and_the_key_signature():
    tune = one("X:1\nT:t\nM:4/4\nL:1/8\nK:D\nf2 c>B (3ABc d2-|d4 z4|\n")
    # K:D sharpens F and C; f2 is a quarter, c>B dotted eighth + sixteenth, the triplet 3 in the time of 2
    assert pitches(tune) == [78, 73, 71, 69, 71, 73, 74]
    starts = [s for s, _, _ in tune.notes]
    assert starts[:4] == [0, 4, 7, 8] and tune.notes[-1][:2] == (12, 24)  # d2- | d4: one tied note
    assert tune.length == 32 and tune.key == "D" and tune.meters == [(0, "4/4")]


def test_an_accidental_holds_to_the_bar_line_and_no_further():
    tune = one("X:1\nM:4/4\nL:1/4\nK:C\n^c c C c|c4|\n")
    assert pitches(tune) == [73, 73, 60, 73, 72]  # ^c holds for c in its octave and bar only


def test_repeats_and_endings_are_unrolled_as_played():
    tune = one('X:1\nM:2/4\nL:1/4\nK:C\n|:"C"C D|[1 "G"E F:|[2 "C"G A||\n')
    assert pitches(tune) == [60, 62, 64, 65, 60, 62, 67, 69]
    names = [c.symbol for _, _, c in tune.chords]
    assert names == ["C", "G", "C", "C"]  # the second time through starts in C again
    spans = [(s, e) for s, e, _ in tune.chords]
    assert spans == [(0, 8), (8, 16), (16, 24), (24, 32)]
    assert tune.chord_at(10).pitch_classes == (7, 11, 2)


def test_parts_play_in_the_order_the_header_gives():
    text = "X:1\nM:2/4\nL:1/4\nY:ABA\nK:C\nP:A\nC D||\nP:B\nE F||\n"
    assert pitches(one(text)) == [60, 62, 64, 65, 60, 62]
    assert pitches(one(text.replace("Y:ABA\n", ""))) == [60, 62, 64, 65]  # no order: as written


def test_a_pickup_sits_at_the_end_of_a_whole_first_bar():
    tune = one("X:1\nM:3/4\nL:1/4\nK:G\nd|g3|\n")
    assert tune.notes[0][:2] == (8, 12) and tune.length == 24


def test_chord_symbols_read_as_pitch_classes():
    assert abc.parse_chord("Em").pitch_classes == (4, 7, 11)
    assert abc.parse_chord("D7/f+").pitch_classes == (2, 6, 9, 0)
    assert abc.parse_chord("Gd").pitch_classes == (7, 10, 1)
    assert abc.parse_chord("(A7)").root == 9
    assert abc.parse_chord("From here") is None


def test_a_malformed_tune_is_refused_with_its_line_and_the_others_read():
    tunes, problems = abc.read_abc("X:1\nK:C\nCDE|\n\nX:2\nK:C\nC [DE F|\n\nX:3\nK:C\nGAB|\n")
    assert [t.number for t in tunes] == [1, 3]
    assert len(problems) == 1 and problems[0].startswith("X:2: line 3")


def test_repeats_cannot_unroll_without_end():
    # every :| replays what is before it: 40 nested doublings would be 2^40 bars
    text = "X:1\nK:C\nL:1/4\nC D E F" + " :|" * 40 + "\n"
    _, problems = abc.read_abc(text)
    assert problems and "more" in problems[0]


def test_the_midi_has_the_melody_and_the_chords_on_their_own_instruments():
    midi = abc.to_midi(one('X:1\nM:4/4\nL:1/4\nK:G\n"G"G B "D7"A F|\n'))
    melody, chords = midi.instruments
    assert [n.pitch for n in melody.notes] == [67, 71, 69, 66]
    assert sorted(n.pitch for n in chords.notes if n.start == 0) == [67, 71, 74]  # G B D over G
    assert [ks.key_number for ks in midi.key_signature_changes] == [7]


def test_train_music_reads_a_folder_of_abc_files(tmp_path):
    folder = tmp_path / "abc"
    folder.mkdir()
    body = '|:"G"GABc dBGB|"D"A2F2 D2FA|"G"GABc dBGB|"D7"A2F2 "G"G4:|\n'
    text = "".join(f"X:{n}\nT:tune {n}\nM:4/4\nL:1/8\nK:G\n{body}\n" for n in range(1, 31))
    (folder / "set.abc").write_text(text + "X:99\nK:C\nC [D|\n")
    run = tmp_path / "run"
    proc = run_genkit(
        *("train", "music", "--data", folder, "--out", run, "--hidden", 16, "--layers", 1),
        *("--epochs", 1, "--batch-size", 4, "--no-eval", "--quiet"),
        check=0,
    )
    weights = run / "music.safetensors"
    assert json.loads(proc.stdout)["steps"] >= 1 and weights.exists()
    splits = data.load_splits(folder)
    assert sum(len(v) for v in splits.values()) >= 30  # every good tune, in some split
    assert len(splits["train"][0].events) == 8 * 16  # the repeat is played: 8 bars of 4/4
    # the chord symbols trained a chord input, and the weights carry the chords of the bar lines
    from genkit import weights as gk_weights

    _, meta = gk_weights.load_tensors(weights, "cpu")
    assert meta["config"]["chords"] > 0
    learnt = {(r, tuple(p)) for r, p in meta["chord_chain"]["chords"]}
    assert learnt == {(0, (0, 4, 7)), (7, (7, 11, 2)), (7, (7, 11, 2, 5))}  # G, D, D7 in G, as I, V, V7 of C

    out = tmp_path / "over.mid"
    run_genkit("music", "--weights", weights, "--backing", "G D Em C", "--key", "G", "--bars", 6, "-o", out, check=0)
    midi = pretty_midi.PrettyMIDI(str(out))
    melody, chords = midi.instruments
    assert (melody.name, chords.name) == ("melody", "chords")
    bar = 2.0  # 4/4 at 120 BPM
    first = min(n.start for n in chords.notes)
    by_bar = {}
    for n in chords.notes:
        by_bar.setdefault(round((n.start - first) / bar), set()).add(n.pitch % 12)
    g, d, em, c = {7, 11, 2}, {2, 6, 9}, {4, 7, 11}, {0, 4, 7}
    assert [by_bar[k] for k in range(6)] == [g, d, em, c, g, d]  # one per bar, repeated to the end
    assert max(n.end for n in chords.notes) <= midi.get_end_time() + 1e-6

    drawn = tmp_path / "drawn.mid"
    run_genkit("music", "--weights", weights, "--chords", "--bars", 4, "-o", drawn, check=0)
    chords = pretty_midi.PrettyMIDI(str(drawn)).instruments[1]
    assert {n.pitch % 12 for n in chords.notes} <= g | d | {0}  # only chords the tunes had (D7 adds C)


def test_chords_need_chord_weights_and_real_chord_symbols(tmp_path):
    out = tmp_path / "t.mid"
    assert_user_error(run_genkit("music", "--chords", "-o", out), "no chord input", "nottingham-chords")
    assert not out.exists()


def test_a_backing_chord_that_is_not_a_chord_is_refused(tmp_path):
    from genkit_music import chords

    with pytest.raises(Exception, match="chord 2 .'H7'. is not a chord"):
        chords.parse_backing("G H7 C", data.Key(7))
    assert chords.parse_backing("G D7", data.Key(7)) == [(0, (0, 4, 7)), (7, (7, 11, 2, 5))]


def test_a_chord_chain_from_hostile_metadata_is_refused():
    from genkit_music import chords

    good = {"chords": [[0, [0, 4, 7]]], "first": [1], "next": [[0]], "last": [1]}
    chords.Chain(good, "w")
    for bad in (
        {**good, "chords": [[12, [0, 4, 7]]]},
        {**good, "next": [[float("nan")]]},
        {**good, "first": [0]},
        {**good, "next": [[1, 2]]},
        {**good, "chords": "C"},
        [],
    ):
        with pytest.raises(Exception, match="chord_chain"):
            chords.Chain(bad, "w")


def test_a_folder_of_unreadable_abc_is_a_user_error(tmp_path):
    (tmp_path / "bad.abc").write_text("X:1\nK:C\nC [D|\n")
    assert_user_error(run_genkit("train", "music", "--data", tmp_path, "--out", tmp_path / "run"), "no usable melody")


def test_the_chord_bench_measures_a_folder(tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    (tmp_path / "a.abc").write_text('X:1\nM:4/4\nL:1/4\nK:G\n"G"G B "D7"A F|"G"G4|\n')
    command = [sys.executable, str(REPO / "bench" / "abc_chords.py"), "--data", tmp_path, "--midi", tmp_path / "no"]
    proc = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    # strong beats: G on 1 (a G-chord tone), A on 3 (a D7 tone), G on the next 1
    assert "chord tones: 1.000" in proc.stdout and "I->V7" in proc.stdout and "V7->I" in proc.stdout


def test_midi_files_with_a_chord_track_train_a_chord_model_and_prime_it(tmp_path):
    folder = tmp_path / "midi"
    folder.mkdir()
    for i in range(24):
        midi = pretty_midi.PrettyMIDI(initial_tempo=120)
        melody, chords = pretty_midi.Instrument(0, name="melody"), pretty_midi.Instrument(0, name="Chords")
        for bar, (tones, tune) in enumerate([((55, 59, 62), (67, 71)), ((50, 54, 57), (69, 66))] * 2):
            chords.notes += [pretty_midi.Note(60, p, bar * 2.0, bar * 2.0 + 2.0) for p in tones]
            melody.notes += [
                pretty_midi.Note(90, p + i % 3, bar * 2.0 + k, bar * 2.0 + k + 1) for k, p in enumerate(tune)
            ]
        midi.instruments += [melody, chords]
        midi.key_signature_changes.append(pretty_midi.KeySignature(7, 0))
        midi.write(str(folder / f"t{i}.mid"))
    tune = data.encode_midi_with_chords(pretty_midi.PrettyMIDI(str(folder / "t0.mid")), "t0.mid")
    assert [data.chord_symbols_of(tune.chords[t])[0] for t in (0, 16, 32)] == [0, 7, 0]  # G, D, G in G: I, V, I
    ons = [int(e) - data.FIRST_PITCH_TOKEN + data.LOW for e in tune.events if e >= data.FIRST_PITCH_TOKEN]
    assert ons[:2] == [72, 76] and len(ons) == 8  # the melody alone (G B in G is C E, normalised), no chord notes
    run = tmp_path / "run"
    run_genkit(
        *("train", "music", "--data", folder, "--out", run, "--hidden", 16, "--layers", 1),
        *("--epochs", 1, "--batch-size", 4, "--no-eval", "--quiet"),
        check=0,
    )
    weights = run / "music.safetensors"
    out = tmp_path / "first.mid"
    run_genkit("music", "--weights", weights, "--chords", "--bars", 2, "-o", out, check=0)
    # a file written with its chord track primes the next tune: the melody is read, the chords left
    again = tmp_path / "again.mid"
    run_genkit("music", "--weights", weights, "--primer-midi", out, "--bars", 1, "-o", again, check=0)
    assert len(pretty_midi.PrettyMIDI(str(again)).instruments) == 1
