"""`genkit install` / `genkit uninstall`: plugin packages go into the environment genkit runs in.

Each test makes a virtual environment of its own on top of this one (so nothing is installed into the
interpreter running the suite) and a small plugin package; pip builds it offline, without isolation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO

PLUGIN = """
from genkit import GeneratorSpec, TextChunk, hookimpl


@hookimpl
def genkit_register_generators(register):
    register(GeneratorSpec(name="zebra", modality="text", summary="Stripes.", implementation="genkit_zebra:Zebra",
                           outputs=("txt",)))


class Zebra:
    def __init__(self, device, weights=None):
        pass

    def generate(self, n, seed, options, format):
        for i in range(n):
            yield TextChunk(text="|||\\n", index=i, seed=seed, done=True)
"""


@pytest.fixture
def venv(tmp_path):
    """A virtual environment over this interpreter's packages, and the environment its genkit runs with."""
    folder = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", folder], check=True)
    python = folder / ("Scripts" if os.name == "nt" else "bin") / "python"
    env = dict(
        os.environ,
        GENKIT_CACHE_DIR=str(tmp_path / "cache"),
        GENKIT_LOAD_PLUGINS=os.environ.get("GENKIT_LOAD_PLUGINS", "") + ",genkit-zebra",
        PIP_NO_INDEX="1",  # never the network: the package is local and setuptools is already here
        PIP_NO_BUILD_ISOLATION="0",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "plugins"), os.environ.get("PYTHONPATH", "")]),
    )
    return python, env


def package(root):
    (root / "genkit_zebra").mkdir(parents=True)
    (root / "genkit_zebra" / "__init__.py").write_text(PLUGIN)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "genkit-zebra"
            version = "0.1.0"

            [project.entry-points.genkit]
            zebra = "genkit_zebra"
            """
        )
    )
    return root


def genkit_in(venv, *args, cwd=None):
    python, env = venv
    return subprocess.run(
        [str(python), "-m", "genkit", *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def plugin_names(venv) -> dict:
    proc = genkit_in(venv, "plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    return {p["name"]: p for p in json.loads(proc.stdout)["plugins"]}


@pytest.mark.slow
def test_install_e_then_uninstall_y_in_genkits_own_environment(tmp_path, venv):
    source = package(tmp_path / "zebra")
    assert "zebra" not in plugin_names(venv)  # probed and cached before the install
    installed = genkit_in(venv, "install", "-e", source)
    assert installed.returncode == 0, installed.stderr
    assert "plugin zebra (genkit-zebra 0.1.0): zebra" in installed.stderr
    assert plugin_names(venv)["zebra"]["error"] is None  # the cache did not hide it
    made = genkit_in(venv, "zebra", "--seed", "1", cwd=tmp_path)
    assert made.returncode == 0 and made.stdout.startswith("|||\n"), made.stderr
    assert list((tmp_path / "venv").rglob("genkit_zebra-0.1.0.dist-info"))  # in the venv, not elsewhere
    removed = genkit_in(venv, "uninstall", "-y", "genkit-zebra")
    assert removed.returncode == 0, removed.stderr
    assert "zebra" not in plugin_names(venv)


def test_install_mistakes_are_one_line(venv):
    for args, fragment in [
        (["install"], "name a package"),
        (["uninstall", "-y", "genkit-local"], "removes plugins"),
    ]:
        proc = genkit_in(venv, *args)
        assert proc.returncode == 2 and proc.stderr.startswith("genkit: error:") and fragment in proc.stderr, proc
        assert len(proc.stderr.strip().splitlines()) == 1


def test_a_failed_pip_is_exit_1_and_says_so(tmp_path, venv):
    proc = genkit_in(venv, "install", tmp_path / "no-such-package")
    assert proc.returncode == 1 and "genkit: error: pip install failed" in proc.stderr, proc.stderr
