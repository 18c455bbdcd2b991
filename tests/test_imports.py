"""genkit's modules import one way: no circle among them, at module level or inside functions.

The order (docs/plugins.md, "The core's order"): errors and spec, the contract, I/O (files, encode,
provenance, weights, models), discovery (probe, registry, validation, lookup), writers, run and
train, then the API, commands and CLI. A function-level import is a circle too: it only hides one
until the day both modules are needed at once.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "genkit"
# The SDK facade: genkit/__init__.py re-exports the SDK for plugins, so it imports half the core;
# no module inside genkit may import it back (only genkit.__version__ and friends, defined before).
FACADE = "genkit"
FACADE_CONSTANTS = {"__version__", "__distribution__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    return imported_by(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", known)


def imported_by(source: str, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The genkit modules ``source`` imports anywhere in it (``from genkit import x`` counts x if a module)."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    found.add(sub)
                elif base == FACADE and alias.name in FACADE_CONSTANTS:
                    continue  # a constant set first thing in __init__.py: no cycle through the facade
                else:
                    found.add(base)
    edges = set()
    for target in found:
        while target and target not in known:  # genkit.x.y where y is a name in genkit.x
            target = target.rpartition(".")[0]
        if target and target != name:
            edges.add(target)
    return edges


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(path, name, set(known)) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def a_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One circle inside a component, to name in the failure: start -> ... -> start."""
    members, start = set(component), component[0]
    path, seen = [start], {start}
    while True:
        nxt = sorted(n for n in graph[path[-1]] if n in members)
        if start in nxt and len(path) > 1:
            return [*path, start]
        fresh = [n for n in nxt if n not in seen]
        if not fresh:
            return [*path, "..."]
        path.append(fresh[0])
        seen.add(fresh[0])


def test_no_module_of_genkit_imports_in_a_circle():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import circles in genkit/:\n" + "\n".join(
        f"  {' -> '.join(a_path(graph, c))}  (component: {', '.join(c)})" for c in found
    )


# The layers, lowest first (docs/plugins.md, section 10); a module belongs to its longest prefix here.
LAYERS = [
    ("genkit.errors", "genkit.spec", "genkit.printable"),
    ("genkit.contract",),
    (
        "genkit.files",
        "genkit.reading",
        "genkit.encode",
        "genkit.provenance",
        "genkit.weights",
        "genkit.weights_check",
        "genkit.models",
        "genkit.datasets",
        "genkit.device",
        "genkit.state",
        "genkit.hub",
        "genkit.history",  # the run history's store: written by run and train, read by commands
        "genkit.userconfig",
        "genkit.aliases",
        "genkit.defaults",
        "genkit.classnames",
        "genkit.interrupts",
        "genkit.progress",
    ),
    ("genkit.plugin_probe", "genkit.registry", "genkit.validation", "genkit.lookup"),
    # genkit.imaging: the ruler image-like generators are measured with (models, state, files, weights, datasets)
    ("genkit.writers", "genkit.artifacts", "genkit.run", "genkit.train", "genkit.imaging"),
    ("genkit.api", "genkit.commands", "genkit.completion", "genkit.cli", "genkit.train.command", "genkit.gallery"),
    ("genkit.testing", "genkit.__main__"),  # the conformance kit and `python -m genkit` sit on top
]


def layer_of(module: str) -> int | None:
    best, found = -1, None
    for level, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), level
    return found


def test_no_module_imports_one_of_a_higher_layer():
    """Imports point down: a module may import its own layer and those below it, never one above."""
    graph = import_graph()
    upward = []
    for module, deps in sorted(graph.items()):
        own = layer_of(module)
        for dep in sorted(deps):
            theirs = layer_of(dep)
            if own is not None and theirs is not None and theirs > own:
                upward.append(f"{module} -> {dep}")
    assert not upward, "imports that point up the layers (see LAYERS):\n  " + "\n  ".join(upward)


def test_no_inner_module_imports_the_sdk_facade():
    """``from genkit import GenkitError`` inside genkit/ runs __init__.py, which imports the SDK: a circle in waiting."""
    known = modules()
    offenders = sorted(
        name for name, path in known.items() if name != FACADE and FACADE in imported(path, name, set(known))
    )
    assert not offenders, f"import genkit's submodules, not the facade: {', '.join(offenders)}"


def test_the_cycle_finder_finds_a_circle_inside_functions():
    """The finder itself: a circle made of a module-level and a function-level import is reported."""
    graph = {"genkit.a": {"genkit.b"}, "genkit.b": {"genkit.c"}, "genkit.c": {"genkit.a"}, "genkit.d": {"genkit.a"}}
    assert cycles(graph) == [["genkit.a", "genkit.b", "genkit.c"]]
    assert a_path(graph, ["genkit.a", "genkit.b", "genkit.c"]) == ["genkit.a", "genkit.b", "genkit.c", "genkit.a"]
    source = "import genkit.spec\ndef f():\n    from genkit import weights, __version__\n    from .errors import GenkitError\n"
    assert imported_by(source, "genkit.x", False, set(modules())) == {"genkit.spec", "genkit.weights", "genkit.errors"}


def test_a_module_belongs_to_its_longest_prefix():
    assert layer_of("genkit.train.loop") == 4 and layer_of("genkit.train.command") == 5
    assert layer_of("genkit.history.store") == 2 and layer_of("genkit.somewhere_new") is None
    assert layer_of("genkit.imaging.measure") == 4
