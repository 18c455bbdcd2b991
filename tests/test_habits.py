"""Habits users bring (issue 34): plugin development mode, isolation from the user's plugins, inspect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, TINY_PLUGIN_ENV, run_genkit
from terminal import in_a_terminal

SCRIPT = Path(sys.executable).parent / ("genkit.exe" if os.name == "nt" else "genkit")

MY_MODULE = """
from genkit import GeneratorSpec, TextChunk, hookimpl


@hookimpl
def genkit_register_generators(register):
    register(GeneratorSpec(name="mygen", modality="text", summary="Mine.", implementation="my_module:Mine",
                           outputs=("txt",)))


class Mine:
    def __init__(self, device, weights=None):
        pass

    def generate(self, n, seed, options, format):
        yield TextChunk(text="mine\\n", index=0, seed=seed, done=True)
"""


@pytest.mark.skipif(not SCRIPT.exists(), reason="the genkit script is not installed beside this Python")
def test_a_development_module_in_the_current_folder_runs_as_it_is_listed(tmp_path):
    # The installed script, not `python -m`: only the script leaves the current folder off the path.
    (tmp_path / "my_module.py").write_text(MY_MODULE)
    env = dict(os.environ, GENKIT_PLUGINS="my_module", GENKIT_CACHE_DIR=str(tmp_path / "cache"))
    listed = subprocess.run([SCRIPT, "plugins", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True)
    mine = next(p for p in json.loads(listed.stdout)["plugins"] if p["name"] == "my_module")
    assert mine["error"] is None and mine["generators"] == ["mygen"]
    ran = subprocess.run([SCRIPT, "mygen", "--seed", "1"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 0 and ran.stdout.startswith("mine"), ran.stderr


USER_PLUGIN = """
from genkit import GeneratorSpec, hookimpl


@hookimpl
def genkit_register_generators(register):
    register(GeneratorSpec(name="tiny", modality="text", summary="The user's own tiny.",
                           implementation="user_tiny:Nothing", outputs=("txt",)))
"""


def installed_elsewhere(root: Path) -> Path:
    """A plugin distribution as pip leaves it (a dist-info with a genkit entry point), named like a fixture."""
    info = root / "user_tiny-1.0.dist-info"
    info.mkdir(parents=True)
    (root / "user_tiny.py").write_text(USER_PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: user-tiny\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[genkit]\nuser_tiny = user_tiny\n")
    return root


def test_the_suite_sees_only_the_plugins_it_installs(tmp_path):
    site = installed_elsewhere(tmp_path / "site")
    env = dict(TINY_PLUGIN_ENV, PYTHONPATH=str(site) + os.pathsep + TINY_PLUGIN_ENV["PYTHONPATH"])
    env["GENKIT_CACHE_DIR"] = str(tmp_path / "cache")

    def tiny_summary(extra):
        models = json.loads(run_genkit("models", "--json", env={**env, **extra}, check=0).stdout)["generators"]
        return next(g["summary"] for g in models if g["name"] == "tiny")

    # As the suite runs genkit: the user's plugin is not discovered, the fixture keeps its name.
    assert tiny_summary({}) == "Linear regression on numbers (test plugin)."
    # Discovery opened to it (as for a user, where nothing limits it): the installed plugin takes the name.
    opened = {"GENKIT_LOAD_PLUGINS": os.environ["GENKIT_LOAD_PLUGINS"] + ",user-tiny"}
    assert tiny_summary(opened) == "The user's own tiny."


def test_the_suite_limits_discovery_to_the_readmes_packages():
    readme = (REPO / "README.md").read_text()
    for name in os.environ["GENKIT_LOAD_PLUGINS"].split(","):
        assert name.removeprefix("genkit-").removesuffix("-plugin") in readme, name


# ---------------------------------------------------------------- progress on every long wait (a terminal)


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, label",
    [
        (["music", "--n", "12", "--bars", "2", "--seed", "1", "-o", "tunes/"], "tunes 1-12, sixteenths"),
        (["text", "ROMEO:", "--max-tokens", "40", "--seed", "1", "-o", "t.txt"], "sample 1 characters"),
        (["eval", "tiny", "--data", "NUMBERS", "--weights", "TRAINED"], "eval tiny"),
        (["train", "tiny", "--data", "NUMBERS", "--max-steps", "2", "--out", "run"], "evaluate tiny"),
    ],
)
def test_long_waits_show_a_bar_in_a_terminal(tmp_path, numbers, args, label):
    if "TRAINED" in args:
        run_genkit("train", "tiny", "--data", numbers, "--out", tmp_path / "trained", env=TINY_PLUGIN_ENV, check=0)
    args = [{"NUMBERS": numbers, "TRAINED": tmp_path / "trained"}.get(a, a) for a in args]
    code, seen = in_a_terminal(args, tmp_path, TINY_PLUGIN_ENV)
    assert code == 0 and label in seen, seen[-2000:]


def test_quiet_silences_the_bars_in_a_terminal(tmp_path):
    code, seen = in_a_terminal(["music", "--n", "12", "--bars", "2", "-o", "tunes/", "--quiet"], tmp_path)
    assert code == 0 and seen.strip() == "", seen[-2000:]


# ---------------------------------------------------------------- inspect shows what the file records


def inspected(path) -> str:
    return run_genkit("inspect", path, check=0).stdout


def test_inspect_shows_the_drawn_class_and_a_tunes_key(tmp_path):
    run_genkit("image", "--seed", "2", "-o", tmp_path / "a.png", check=0)
    drawn = json.loads(run_genkit("inspect", tmp_path / "a.png", "--json", check=0).stdout)["class"]
    assert any(line.split() == ["class", drawn] for line in inspected(tmp_path / "a.png").splitlines())
    run_genkit("music", "--seed", "2", "--bars", "2", "-o", tmp_path / "t.mid", check=0)
    key = json.loads(run_genkit("inspect", tmp_path / "t.mid", "--json", check=0).stdout)["key"]
    assert any(line.split() == ["key", *key.split()] for line in inspected(tmp_path / "t.mid").splitlines())


def test_a_walk_records_the_weights_it_walked_not_the_video_model(tmp_path):
    run_genkit("video", "--source", "image", "--frames", "4", "--seed", "1", "-o", tmp_path / "w.gif", check=0)
    record = json.loads(run_genkit("inspect", tmp_path / "w.gif", "--json", check=0).stdout)
    assert record["weights"] == record["source_weights"] and record["weights"].startswith("image-")
    assert "source_weights" in inspected(tmp_path / "w.gif")


def test_a_grid_sheets_reproduce_command_writes_the_sheet(tmp_path):
    from PIL import Image

    run_genkit("image", "--n", "3", "--seed", "7", "-o", tmp_path / "items/", "--grid", tmp_path / "sheet.png", check=0)
    command = json.loads(run_genkit("inspect", tmp_path / "sheet.png", "--json", check=0).stdout)["command"]
    again = tmp_path / "again"
    again.mkdir()
    run_genkit(*command.split()[1:], cwd=again, check=0)
    with Image.open(tmp_path / "sheet.png") as first, Image.open(again / "reproduced-grid.png") as second:
        assert first.size == second.size and first.tobytes() == second.tobytes()


# ---------------------------------------------------------------- the Python API


API_SCRIPT = """
import json, genkit
text = genkit.load("text", device="cpu")
pieces = list(text.stream(prompt="ROMEO:", seed=3, max_tokens=40))
whole = text.generate(n=1, seed=3, prompt="ROMEO:", max_tokens=40)[0].text
print(json.dumps({"pieces": pieces, "whole": whole, "generators": [g["name"] for g in genkit.generators()],
                  "weights": genkit.weights_for("image")}))
