"""Plugin discovery: built-ins and third parties alike, failures isolated and reported."""

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import REPO, assert_user_error, run_genkit

FIXTURES = str(REPO / "tests" / "plugins")


def with_plugins(*modules, cache=None):
    env = {"PYTHONPATH": FIXTURES + os.pathsep + os.environ.get("PYTHONPATH", ""), "GENKIT_PLUGINS": ",".join(modules)}
    if cache is not None:
        env["GENKIT_CACHE_DIR"] = str(cache)
    return env


def plugin_table(env=None):
    proc = run_genkit("plugins", "--json", env=env, check=0)
    data = json.loads(proc.stdout)
    return {p["name"]: p for p in data["plugins"]}, data["conflicts"]


@pytest.mark.fast
def test_builtins_and_the_example_plugin_are_listed_with_versions_and_import_times():
    plugins, _ = plugin_table()
    assert plugins["hello"]["builtin"] is False and plugins["hello"]["generators"] == ["hello"]
    assert plugins["hello"]["version"] == "0.1.0"
    for name in ("image", "text", "music"):
        assert plugins[name]["builtin"] is True
    assert all(p["import_seconds"] >= 0 for p in plugins.values())


@pytest.mark.fast
def test_a_plugin_that_raises_at_import_is_reported_and_others_keep_working(tmp_path):
    env = with_plugins("genkit_broken_import")
    plugins, _ = plugin_table(env)
    assert "broken on purpose" in plugins["genkit_broken_import"]["error"]
    run_genkit("hello", "-o", tmp_path / "x.png", env=env, check=0)
    assert (tmp_path / "x.png").exists()
    human = run_genkit("plugins", env=env, check=0)
    assert "genkit_broken_import" in human.stdout


@pytest.mark.fast
def test_a_misspelled_hook_is_caught_by_check_pending():
    plugins, _ = plugin_table(with_plugins("genkit_misspelled"))
    assert "genkit_register_generator" in plugins["genkit_misspelled"]["error"]


@pytest.mark.fast
def test_a_plugin_that_raises_while_registering_is_reported():
    plugins, _ = plugin_table(with_plugins("genkit_raises_on_register"))
    assert "registration exploded" in plugins["genkit_raises_on_register"]["error"]
    assert plugins["hello"]["error"] is None


@pytest.mark.fast
def test_a_duplicate_generator_name_keeps_the_first_owner_and_reports_the_conflict(tmp_path):
    plugins, conflicts = plugin_table(with_plugins("genkit_duplicate"))
    assert plugins["hello"]["generators"] == ["hello"]
    assert plugins["genkit_duplicate"]["generators"] == ["crashy"]
    assert any("'hello'" in c and "genkit_duplicate" in c for c in conflicts)
    models = json.loads(run_genkit("models", "--json", env=with_plugins("genkit_duplicate")).stdout)
    hello = [m for m in models["generators"] if m["name"] == "hello"]
    assert hello[0]["plugin"] == "hello"


def test_a_generator_that_crashes_mid_run_fails_with_exit_1_and_names_itself(tmp_path):
    proc = run_genkit("crashy", "--n", "3", "-o", tmp_path, env=with_plugins("genkit_duplicate"))
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "genkit: error: generator 'crashy' failed while generating (RuntimeError: the model fell over)"
    )
    assert "1 file(s) were written completely" in last
    assert "Traceback" not in proc.stderr
    debug = run_genkit("crashy", "--n", "3", "-o", tmp_path / "d", "--debug", env=with_plugins("genkit_duplicate"))
    assert "Traceback" in debug.stderr


