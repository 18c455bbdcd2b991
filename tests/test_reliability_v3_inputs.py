"""Issue 30, classes 1, 2, 3 and 6: inputs with budgets, genkit's own state files, the plugin cache
key, and outside text on its way to a terminal. Each test runs the real command on tiny hostile
files built in tmp_path (docs/reliability.md, "Reliability v3")."""

from __future__ import annotations

import io
import json
import os
import textwrap
import time

import pytest
from conftest import REPO, TINY_PLUGIN_ENV, assert_user_error, run_genkit
from test_reliability import child_peak_rss_mb

# ---------------------------------------------------------------- class 1: a budget for the whole input


def midi_bytes(ticks_per_beat=480, length=480, notes=1) -> bytes:
    """A MIDI file of ``notes`` notes, each ``length`` ticks long."""
    import mido

    midi = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for _ in range(notes):
        track += [mido.Message("note_on", note=60, velocity=64, time=0), mido.Message("note_off", note=60, time=length)]
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()


def test_a_37_byte_midi_of_one_huge_note_is_refused_as_data_and_as_primer_with_bounded_memory(tmp_path):
    """One note of 2^21 ticks at one tick a beat is 8 million sixteenths: 2.2 GB as --data before."""
    huge = midi_bytes(ticks_per_beat=1, length=2**21)
    assert len(huge) == 37
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.mid").write_bytes(huge)
    proc, rss = child_peak_rss_mb(["train", "music", "--data", data, "--out", tmp_path / "run"])
    assert_user_error(proc, "a.mid", "sixteenth notes")
    assert rss < 1000, rss  # torch and the plugin, nothing for the file
    assert not (tmp_path / "run").exists()
    (tmp_path / "p.mid").write_bytes(huge)
    proc = run_genkit("music", "--primer-midi", tmp_path / "p.mid", "-o", tmp_path / "x.mid", timeout=120)
    assert_user_error(proc, "sixteenth notes")
    assert not (tmp_path / "x.mid").exists()


@pytest.mark.parametrize(
    "name, raw, fragment",
    [
        ("cut.mid", midi_bytes()[:-3], "truncated"),  # a file with missing data is an error, never silence
        ("zero.mid", midi_bytes()[:12] + b"\x00\x00" + midi_bytes()[14:], "ticks per beat"),
        ("many.mid", midi_bytes(length=1, notes=120_000), "notes"),
    ],
    ids=["cut-short", "no-ticks", "too-many-notes"],
)
def test_cut_short_tickless_or_overfull_midi_is_one_line_as_data(tmp_path, name, raw, fragment):
    data = tmp_path / "data"
    data.mkdir()
    (data / name).write_bytes(raw)
    proc = run_genkit("train", "music", "--data", data, "--out", tmp_path / "run", timeout=120)
    assert_user_error(proc, name, fragment)


def test_a_midi_folder_is_measured_as_a_whole_before_any_file_is_decoded(tmp_path, monkeypatch):
    """Each file within its own budget, the folder over the whole-input budget (limits made small here)."""
    from genkit.errors import GenkitError
    from genkit_music import data

    folder = tmp_path / "data"
    folder.mkdir()
    for k in range(3):
        (folder / f"{k}.mid").write_bytes(midi_bytes(ticks_per_beat=4, length=400))  # 400 sixteenths each
    assert len(data.read_folder(folder)[0]) == 3
    monkeypatch.setattr(data, "MAX_DATA_STEPS", 1000)
    with pytest.raises(GenkitError, match="sixteenth notes"):
        data.read_folder(folder)
    monkeypatch.setattr(data, "MAX_DATA_BYTES", 100)
    with pytest.raises(GenkitError, match="MB of MIDI"):
        data.read_folder(folder)


