"""docs/api.md is run as written: each Python block executes in a fresh folder and must succeed."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import REPO, run_genkit

BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "docs" / "api.md").read_text(), re.S)


def test_the_api_docs_examples_run_as_written(tmp_path):
    assert len(BLOCKS) >= 2
    for k, block in enumerate(BLOCKS):
        proc = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"block {k} failed:\n{block}\n{proc.stderr}"
    assert "refused:" in proc.stdout
    for name in ("three-0.png", "tune.mid", "tune.wav", "romeo.txt", "walk.gif"):
        assert (tmp_path / name).stat().st_size > 0, name


def test_a_saved_file_reproduces_in_its_own_format(tmp_path):
    code = (
        "import genkit\nt = genkit.load('music').generate(seed=3, options={'bars': 2})[0]\n"
        "t.save('a.wav')\nt.save('a.mid')\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, capture_output=True)
    for name in ("a.wav", "a.mid"):
        command = json.loads(run_genkit("inspect", tmp_path / name, "--json", check=0).stdout)["command"]
        manifest = json.loads(run_genkit(*shlex.split(command)[1:], "--json", cwd=tmp_path, check=0).stdout)
        made = Path(manifest["files"][-1]["path"])
        assert made.suffix == Path(name).suffix, command
        if made.suffix == ".mid":  # the same tune, byte for byte
            assert (tmp_path / made).read_bytes() == (tmp_path / name).read_bytes()


def test_options_take_the_users_word_and_keyword_aliases(tmp_path):
    code = (
        "import genkit\ng = genkit.load('image', weights='mnist', device='cpu')\n"
        "a = g.generate(n=2, seed=4, options={'class': '7'})\nb = g.generate(n=2, seed=4, class_='7')\n"
        "assert [x.to_numpy().tobytes() for x in a] == [x.to_numpy().tobytes() for x in b]\n"
        "assert a[0].provenance['options']['class'] == '7' and 'class_' not in a[0].provenance['options']\n"
        "try:\n    g.generate(colour='red')\nexcept genkit.GenkitError as e:\n    print(e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "image has no option(s) colour" in proc.stdout
