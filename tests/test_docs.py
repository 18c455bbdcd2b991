"""The README's install and test commands are the ones CI runs, so they cannot drift apart."""

import re

import pytest
from conftest import REPO


@pytest.mark.fast
def test_ci_runs_the_readme_install_and_test_commands():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    install = re.search(r"## Install\s+```console\n(.+?)\n```", readme, re.S).group(1).strip()
    test = re.search(r"## Test\s+```console\n(.+?)\n```", readme, re.S).group(1).strip()
    assert install.replace("pip install", "python -m pip install") in ci
    assert test in ci


@pytest.mark.fast
def test_no_absolute_machine_paths_in_the_repository():
    banned = ["/" + "work/", "/" + "root/", "/" + "home/"]  # spelled apart so this file passes
    for path in REPO.rglob("*"):
        if path.suffix in {".py", ".md", ".toml"} and ".git" not in path.parts and "egg-info" not in str(path):
            text = path.read_text(errors="ignore")
            assert not any(b in text for b in banned), path


@pytest.mark.fast
def test_no_absolute_paths_inside_shipped_weights_metadata():
    from genkit import weights

    banned = ["/" + "work/", "/" + "root/", "/" + "home/", "/" + "tmp/"]
    shipped = [
        *REPO.glob("plugins/*/weights/*.safetensors"),
        *REPO.glob("genkit/imaging/weights/*.safetensors"),
        *REPO.glob("integrations/*/*/weights/*.safetensors"),
    ]
    assert any(p.name.startswith("diffusion-") for p in shipped)
    assert any(p.name.startswith("classifier-") for p in shipped)
    for path in shipped:
        text = str(weights.read_header(path).get("__metadata__", {}))
        assert not any(b in text for b in banned), path