def png_header(width: int, height: int) -> bytes:
    """A valid PNG whose IHDR claims width x height and whose pixel data is one empty stream."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_an_image_folder_over_the_whole_input_budget_is_refused_from_headers_alone(tmp_path, monkeypatch):
    """Every picture within the per-file limit, together too many pixels: refused before one is decoded."""
    from genkit import datasets
    from genkit.errors import GenkitError

    for k in range(4):
        (tmp_path / "cls").mkdir(exist_ok=True)
        (tmp_path / "cls" / f"{k}.png").write_bytes(png_header(8000, 8000))  # 64 Mpixel each, 70 bytes
    monkeypatch.setattr(datasets, "MAX_DATA_PIXELS", 3 * 8000 * 8000)
    decoded = []
    monkeypatch.setattr(datasets, "read_image", lambda path: decoded.append(path))
    with pytest.raises(GenkitError, match="G pixels"):
        datasets.load(tmp_path, size=28)
    assert decoded == []  # nothing was decoded


def test_many_inputs_each_within_the_limit_are_refused_together_before_decoding(tmp_path):
    """vae --reconstruct reads every input: 20 headers of 64 Mpixel each are 1.3 G pixels (1.4 kB on disk)."""
    inputs = []
    for k in range(20):
        inputs.append(tmp_path / f"{k}.png")
        inputs[-1].write_bytes(png_header(8000, 8000))
    proc, rss = child_peak_rss_mb(["vae", "--reconstruct", *inputs, "-o", tmp_path / "out"])
    assert_user_error(proc, "input images", "pixels")
    assert rss < 1000, rss
    assert not (tmp_path / "out").exists()


def test_a_cut_short_picture_in_a_training_folder_is_an_error_never_zeros(tmp_path):
    from PIL import Image

    (tmp_path / "data" / "a").mkdir(parents=True)
    (tmp_path / "data" / "b").mkdir()
    for k in range(3):
        Image.new("L", (28, 28), 200).save(tmp_path / "data" / "a" / f"{k}.png")
        Image.new("L", (28, 28), 50).save(tmp_path / "data" / "b" / f"{k}.png")
    whole = (tmp_path / "data" / "b" / "2.png").read_bytes()
    (tmp_path / "data" / "b" / "2.png").write_bytes(png_header(28, 28))  # header, no pixels
    proc = run_genkit("train", "image", "--data", tmp_path / "data", "--out", tmp_path / "run", timeout=120)
    assert_user_error(proc, "2.png")
    assert not (tmp_path / "run").exists()
    assert whole  # the real file decoded; only the one without its data is refused


def test_an_animation_primer_over_the_clip_budget_and_a_fifo_frame_are_refused(tmp_path, monkeypatch):
    from PIL import Image

    from genkit.errors import GenkitError
    from genkit_video import primer

    frames = [Image.new("L", (64, 64), 10 * k) for k in range(6)]
    frames[0].save(tmp_path / "clip.gif", save_all=True, append_images=frames[1:])
    assert primer.read_primer(tmp_path / "clip.gif", 4, 64).shape == (4, 64, 64)
    monkeypatch.setattr(primer, "MAX_CLIP_PIXELS", 5 * 64 * 64)
    with pytest.raises(GenkitError, match="pixels in all"):
        primer.read_primer(tmp_path / "clip.gif", 4, 64)
    folder = tmp_path / "frames"
    folder.mkdir()
    for k, frame in enumerate(frames[:3]):
        frame.save(folder / f"{k}.png")
    os.mkfifo(folder / "3.png")  # would block Image.open forever
    with pytest.raises(GenkitError, match="not a regular file"):
        primer.read_primer(folder, 4, 64)


def test_a_corpus_of_too_many_different_characters_is_one_line(tmp_path):
    corpus = tmp_path / "many.txt"
    corpus.write_text("".join(chr(c) for c in range(0x10000, 0x10000 + 70_000)), "utf-8")  # 280 kB, 70,000 kinds
    proc = run_genkit("train", "text", "--data", corpus, "--out", tmp_path / "run", timeout=120)
    assert_user_error(proc, "different characters")
    assert not (tmp_path / "run").exists()


def test_a_corpus_is_read_within_its_byte_budget(tmp_path, monkeypatch):
    from genkit.errors import GenkitError
    from genkit_text import data

    corpus = tmp_path / "c.txt"
    corpus.write_text("abc " * 100)
    assert data.read_corpus(corpus).startswith("abc")
    monkeypatch.setattr(data, "MAX_CORPUS_BYTES", 100)
    with pytest.raises(GenkitError, match="400 bytes"):
        data.read_corpus(corpus)


# ---------------------------------------------------------------- class 2: genkit's own caches and state


def test_a_symlink_at_the_precision_cache_is_replaced_never_written_through(tmp_path, capsys, monkeypatch):
    from genkit import state
    from genkit.train import precision

    profile = tmp_path / "profile"
    profile.write_text("export PATH=/usr/bin\n")
    cache = tmp_path / "cache" / "genkit" / "cpu-bf16.json"
    cache.parent.mkdir(parents=True)
    cache.symlink_to(profile)
    state._warned.clear()
    monkeypatch.delenv("GENKIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert precision.cpu_bf16_is_faster({"avx512_bf16"}, timer=lambda dtype: 1.0) is False
    assert precision.cpu_bf16_is_faster({"avx512_bf16"}, timer=lambda dtype: 1 / 0) is False  # cached now
    assert profile.read_text() == "export PATH=/usr/bin\n"
    assert not cache.is_symlink() and json.loads(cache.read_text())
    assert capsys.readouterr().err.count("genkit: warning:") == 1


@pytest.mark.parametrize("kind", ["fifo", "symlink", "damaged", "list", "bad entries", "folder"])
def test_a_damaged_plugin_cache_is_rebuilt_with_one_warning(tmp_path, kind):
    cache = tmp_path / "cache"
    cache.mkdir()
    path = cache / "plugins-v1.json"
    target = tmp_path / "target"
    target.write_text("keep me")
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        path.symlink_to(target)
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_text(
            {"damaged": '{"a": ', "list": "[1, 2]", "bad entries": '{"k": 5, "j": "{\\"generators\\": 3}"}'}[kind]
        )
    (cache / ".gk-99999999-deadbeef.tmp").write_text("left by a killed run")
    env = dict(TINY_PLUGIN_ENV, GENKIT_CACHE_DIR=str(cache))
    proc = run_genkit("plugins", "--json", env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "genkit_tiny" in proc.stdout
    assert proc.stderr.count("genkit: warning:") == 1, proc.stderr
    assert target.read_text() == "keep me"
    if kind != "folder":
        assert path.is_file() and not path.is_symlink() and json.loads(path.read_text())
        assert not (cache / ".gk-99999999-deadbeef.tmp").exists()
        again = run_genkit("plugins", "--json", env=env, timeout=60)
        assert again.returncode == 0 and "warning" not in again.stderr  # rebuilt: no warning the second time


def test_a_fifo_or_damaged_file_among_the_users_settings_is_one_line_not_a_hang(tmp_path):
    """The user's own files (aliases) are not rebuilt behind their back: refused in one line, at once."""
    os.mkfifo(tmp_path / "aliases.json")
    proc = run_genkit("text", "--weights", "shakespeare", "--max-tokens", "3", env={"GENKIT_CONFIG_DIR": str(tmp_path)})
    assert_user_error(proc, "not a regular file")
    (tmp_path / "aliases.json").unlink()
    (tmp_path / "aliases.json").write_bytes(b"\xff\xfe not json")
    proc = run_genkit("text", "--weights", "shakespeare", "--max-tokens", "3", env={"GENKIT_CONFIG_DIR": str(tmp_path)})
    assert_user_error(proc, "damaged")


