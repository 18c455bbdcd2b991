"""Shared helpers: tests run the real `genkit` command in a separate process, as a user would (see launcher.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import launcher
import pytest

REPO = Path(__file__).resolve().parents[1]
# The user's own aliases and defaults (genkit.userconfig) never reach a test: each session starts with none.
os.environ.setdefault("GENKIT_CONFIG_DIR", tempfile.mkdtemp(prefix="genkit-test-config-"))
# Runs the tests make are recorded in a throwaway history, never in the user's own (genkit logs).
os.environ.setdefault("GENKIT_LOGS_PATH", str(Path(tempfile.mkdtemp(prefix="genkit-test-logs-")) / "logs.db"))
# Under pytest-xdist (-n auto) each worker gets a core: torch in the worker and the genkit commands it
# starts use one thread each, so the workers do not fight over the cores.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _readme_plugins() -> str:
    """The plugin distributions the README's install command installs (its ``-e PATH`` packages)."""
    import re

    readme = (REPO / "README.md").read_text()
    install = re.search(r"## Install\s+```console\n(.+?)\n```", readme, re.S)
    names = []
    for path in re.findall(r"-e\s+(\S+)", install.group(1) if install else ""):
        pyproject = REPO / path.strip("\"'") / "pyproject.toml"
        found = re.search(r'^name\s*=\s*"([^"]+)"', pyproject.read_text(), re.M) if pyproject.is_file() else None
        names += [found.group(1)] if found else []
    return ",".join(names)


# Discovery sees only what the README installs (and the built-ins): a plugin the user installed
# for themselves cannot take a generator name a test fixture uses (genkit.registry.LOAD_PLUGINS_ENV).
os.environ.setdefault("GENKIT_LOAD_PLUGINS", _readme_plugins())
# The team's datasets live beside the checkout; a user's clone does not have them.
DATA = Path(os.environ.get("GENKIT_DATA", REPO.parent / "shared" / "data"))


def run_genkit(*args, cwd=None, env=None, input=None, timeout=600, check=None):
    """Run `python -m genkit ARGS` and return the CompletedProcess (text mode)."""
    full_env = dict(os.environ)
    full_env.pop("GENKIT_DEVICE", None)
    full_env.update(env or {})
    proc = launcher.run([str(a) for a in args], cwd, full_env, input, timeout)
    if check is not None and proc.returncode != check:
        raise AssertionError(f"exit {proc.returncode}, expected {check}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


def assert_user_error(proc, *fragments):
    """A user mistake: exit 2, exactly one line on stderr starting 'genkit: error:', no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("genkit: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), (fragment, lines[0])


def needs_data(*relative):
    """Skip unless the team's dataset files exist."""
    missing = [r for r in relative if not (DATA / r).exists()]
    return pytest.mark.skipif(bool(missing), reason=f"dataset not available here: {', '.join(missing)} under {DATA}")


@pytest.fixture
def genkit():
    return run_genkit


# The small test plugins in tests/plugins, loaded through $GENKIT_PLUGINS as a developer would.
TINY_PLUGIN_ENV = {
    "PYTHONPATH": str(REPO / "tests" / "plugins") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    "GENKIT_PLUGINS": "genkit_tiny",
    "OMP_NUM_THREADS": "1",
}


@pytest.fixture
def numbers(tmp_path):
    """The tiny trainable plugin's data: twenty numbers in a text file."""
    path = tmp_path / "numbers.txt"
    path.write_text(" ".join(str(k) for k in range(1, 21)))
    return path
