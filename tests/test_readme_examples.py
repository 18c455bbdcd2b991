"""The README's opening examples run as written, in order, in a fresh folder with a fresh history.

Three adaptations, said here rather than hidden: `genkit rerun 12` reruns the first recorded run (ids
are the reader's own), `genkit gallery` writes its static export instead of serving until Ctrl-C, and
each `genkit train` stops after two steps (a whole default run is minutes to hours). The inputs the
examples name (my_digit.png, my_corpus.txt, my_pictures/) are made first.
"""

from __future__ import annotations

import re
import shlex

import pytest
from conftest import REPO, run_genkit
from PIL import Image

ADAPTED = {
    "genkit rerun 12": ["genkit", "rerun", "1"],
    "genkit gallery": ["genkit", "gallery", "--export", "site"],
}


def examples() -> list[list[str]]:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```console\n(.+?)\n```", readme, re.S).group(1)
    lines = [line[2:] for line in block.splitlines() if line.startswith("$ genkit")]
    return [shlex.split(line, comments=True) for line in lines]


def make_inputs(folder) -> None:
    Image.new("L", (28, 28), 0).save(folder / "my_digit.png")
    (folder / "my_corpus.txt").write_text("ROMEO:\nBut soft, what light through yonder window breaks?\n\n" * 300)
    for name, value in (("dark", 40), ("light", 210)):
        (folder / "my_pictures" / name).mkdir(parents=True)
        for k in range(40):
            Image.new("RGB", (32, 32), (value, k * 5, 255 - value)).save(folder / "my_pictures" / name / f"{k}.png")


@pytest.mark.slow
def test_the_readme_examples_run_as_written(tmp_path):
    make_inputs(tmp_path)
    env = {"GENKIT_LOGS_PATH": str(tmp_path / "logs.db"), "GENKIT_CONFIG_DIR": str(tmp_path / "config")}
    ran = []
    for words in examples():
        words = ADAPTED.get(" ".join(words), words)
        if words[:2] == ["genkit", "train"]:
            words = [*words, "--max-steps", "2"]
        proc = run_genkit(*words[1:], cwd=tmp_path, env=env, input="")
        assert proc.returncode == 0, (words, proc.stderr[-2000:])
        ran.append(words[1])
    assert len(ran) >= 20 and {"aliases", "defaults", "train", "eval", "rerun", "inspect"} <= set(ran)


def test_the_install_section_gives_the_cpu_route_and_every_extra():
    import tomllib

    readme = (REPO / "README.md").read_text()
    install = readme[readme.index("## Install") : readme.index("## Test")]
    assert "pip install torch torchaudio --index-url https://download.pytorch.org/whl/cpu" in install
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert all(f"`{name}`" in install for name in extras), [n for n in extras if f"`{n}`" not in install]


def test_the_plugin_guide_names_what_exists():
    from genkit import weights
    from genkit.registry import RESERVED_NAMES

    guide = (REPO / "docs" / "plugins.md").read_text()
    avoid = guide[guide.index("**Names to avoid.**") : guide.index("**While you write it.**")]
    named = re.findall(r"`([a-z-]+)`", avoid.split("A name a built-in")[0])
    assert named and set(named) <= RESERVED_NAMES, set(named) - RESERVED_NAMES
    for helper in ("metadata", "load_tensors", "load_into", "save_tensors"):
        assert f"weights.{helper}(" in guide and callable(getattr(weights, helper))
    assert "evaluate(model, device)` may run without `train_data()`" in guide
    assert '"weights/*.safetensors"' in guide and '"weights/*.safetensors"' in (REPO / "pyproject.toml").read_text()