def test_a_cached_eval_classifier_that_is_a_link_fifo_or_damaged_is_retrained(tmp_path, capsys):
    import torch

    from genkit import state
    from genkit import weights as gk_weights
    from genkit.imaging import ruler

    good = tmp_path / "good.safetensors"
    gk_weights.save_tensors({"w": torch.zeros(1)}, {"config": {"arch": "classifier"}}, good)
    assert ruler._cached(good)
    assert not ruler._cached(tmp_path / "missing.safetensors")
    state._warned.clear()
    os.mkfifo(tmp_path / "fifo.safetensors")
    (tmp_path / "link.safetensors").symlink_to(good)
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    for name in ("fifo", "link", "bad"):
        assert not ruler._cached(tmp_path / f"{name}.safetensors")
    assert capsys.readouterr().err.count("genkit: warning:") == 3


# ---------------------------------------------------------------- class 3: the probe cache key


def write_plugin(root, bound: int, version: str = "1.0", summary: str = "A test plugin."):
    """A package plugin whose option bound lives in a sub-module."""
    package = root / "gk_subpkg"
    package.mkdir(exist_ok=True)
    (package / "bounds.py").write_text(f"MAX_SIZE = {bound}\n")
    (package / "__init__.py").write_text(
        textwrap.dedent(
            f"""
            from genkit import hookimpl
            from genkit.spec import GeneratorSpec, Option
            from gk_subpkg.bounds import MAX_SIZE

            __version__ = {version!r}


            @hookimpl
            def genkit_register_generators(register):
                register(GeneratorSpec(name="subpkg", modality="text", summary={summary!r},
                    implementation="gk_subpkg:Nothing", outputs=("txt",),
                    options=(Option("size", "int", 1, "Size.", min=1, max=MAX_SIZE),)))
            """
        )
    )


def test_changing_a_plugins_sub_module_probes_it_again(tmp_path):
    write_plugin(tmp_path, 5)
    env = {"PYTHONPATH": str(tmp_path), "GENKIT_PLUGINS": "gk_subpkg", "GENKIT_CACHE_DIR": str(tmp_path / "cache")}

    def size_range():
        proc = run_genkit("models", "subpkg", "--json", env=env, check=0, timeout=60)
        return next(o for o in json.loads(proc.stdout)["options"] if o["flag"] == "--size")["range"]

    assert size_range() == "[1, 5]"
    bounds = tmp_path / "gk_subpkg" / "bounds.py"
    bounds.write_text("MAX_SIZE = 7\n")  # same size, so only the mtime and the file list tell
    later = time.time() + 5
    os.utime(bounds, (later, later))
    assert size_range() == "[1, 7]"  # before: the entry module was unchanged, so [1, 5] was served


