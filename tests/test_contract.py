"""The plugin contract: one SDK import, documented in full, open to new output kinds, kept small."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest
from conftest import REPO, assert_user_error, run_genkit

import genkit
from genkit import contract, testing

FIXTURES = str(REPO / "tests" / "plugins")
DOC = (REPO / "docs" / "plugins.md").read_text()
BUILT_INS = ("image", "text", "music", "vae", "video")


def points_plugin(tmp_path):
    return {
        "PYTHONPATH": FIXTURES + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "GENKIT_PLUGINS": "genkit_points",
        "GENKIT_CACHE_DIR": str(tmp_path / "cache"),
    }


# ---------------------------------------------------------------- the docs and the code say the same


def test_every_sdk_name_is_documented_and_every_documented_sdk_name_exists():
    documented = set()
    for block in re.findall(r"from genkit import ([^\n]+)", DOC):
        documented |= {name.strip() for name in block.split(",")}
    modules = {name for name in documented if importlib.util.find_spec(f"genkit.{name}")}  # e.g. testing
    assert documented - modules == set(genkit.__all__)


def test_every_hook_is_documented_and_every_documented_hook_exists():
    hooks = {name for name in vars(contract) if name.startswith("genkit_register_")}
    assert hooks == set(re.findall(r"`(genkit_register_\w+)\(", DOC))


@pytest.mark.parametrize("protocol", [contract.Generator, contract.LatentSpace])
def test_every_protocol_member_is_in_its_docs_table_and_nothing_else(protocol):
    table = re.search(rf"\| `{protocol.__name__}` member \|.*?\n\n", DOC, re.S).group(0)
    documented = set(re.findall(r"^\| `(\w+)", table, re.M)) - {protocol.__name__}
    assert documented == set(contract.protocol_members(protocol))


@pytest.mark.parametrize(
    "cls,heading", [(genkit.GeneratorSpec, "GeneratorSpec"), (genkit.ArtifactKind, "ArtifactKind")]
)
def test_every_spec_field_is_documented(cls, heading):
    fields = {f for f in cls.__dataclass_fields__ if f not in ("plugin", "package")}  # filled in by genkit
    documented = set(re.findall(r"^\| `(\w+)` \|", DOC, re.M))
    assert fields <= documented, fields - documented


def test_writer_members_in_the_docs_exist():
    table = re.search(r"\| `Writer` member \|.*?\n\n", DOC, re.S).group(0)
    for name in re.findall(r"^\| `(\w+)\(", table, re.M):
        assert hasattr(genkit.Writer, name), name


# ---------------------------------------------------------------- the house stays small and separate


def _functions(root):
    for path in (REPO / root).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path.relative_to(REPO), node


@pytest.mark.fast
def test_no_function_in_genkit_or_plugins_is_longer_than_a_screen():
    long = [
        f"{p}:{n.name} ({n.end_lineno - n.lineno + 1} lines)"
        for root in ("genkit", "plugins")
        for p, n in _functions(root)
        if n.end_lineno - n.lineno + 1 > 60
    ]
    assert not long, long


@pytest.mark.fast
def test_no_plugin_imports_another_plugin_and_the_core_imports_none():
    plugins = {p.name for p in (REPO / "plugins").iterdir() if p.name.startswith("genkit_")}
    for path in [*(REPO / "plugins").rglob("*.py"), *(REPO / "genkit").rglob("*.py")]:
        relative = path.relative_to(REPO)
        own = relative.parts[1] if relative.parts[0] == "plugins" else None
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            for name in names:
                top = name.split(".")[0]
                assert top not in plugins or top == own, f"{relative} imports {name}"


def test_the_cli_and_the_run_loop_have_no_branch_per_modality_or_artifact_type():
    for module in ("genkit/cli.py", "genkit/run.py", "genkit/commands/generate.py"):
        source = (REPO / module).read_text()
        assert "modality" not in source, module
        assert not re.search(r"isinstance\([^)]*\b(Image|Frames|Midi|Audio|TextChunk)\b", source), module


# ---------------------------------------------------------------- a plugin adds an output kind


def test_a_plugin_adds_an_output_kind_with_its_own_option(tmp_path):
    env = points_plugin(tmp_path)
    help_text = run_genkit("dots", "--help", env=env, check=0).stdout
    assert "--decimals" in help_text and "--grid" not in help_text
    out = tmp_path / "p.xyz"
    run_genkit("dots", "--count", "4", "--decimals", "1", "--seed", "5", "-o", out, env=env, check=0)
    lines = out.read_text().splitlines()
    assert len(lines) == 4 and all(re.fullmatch(r"-?\d\.\d -?\d\.\d 0", line) for line in lines)
    prov = json.loads(run_genkit("inspect", out, "--json", env=env, check=0).stdout)
    assert prov["generator"] == "dots" and prov["format"] == "xyz"
    assert_user_error(run_genkit("dots", "--decimals", "12", "-o", tmp_path / "q.xyz", env=env), "--decimals")


@pytest.mark.fast
def test_an_option_validator_refuses_a_bad_value_before_the_generator_is_imported(tmp_path):
    env = points_plugin(tmp_path)
    out = tmp_path / "p.xyz"
    assert_user_error(run_genkit("dots", "--label", "no spaces!", "-o", out, env=env), "--label", "letters and digits")
    assert not out.exists()
    run_genkit("dots", "--label", "ring7", "--seed", "1", "-o", out, env=env, check=0)
    assert len(out.read_text().splitlines()) == 8


@pytest.mark.parametrize(
    "option,fragment",
    [
        ("--quits", "sys.exit(3)"),
        ("--breaks", "AttributeError"),
        ("--missing", "no_such_function"),
        ("--number", "not a function"),
    ],
)
def test_a_validator_that_fails_is_the_plugins_failure_in_one_line(tmp_path, option, fragment):
    proc = run_genkit("dots", option, "x", "-o", tmp_path / "p.xyz", env=points_plugin(tmp_path))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genkit: error: ") and "genkit_points" in lines[0], proc.stderr
    assert fragment in lines[0] and option in lines[0], lines[0]
    assert not (tmp_path / "p.xyz").exists()


def test_a_validator_must_be_named_as_module_and_function():
    with pytest.raises(ValueError, match="validator"):
        genkit.Option("label", "str", validator="check_label")


def test_uses_torch_must_be_a_bool():
    with pytest.raises(ValueError, match="uses_torch must be True or False"):
        genkit.GeneratorSpec("light", "image", "s", "m:C", ("png",), uses_torch="no")


@pytest.mark.fast
def test_a_kind_that_claims_a_taken_extension_is_a_reported_conflict(tmp_path):
    env = points_plugin(tmp_path)
    conflicts = json.loads(run_genkit("plugins", "--json", env=env, check=0).stdout)["conflicts"]
    assert any("stolen" in c and ".png" in c for c in conflicts), conflicts
    run_genkit("hello", "--seed", "1", "-o", tmp_path / "h.png", env=env, check=0)  # png still genkit's


@pytest.mark.fast
def test_a_generator_missing_part_of_the_protocol_is_named_in_one_line(tmp_path):
    proc = run_genkit("old-dots", "-o", tmp_path / "o.xyz", env=points_plugin(tmp_path))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "genkit: error: generator 'old-dots' of plugin 'genkit_points': generate() must accept n, seed, options, "
        "format (missing format)"
    ]


@pytest.mark.parametrize("generator,out", [("hello", "h.png"), ("spiro", "s.svg")])
def test_a_torch_free_generator_runs_without_importing_torch(tmp_path, generator, out):
    """The example plugins declare uses_torch=False: even with $GENKIT_DEVICE=cuda they run on the
    CPU, import no torch, and say so in their provenance; asking for a GPU with --device is refused."""
    code = (
        "import sys\nfrom genkit.cli import main\n"
        f"try:\n    main([{generator!r}, '--seed', '3', '--quiet', '-o', {out!r}])\n"
        "except SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, GENKIT_DEVICE="cuda"),
    )
    assert proc.returncode == 0, proc.stderr
    prov = json.loads(run_genkit("inspect", tmp_path / out, "--json", check=0).stdout)
    assert prov["device"] == "cpu" and prov["generator"] == generator
    assert_user_error(run_genkit(generator, "--device", "tpu", "-o", tmp_path / "x"), "unknown device")
    assert_user_error(run_genkit(generator, "--device", "cuda", "-o", tmp_path / "x"), "CPU only", "--device cuda")
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- the conformance kit over the house


@pytest.mark.parametrize("name", [*BUILT_INS, "hello"])
def test_every_generator_passes_the_conformance_kit(name):
    testing.check_registration(name)
    testing.check_help_is_light(name)
    testing.check_generator_class(name)


@pytest.mark.parametrize("name,weights", [("image", None), ("image", "mnist"), ("vae", None), ("hello", None)])
def test_every_latent_space_passes_the_conformance_kit(name, weights):
    testing.check_latent_space(name, weights)


def test_weights_from_must_name_one_of_the_generators_options():
    option = genkit.Option("source", "str", None, "another generator")
    spec = genkit.GeneratorSpec("walker", "video", "walks", "m:C", ("gif",), options=(option,), weights_from="source")
    assert spec.weights_from == "source"
    with pytest.raises(ValueError, match="weights_from names no option 'src'"):
        genkit.GeneratorSpec("walker", "video", "walks", "m:C", ("gif",), options=(option,), weights_from="src")
