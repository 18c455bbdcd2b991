"""Find plugins through the ``genkit`` entry-point group and collect their generators.

Built-in plugins (this distribution's own entry points) are imported in-process. A third-party
plugin is probed once in a child process with a time limit and what it registered is cached
(genkit.plugin_probe), so a plugin that raises, exits, prints or hangs at import is reported by
``genkit plugins`` and every other command keeps working without importing it. Its code runs
in-process only when one of its generators does, through ``import_object`` and ``plugin_items``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import import_module
from importlib.metadata import entry_points

from genkit import interrupts, plugin_probe
from genkit.spec import ArtifactKind, GeneratorSpec

# Extra plugin modules to load without installing a package: handy while writing one.
EXTRA_PLUGINS_ENV = "GENKIT_PLUGINS"
# Which installed third-party plugins to load (distribution or entry-point names, comma-separated), as
# llm's LLM_LOAD_PLUGINS: unset loads them all, empty loads none. Built-ins always load. The test suite
# sets it so that a plugin the user installed cannot take a name its fixtures use.
LOAD_PLUGINS_ENV = "GENKIT_LOAD_PLUGINS"

# The module whose genkit_register_artifact_kinds hook declares genkit's own output kinds.
BUILTIN_KINDS = "genkit.writers.builtin"

# genkit's own command names, now and planned: a generator may not take one (typer adds the
# completion options, --install-completion and --show-completion, as options, not names).
RESERVED_NAMES = frozenset(
    {
        "plugins",
        "models",
        "inspect",
        "pull",
        "train",
        "eval",
        "logs",
        "rerun",
        "gallery",
        "help",
        "version",
        "completion",
        "install-completion",
        "show-completion",
        "config",
        "cache",
        "doctor",
        "info",
        "list",
        "run",
        "serve",
        "bench",
        "benchmark",
        "export",
        "convert",
        "update",
        "upgrade",
        "init",
        "new",
        "show",
        "test",
        "check",
        "data",
        "datasets",
        "weights",
        "download",
        "login",
        "debug",
        "genkit",
        "aliases",
        "alias",
        "defaults",
        "install",
        "uninstall",
    }
)


@dataclass
class PluginInfo:
    name: str
    module: str
    distribution: str = ""
    version: str = ""
    builtin: bool = False
    from_env: bool = False  # loaded through $GENKIT_PLUGINS rather than an installed entry point
    import_seconds: float = 0.0
    generators: list[str] = field(default_factory=list)
    error: str | None = None
    warning: str | None = None  # worked, but did something it should not (printed to stdout)
    cached: bool = False  # what it registered was read from the cache, nothing was imported


@dataclass
class Registry:
    plugins: list[PluginInfo]
    generators: dict[str, GeneratorSpec]
    conflicts: list[str]
    # Output kinds and their writers: genkit's own (genkit.writers.builtin), then plugins'.
    kinds: list[ArtifactKind] = field(default_factory=list)

    def get(self, name: str) -> GeneratorSpec:
        from genkit.errors import GenkitError

        if name in self.generators:
            return self.generators[name]
        import difflib

        close = difflib.get_close_matches(name, list(self.generators), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise GenkitError(f"unknown generator {name!r}{hint} (see 'genkit models')")


def _sources() -> list[PluginInfo]:
    """Every plugin to load, described from metadata alone (nothing is imported)."""
    from genkit import __distribution__

    found = []
    limit = os.environ.get(LOAD_PLUGINS_ENV)
    wanted = None if limit is None else {n.lower() for n in _names(limit)}
    for ep in entry_points(group="genkit"):
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else ""
        version = dist.version if dist is not None else ""
        builtin = dist_name == __distribution__
        if not builtin and wanted is not None and not {ep.name.lower(), dist_name.lower()} & wanted:
            continue
        found.append(PluginInfo(ep.name, ep.value, dist_name, version, builtin=builtin))
    extra = _names(os.environ.get(EXTRA_PLUGINS_ENV, ""))
    if extra:
        development_path()
    for module in extra:
        found.append(PluginInfo(module, module, from_env=True))
    return found


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def development_path() -> None:
    """Let this process import $GENKIT_PLUGINS modules from the current folder, as the probe can.

    The probe runs ``python -m``, which puts the current folder first on its path; the installed
    ``genkit`` script does not. Without this a module listed ok by ``genkit plugins`` would fail
    with ModuleNotFoundError when its generator ran (it is added last: it shadows nothing installed).
    """
    import sys

    here = os.getcwd()
    if not any(p in ("", here) for p in sys.path):
        sys.path.append(here)


def _records(plugins: list[PluginInfo]) -> dict[str, dict]:
    """name -> what the plugin registered: built-ins in-process, third parties from the cache or a probe."""
    records = {p.name: plugin_probe.inspect_plugin(p.name, p.module) for p in plugins if p.builtin}
    cache = plugin_probe.read_cache()
    keys = {
        p.name: plugin_probe.cache_key(p.name, p.module, p.distribution, p.version) for p in plugins if not p.builtin
    }
    missing = [(p.name, p.module) for p in plugins if not p.builtin and keys[p.name] not in cache]
    if missing:
        fresh = plugin_probe.probe(missing)
        cache.update({keys[name]: text for name, text in fresh.items()})
        plugin_probe.write_cache(cache)
    for p in plugins:
        if not p.builtin:
            p.cached = (p.name, p.module) not in missing
            try:
                records[p.name] = plugin_probe.loads(cache[keys[p.name]])
            except (ValueError, TypeError, KeyError) as exc:  # a stale or hand-edited cache entry
                records[p.name] = plugin_probe._failed(
                    f"unreadable cache entry ({exc}); delete {plugin_probe.cache_dir()}"
                )
    return records


@lru_cache(maxsize=1)
def load_registry() -> Registry:
    plugins = _sources()
    records = _records(plugins)
    for info in plugins:
        record = records[info.name]
        info.error, info.warning = record["error"], record.get("warning")
        info.version = info.version or record.get("version", "")
        info.import_seconds = record.get("import_seconds", 0.0)
    # The first owner keeps a name: built-ins, then installed third parties alphabetically,
    # then modules named in $GENKIT_PLUGINS (a local experiment never shadows an installed plugin).
    order = sorted((p for p in plugins if not p.error), key=lambda p: (not p.builtin, p.from_env, p.name))
    generators: dict[str, GeneratorSpec] = {}
    conflicts: list[str] = []
    for info in order:
        for spec in records[info.name]["generators"]:
            spec = replace(spec, plugin=info.name)
            if spec.name in RESERVED_NAMES:
                conflicts.append(
                    f"generator {spec.name!r} from plugin {info.name!r} ignored: "
                    f"{spec.name!r} is a genkit command name (reserved)"
                )
            elif spec.name in generators:
                conflicts.append(
                    f"generator {spec.name!r} from plugin {info.name!r} ignored: "
                    f"already registered by {generators[spec.name].plugin!r}"
                )
            else:
                generators[spec.name] = spec
                info.generators.append(spec.name)
    kinds = collect_kinds([(p.name, records[p.name]["kinds"]) for p in order], conflicts)
    return Registry(plugins=plugins, generators=generators, conflicts=conflicts, kinds=kinds)


def collect_kinds(registered: list[tuple[str, list[ArtifactKind]]], conflicts: list[str]) -> list[ArtifactKind]:
    """Built-in artifact kinds, then each plugin's (in owner order); an extension has one owner.

    genkit's own kinds come through the same hook as a plugin's, called on ``BUILTIN_KINDS`` (named,
    not imported here: the writers sit above discovery)."""
    builtin = plugin_probe.inspect_plugin("genkit", BUILTIN_KINDS)
    if builtin["error"]:  # genkit's own module: a broken install, not a user's mistake
        raise RuntimeError(f"genkit's built-in artifact kinds: {builtin['error']}")
    kinds = list(builtin["kinds"])
    owner = {ext: kind for kind in kinds for ext in kind.extensions}
    for name, found in registered:
        for kind in found:
            taken = [e for e in kind.extensions if e in owner]
            if taken:
                conflicts.append(
                    f"artifact kind {kind.name!r} from plugin {name!r} ignored: "
                    f".{taken[0]} is already written by {owner[taken[0]].name!r}"
                )
                continue
            kind = replace(kind, plugin=name)
            kinds.append(kind)
            owner.update(dict.fromkeys(kind.extensions, kind))
    return kinds


def import_object(reference: str, plugin: str, what: str):
    """Import ``"module:Attr"`` from a plugin, guarded: stdout goes to stderr, and an exception,
    SystemExit or stray KeyboardInterrupt at import becomes a RunError naming the plugin."""
    from genkit.errors import RunError

    module_name, _, attr = reference.partition(":")
    try:
        with plugin_probe.guard(f"plugin {plugin!r} could not load {what} from {reference!r}"):
            return getattr(import_module(module_name), attr)
    except plugin_probe.PluginFailure as exc:
        raise RunError(str(exc)) from exc.__cause__  # an ImportError here is the plugin's fault: exit 1


def call_plugin(call, plugin: str, what: str, user_errors: tuple[type[Exception], ...] = ()):
    """``call()``, a light function of ``plugin`` run in this process (a validator, a catalog), guarded as
    ``import_object`` is: any exception but a RunError or one of ``user_errors`` becomes a RunError naming
    the plugin and ``what`` (exit 1)."""
    from genkit.errors import RunError

    passing: tuple[type[Exception], ...] = (RunError, *user_errors)
    try:
        with plugin_probe.guard(f"plugin {plugin!r}: {what}", exceptions=False):
            return call()
    except passing:
        raise
    except plugin_probe.PluginFailure as exc:
        raise RunError(str(exc)) from exc.__cause__
    except Exception as exc:
        raise RunError(f"plugin {plugin!r}: {what} failed: {plugin_probe.describe(exc)}") from exc


def import_implementation(spec: GeneratorSpec):
    """Import the class named by ``spec.implementation`` (this is where torch gets imported).

    The class comes back wrapped so that building it and iterating its ``generate()`` are
    guarded (see ``plugin_items``): a plugin that calls sys.exit mid-run fails the run with exit 1.
    """
    cls = import_object(spec.implementation, spec.plugin, f"generator {spec.name!r}")
    return _guarded_class(cls, f"generator {spec.name!r} (plugin {spec.plugin!r})")


def _guarded_class(cls, where: str):
    if not isinstance(cls, type) or not callable(getattr(cls, "generate", None)):
        return cls  # not a class with generate(): the core's protocol check reports it
    original_init, original_generate = cls.__init__, cls.generate  # type: ignore[misc, attr-defined]  # checked above

    @functools.wraps(original_init)
    def __init__(self, *args, **kwargs):
        _call_guarded(lambda: original_init(self, *args, **kwargs), f"{where} failed to load")

    @functools.wraps(original_generate)
    def generate(self, *args, **kwargs):
        items = _call_guarded(lambda: original_generate(self, *args, **kwargs), f"{where} failed")
        return plugin_items(items, where)

    try:
        return type(
            cls.__name__,
            (cls,),
            {
                "__init__": __init__,
                "generate": generate,
                "__module__": cls.__module__,
                "__doc__": cls.__doc__,
                "__qualname__": cls.__qualname__,
            },
        )
    except TypeError:  # a final class or an unusual metaclass: use it as it is
        return cls


def _call_guarded(call, where: str):
    from genkit.errors import RunError

    try:
        with plugin_probe.guard(where, exceptions=False):  # GenkitError and crashes keep their meaning
            return call()
    except plugin_probe.PluginFailure as exc:
        raise RunError(str(exc)) from exc.__cause__


def plugin_items(items, where: str):
    """Iterate a plugin's ``generate()`` so that it cannot end genkit behind the core's back.

    Anything the plugin prints goes to stderr, keeping stdout for data. A KeyboardInterrupt that
    is not the user's Ctrl-C, and a GeneratorExit the plugin raises itself, become PluginFailure
    (an ordinary exception), so the core fails the run with exit 1 and reports what was written
    instead of printing "interrupted" or ending silently. SystemExit and every other exception
    pass through unchanged for the core's own guard (run.failing_run) to report with the manifest.
    Closing this iterator still closes the plugin's.
    """
    import contextlib
    import sys

    iterator, end = iter(items), object()
    while True:
        try:
            with contextlib.redirect_stdout(sys.stderr):
                item = next(iterator, end)
        except KeyboardInterrupt:
            if interrupts.requested():
                raise
            raise plugin_probe.PluginFailure(f"{where}: raised KeyboardInterrupt, but Ctrl-C was not pressed") from None
        except GeneratorExit:
            raise plugin_probe.PluginFailure(f"{where}: raised GeneratorExit itself") from None
        if item is end:
            return
        yield item