# ---------------------------------------------------------------- class 6: outside text on a terminal


def test_plugin_names_versions_and_summaries_reach_the_terminal_escaped(tmp_path):
    write_plugin(tmp_path, 5, version="1.0\x1b]0;pwned\x07[blink]x[/blink]", summary="fine\x1b[2J\rsummary")
    env = {"PYTHONPATH": str(tmp_path), "GENKIT_PLUGINS": "gk_subpkg", "GENKIT_CACHE_DIR": str(tmp_path / "cache")}
    for args in (["plugins"], ["models"], ["models", "subpkg"]):
        proc = run_genkit(*args, env=env, check=0, timeout=60)
        shown = proc.stdout + proc.stderr
        assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown, (args, shown)
    assert "[blink]x[/blink]" in run_genkit("plugins", env=env, timeout=60).stdout  # shown, not interpreted


def test_class_names_from_weights_are_escaped_in_unknown_class_errors(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    shipped = REPO / "plugins" / "genkit_image" / "weights" / "image-mnist.safetensors"
    with safe_open(str(shipped), "pt") as fh:
        meta = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (safe_open has no iterator)
    names = json.loads(meta["class_names"])
    meta["class_names"] = json.dumps(["\x1b]0;pwned\x07zero", *names[1:]])
    save_file(tensors, str(tmp_path / "w.safetensors"), metadata=meta)
    proc = run_genkit("image", "--weights", tmp_path / "w.safetensors", "--class", "nope", "-o", tmp_path / "a.png")
    assert_user_error(proc, "nope")
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr and "\\x1b" in proc.stderr


def test_file_names_with_escapes_are_shown_escaped(tmp_path):
    proc = run_genkit("image", "--n", "1", "-o", tmp_path / "a\x1b[2Jb.png", check=0)
    assert "\x1b" not in proc.stderr and "\\x1b[2Jb.png" in proc.stderr
    proc = run_genkit("image", "--n", "1", "-o", tmp_path / "a\x1b[2Jb.png")  # exists now: the error line too
    assert_user_error(proc, "already exists")
    assert "\x1b" not in proc.stderr
    listed = run_genkit("logs", "--files", check=0).stdout  # and the history's list of files
    assert "\\x1b[2Jb.png" in listed and "\x1b" not in listed


def test_names_with_a_trailing_newline_are_refused(tmp_path):
    """Python's "$" also matches before a final newline: every name rule uses fullmatch."""
    from genkit import aliases, files, hub
    from genkit.errors import GenkitError
    from genkit.printable import is_name
    from genkit.spec import GeneratorSpec, Option

    with pytest.raises(ValueError):
        GeneratorSpec(name="image\n", modality="image", summary="x", implementation="m:C", outputs=("png",))
    with pytest.raises(ValueError):
        Option("size\n", "int", 1, "x")
    with pytest.raises(GenkitError):
        aliases.check_name("mnist\n")
    assert hub.parse_repo_id("org/name") and hub.parse_repo_id("org/name\n") is None
    assert is_name("image", r"[a-z]+") and not is_name("image\n", r"^[a-z]+$")
    (tmp_path / ".gk-99999999-ab.tmp\n").write_text("a user's file")
    files.clean_stale_temporaries(tmp_path)
    assert (tmp_path / ".gk-99999999-ab.tmp\n").exists()


def test_commands_that_only_describe_a_plugin_never_import_it(tmp_path):
    """Its code runs in genkit's process only when its generator runs (models used to import it for its weights)."""
    (tmp_path / "gk_marker.py").write_text(
        textwrap.dedent(
            """
            import os, pathlib
            pathlib.Path(os.environ["MARKER"]).write_text("imported")
            from genkit import hookimpl
            from genkit.spec import GeneratorSpec

            @hookimpl
            def genkit_register_generators(register):
                register(GeneratorSpec(name="marker", modality="text", summary="m", implementation="gk_marker:X",
                    outputs=("txt",), default_weights="weights/marker.safetensors"))
            """
        )
    )
    marker = tmp_path / "imported"
    env = {
        "PYTHONPATH": str(tmp_path),
        "GENKIT_PLUGINS": "gk_marker",
        "GENKIT_CACHE_DIR": str(tmp_path / "cache"),
        "MARKER": str(marker),
    }
    run_genkit("plugins", env=env, check=0, timeout=60)  # the probe imports it, in a child
    marker.unlink()
    for args in (["models"], ["models", "marker"], ["models", "--json"], ["--help"], ["marker", "--help"]):
        run_genkit(*args, env=env, timeout=60)
        assert not marker.exists(), args
