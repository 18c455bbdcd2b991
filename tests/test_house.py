"""The house checks itself: the package says it is typed, the quick tier exists, the changelog leads the version."""

import ast
import re
from pathlib import Path

import pytest
from conftest import REPO

import genkit


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; CI runs one
    return tomllib.loads((REPO / "pyproject.toml").read_text())


@pytest.mark.fast
def test_the_package_says_it_is_typed_and_its_build_ships_the_marker():
    assert (Path(genkit.__file__).parent / "py.typed").is_file(), "genkit/py.typed is missing"
    package_data = _pyproject()["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data.get("genkit", []), "py.typed would not reach the wheel"


@pytest.mark.fast
def test_every_module_held_to_strict_types_exists():
    """A module renamed or split without its entry would silently leave the strict check."""
    strict = [o for o in _pyproject()["tool"]["mypy"]["overrides"] if o.get("disallow_untyped_defs")]
    assert strict, "no module is checked strictly"
    for name in strict[0]["module"]:
        path = REPO.joinpath(*name.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), f"{name} is not a module"


def _marks(node: ast.AST) -> set[str]:
    """The pytest marks a decorator or a ``pytestmark`` value names (``pytest.mark.fast``, ``...slow(...)``);
    conftest's ``needs_data(...)`` counts as ``data``."""
    marks = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and getattr(sub.func, "id", "") == "needs_data":
            marks.add("data")
        target = sub.func if isinstance(sub, ast.Call) else sub
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Attribute)
            and target.value.attr == "mark"
        ):
            marks.add(target.attr)
    return marks


def _test_marks() -> dict[str, set[str]]:
    """Every test function under the configured test paths -> the marks it carries (its module's too)."""
    found = {}
    for folder in _pyproject()["tool"]["pytest"]["ini_options"]["testpaths"]:
        for path in sorted((REPO / folder).glob("test_*.py")):
            tree = ast.parse(path.read_text())
            module_marks = set()
            for node in tree.body:
                if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
                    module_marks |= _marks(node.value)
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                    marks = module_marks.union(*(_marks(d) for d in node.decorator_list))
                    found[f"{path.relative_to(REPO)}::{node.name}"] = marks
    return found


@pytest.mark.fast
def test_the_fast_tier_holds_tests_and_none_of_them_is_slow_or_needs_data():
    marks = _test_marks()
    fast = [name for name, m in marks.items() if "fast" in m]
    assert len(fast) >= 20, f"the fast tier has only {len(fast)} tests"
    mixed = [name for name in fast if marks[name] & {"slow", "data"}]
    assert not mixed, f"marked fast but also slow or needing data: {mixed}"


@pytest.mark.fast
def test_the_changelog_leads_the_package_version_and_the_readme_links_the_guides():
    changelog = (REPO / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\]", changelog, re.M)
    assert headings[:1] == ["Unreleased"], "CHANGELOG.md opens with an Unreleased section"
    assert headings[1] == genkit.__version__, (
        f"the last release in CHANGELOG.md is {headings[1]}, the package says {genkit.__version__}"
    )
    readme = (REPO / "README.md").read_text()
    for guide in ("CONTRIBUTING.md", "CHANGELOG.md"):
        assert f"]({guide})" in readme, f"README.md does not link {guide}"
        assert (REPO / guide).is_file()