def test_debug_reaches_the_genkit_processes_a_run_starts():
    """--nproc relaunches genkit under torchrun; its workers read --debug from the environment."""
    code = (
        "import os\nfrom genkit.cli import main\n"
        "try:\n    main(['--debug', 'models', 'hello'])\nexcept SystemExit:\n    pass\n"
        "print('child sees', os.environ.get('GENKIT_DEBUG'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "GENKIT_DEBUG"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.stdout.strip().endswith("child sees 1"), proc.stdout + proc.stderr


def test_models_lists_generators_with_weights_and_device():
    models = json.loads(run_genkit("models", "--json", check=0).stdout)["generators"]
    hello = [m for m in models if m["name"] == "hello"][0]
    assert hello["modality"] == "image" and hello["device"] in ("cpu", "cuda", "mps")
    env_device = json.loads(run_genkit("models", "--json", env={"GENKIT_DEVICE": "cpu"}).stdout)
    assert {m["device"] for m in env_device["generators"]} == {"cpu"}
    on_cuda = {
        m["name"]: m["device"]
        for m in json.loads(run_genkit("models", "--json", env={"GENKIT_DEVICE": "cuda"}).stdout)["generators"]
    }
    assert on_cuda["hello"] == "cpu" and on_cuda["image"] == "cuda", on_cuda  # hello uses no torch


LIGHT_COMMANDS = [["--help"], ["plugins"], ["models"], ["hello", "--help"], ["train", "--help"]]


@pytest.mark.fast
def test_help_plugins_and_models_never_import_torch():
    for args in LIGHT_COMMANDS:
        code = (
            "import sys\nfrom genkit.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "assert 'numpy' not in sys.modules, 'numpy imported'\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode == 0, (args, proc.stderr[-500:])


@pytest.mark.fast
def test_an_unknown_generator_suggests_the_close_ones():
    proc = run_genkit("helo")
    assert_user_error(proc, "helo", "hello")


# ---------------------------------------------------------------- hostile plugins (issue 14, class 1 and 2)

HOSTILE_AT_IMPORT = ("genkit_exits_at_import", "genkit_interrupts_at_import", "genkit_hangs_at_import")


def test_plugins_that_exit_raise_base_exceptions_or_hang_at_import_break_nothing_else(tmp_path):
    env = dict(with_plugins(*HOSTILE_AT_IMPORT, cache=tmp_path / "cache"), GENKIT_PLUGIN_TIMEOUT="3")
    plugins, _ = plugin_table(env)  # the first run probes each plugin in a child, the hang for 3 s
    assert "sys.exit(0)" in plugins["genkit_exits_at_import"]["error"]
    assert "Escape" in plugins["genkit_interrupts_at_import"]["error"]
    assert "timed out" in plugins["genkit_hangs_at_import"]["error"]
    assert plugins["hello"]["error"] is None and plugins["hello"]["generators"] == ["hello"]
    start = time.monotonic()
    run_genkit("hello", "-o", tmp_path / "x.png", env=env, check=0)  # no probe: read from the cache
    assert (tmp_path / "x.png").exists()
    assert "hello" in run_genkit("--help", env=env, check=0).stdout
    assert time.monotonic() - start < 30
    again, _ = plugin_table(env)
    assert again["genkit_hangs_at_import"]["cached"] is True and "timed out" in again["genkit_hangs_at_import"]["error"]


@pytest.mark.fast
def test_version_needs_no_plugin_discovery(tmp_path):
    env = dict(with_plugins("genkit_hangs_at_import", cache=tmp_path / "cache"), GENKIT_PLUGIN_TIMEOUT="60")
    proc = run_genkit("--version", env=env, check=0, timeout=20)
    assert proc.stdout.startswith("genkit ")
    assert not (tmp_path / "cache").exists()  # nothing was probed


def test_a_plugin_printing_at_import_cannot_corrupt_json_output(tmp_path):
    env = with_plugins("genkit_hostile", cache=tmp_path / "cache")
    plugins, _ = plugin_table(env)
    assert "printed to stdout" in plugins["genkit_hostile"]["warning"]
    assert plugins["genkit_hostile"]["error"] is None
    models = json.loads(run_genkit("models", "--json", env=env, check=0).stdout)
    assert {"quitter", "chatty"} <= {m["name"] for m in models["generators"]}
    # Its generator prints while importing and while generating: stdout still holds only the manifest.
    proc = run_genkit("chatty", "--n", "2", "--json", "-o", tmp_path / "out", env=env, check=0)
    assert len(json.loads(proc.stdout)["files"]) == 2
    assert "chatty writes to stdout" in proc.stderr


def test_a_generator_calling_sys_exit_mid_run_fails_with_exit_1_keeping_finished_files(tmp_path):
    env = with_plugins("genkit_hostile", cache=tmp_path / "cache")
    proc = run_genkit("quitter", "--n", "4", "-o", tmp_path / "out", "--json", env=env)
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("genkit: error: ") and "SystemExit" in last and "quitter" in last
    assert len(list((tmp_path / "out").glob("*.png"))) == 2
    assert len(json.loads(proc.stdout)["files"]) == 2  # the manifest says what was written
    proc = run_genkit("interrupter", "--n", "2", "-o", tmp_path / "int", env=env)
    assert proc.returncode == 1 and "KeyboardInterrupt" in proc.stderr  # not 130: nobody pressed Ctrl-C


def test_generators_cannot_take_genkit_command_names(tmp_path):
    env = with_plugins("genkit_hostile", cache=tmp_path / "cache")
    plugins, conflicts = plugin_table(env)  # `plugins` is still genkit's own command: its JSON parses
    for name in ("plugins", "inspect", "help"):
        assert any(f"{name!r}" in c and "reserved" in c for c in conflicts), conflicts
        assert name not in plugins["genkit_hostile"]["generators"]
    assert "Print a file" in run_genkit("inspect", "--help", env=env, check=0).stdout


def test_builtins_are_recognised_by_the_distribution_name():
    from genkit import __distribution__

    plugins, _ = plugin_table()
    assert {p["distribution"] for p in plugins.values() if p["builtin"]} == {__distribution__}
    assert plugins["hello"]["builtin"] is False