"""


def test_the_api_streams_text_and_lists_generators_weights_and_aliases(tmp_path):
    env = {"GENKIT_CONFIG_DIR": str(tmp_path / "config")}
    shipped = REPO / "plugins" / "genkit_image" / "weights" / "image-mnist.safetensors"
    run_genkit("aliases", "set", "digits", shipped, env=env, check=0)
    proc = subprocess.run([sys.executable, "-c", API_SCRIPT], capture_output=True, text=True, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert len(got["pieces"]) > 1 and "".join(got["pieces"]) == got["whole"]
    assert {"image", "text", "music"} <= set(got["generators"])
    assert got["weights"]["emoji"] == "shipped" and got["weights"]["digits"].startswith("alias for ")


# ---------------------------------------------------------------- help and completion that fit


def test_eval_help_lists_only_what_eval_reads():
    shown = run_genkit("eval", "video", "--help", check=0).stdout
    assert "--eval-sequences" in shown
    assert not any(flag in shown for flag in ("--channels", "--blocks", "--sequences <"))


def completions(words: str, env=None) -> list[str]:
    cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    complete = {"_GENKIT_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword}
    return run_genkit(env={**complete, **(env or {})}, check=0).stdout.split()


def test_completion_offers_weights_names_aliases_keys_and_generators(tmp_path):
    env = {"GENKIT_CONFIG_DIR": str(tmp_path / "config")}
    run_genkit("aliases", "set", "emojis-mine", REPO / "plugins/genkit_image/weights/image-emoji.safetensors", env=env)
    assert completions("genkit image --weights em", env) == ["emoji", "emojis-mine"]
    assert completions("genkit video --source image --weights f", env) == ["fashion"]  # the walked generator's
    assert completions("genkit eval image --weights m", env) == ["mnist"]
    assert completions("genkit music --key Bb") == ["Bb", "Bbm"]
    assert completions("genkit video --source v") == ["vae", "video"]
    assert completions("genkit models m") == ["music"]


def test_models_wraps_summaries_at_80_columns():
    shown = run_genkit("models", env={"COLUMNS": "80"}, check=0).stdout
    assert "…" not in shown and max(len(line) for line in shown.splitlines()) <= 80
    summary = json.loads(run_genkit("models", "--json", check=0).stdout)["generators"][0]["summary"]
    assert summary.split()[-1] in shown  # the whole summary, to its last word


# ---------------------------------------------------------------- small ones


@pytest.mark.slow
def test_ctrl_c_during_streamed_text_prints_its_message_on_a_new_line(tmp_path):
    import pty
    import select
    import signal
    import time

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "genkit", "text", "ROMEO:", "--max-tokens", "10000", "--seed", "1"],
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
    )
    os.close(follower)
    seen, deadline = b"", time.monotonic() + 120
    while len(seen) < 100 and time.monotonic() < deadline:  # some text has streamed
        if select.select([leader], [], [], 1)[0]:
            seen += os.read(leader, 4096)
    proc.send_signal(signal.SIGINT)
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=60)
    os.close(leader)
    text = seen.decode(errors="replace").replace("\r\n", "\n")
    assert proc.returncode == 130 and "genkit: interrupted" in text, text[-500:]
    assert text[text.index("genkit: interrupted") - 1] == "\n", text[-500:]
