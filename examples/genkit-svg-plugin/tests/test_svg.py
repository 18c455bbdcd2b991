"""The svg example's tests: genkit's conformance kit, then what a user of `genkit spiro` would notice.

Every CLI check runs the real command in a subprocess (genkit.testing.run is `python -m genkit ...`).
"""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import genkit
from genkit import testing

SVG = "{http://www.w3.org/2000/svg}"


def spiro(*args):
    proc = testing.run("spiro", *args)
    assert proc.returncode == 0, proc.stderr
    return proc


def parse(path):
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg", root.tag
    return root


def test_spiro_conforms_to_the_genkit_contract(tmp_path):
    bad = [["--loops", "2"], ["--colour", "pink"], ["--stroke", "0"], ["--background", "blue"]]
    testing.check_all("spiro", tmp_path, args=["--curves", "2"], bad_options=bad)
    testing.check_generator_class("spiro")


@pytest.mark.fast
def test_entry_module_stays_light():
    code = "import sys, genkit_svg; print(sorted({'numpy', 'torch', 'genkit_svg.generator'} & set(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


@pytest.mark.fast
def test_files_are_svg_drawings_with_one_path_per_curve(tmp_path):
    proc = spiro("--n", "2", "--curves", "4", "--seed", "1", "-o", tmp_path, "--json")
    paths = [row["path"] for row in json.loads(proc.stdout)["files"]]
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["spiro-1-000.svg", "spiro-1-001.svg"]
    for path in paths:
        root = parse(path)
        strokes = root.findall(f"{SVG}g/{SVG}path")
        assert len(strokes) == 4 and all(s.get("d").startswith("M") for s in strokes)
        embedded = json.loads(root.find(f"{SVG}metadata").text)
        sidecar = json.loads(Path(path + ".genkit.json").read_text())
        assert embedded == sidecar and embedded["generator"] == "spiro"


def test_writer_options_change_the_drawing(tmp_path):
    spiro("--seed", "2", "-o", tmp_path / "thin.svg")
    spiro("--seed", "2", "--stroke", "4", "--background", "black", "-o", tmp_path / "bold.svg")
    thin, bold = parse(tmp_path / "thin.svg"), parse(tmp_path / "bold.svg")
    assert thin.find(f"{SVG}g").get("stroke-width") == "1.5"
    assert bold.find(f"{SVG}g").get("stroke-width") == "4"
    assert thin.find(f"{SVG}rect") is None
    assert bold.find(f"{SVG}rect").get("fill") == "#000000"


def test_seed_reproduces_the_file_byte_for_byte(tmp_path):
    spiro("--seed", "9", "--n", "2", "--colour", "rainbow", "-o", tmp_path / "a")
    spiro("--seed", "9", "--colour", "rainbow", "-o", tmp_path / "b")
    first, second = sorted((tmp_path / "a").glob("*.svg"))
    assert first.read_bytes() == (tmp_path / "b" / "spiro-9-000.svg").read_bytes()
    assert first.read_bytes() != second.read_bytes()  # each item has its own seed


def test_existing_file_is_kept_without_overwrite(tmp_path):
    target = tmp_path / "keep.svg"
    spiro("--seed", "1", "-o", target)
    before = target.read_bytes()
    proc = testing.run("spiro", "--seed", "2", "-o", target)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"genkit: error: {target} already exists; pass --overwrite to replace it"
    ]
    assert target.read_bytes() == before
    spiro("--seed", "2", "-o", target, "--overwrite")
    assert target.read_bytes() != before


def test_inspect_prints_the_provenance(tmp_path):
    spiro("--seed", "4", "--loops", "5", "-o", tmp_path / "x.svg")
    proc = testing.run("inspect", tmp_path / "x.svg")
    assert proc.returncode == 0, proc.stderr
    assert "spiro" in proc.stdout and '"loops": 5' in proc.stdout
    assert "genkit spiro --loops 5 --seed 4 --n 1" in proc.stdout


@pytest.mark.fast
def test_help_lists_the_writer_options():
    proc = spiro("--help")
    assert "--stroke" in proc.stdout and "--background" in proc.stdout and "--loops" in proc.stdout


def test_python_api_saves_the_same_file_as_the_cli(tmp_path):
    drawings = genkit.load("spiro").generate(n=2, seed=1)
    assert [d.index for d in drawings] == [0, 1]
    saved = drawings[1].save(tmp_path / "api.svg")
    assert len(parse(saved).findall(f"{SVG}g/{SVG}path")) == 3
    spiro("--seed", "1", "--n", "2", "-o", tmp_path / "cli")
    assert saved.read_bytes() == (tmp_path / "cli" / "spiro-1-001.svg").read_bytes()
    with pytest.raises(genkit.GenkitError, match="already exists"):
        drawings[1].save(saved)


def test_the_recorded_command_reproduces_writer_options(tmp_path):
    spiro("--seed", "3", "--stroke", "4", "-o", tmp_path / "x.svg")
    record = json.loads((tmp_path / "x.svg.genkit.json").read_text())
    assert "--stroke 4" in record["command"]
