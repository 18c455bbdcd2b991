"""Find plugins through the ``genkit`` entry-point group and collect their generators.

Each entry point is imported and registered on its own, inside its own try: one broken
plugin is recorded with its error and every other plugin keeps working. (pluggy's
``load_setuptools_entrypoints`` stops at the first failure, which is what we avoid.)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import import_module
from importlib.metadata import entry_points

import pluggy

from genkit import contract
from genkit.spec import GeneratorSpec

# Extra plugin modules to load without installing a package: handy while writing one.
EXTRA_PLUGINS_ENV = "GENKIT_PLUGINS"


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


@dataclass
class Registry:
    plugins: list[PluginInfo]
    generators: dict[str, GeneratorSpec]
    conflicts: list[str]

    def get(self, name: str) -> GeneratorSpec:
        from genkit.errors import GenkitError

        if name in self.generators:
            return self.generators[name]
        import difflib

        close = difflib.get_close_matches(name, list(self.generators), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise GenkitError(f"unknown generator {name!r}{hint} (see 'genkit models')")


def _entry_point_sources():
    """Yield (name, module, distribution, version, builtin, from_env) for every plugin to load."""
    for ep in entry_points(group="genkit"):
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else ""
        version = dist.version if dist is not None else ""
        yield ep.name, ep.value, dist_name, version, dist_name == "genkit", False
    for module in filter(None, (m.strip() for m in os.environ.get(EXTRA_PLUGINS_ENV, "").split(","))):
        yield module, module, "", "", False, True


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


@lru_cache(maxsize=1)
def load_registry() -> Registry:
    pm = pluggy.PluginManager("genkit")
    pm.add_hookspecs(contract)
    plugins: list[PluginInfo] = []
    modules = {}
    for name, target, dist, version, builtin, from_env in _entry_point_sources():
        info = PluginInfo(name=name, module=target, distribution=dist, version=version, builtin=builtin, from_env=from_env)
        plugins.append(info)
        start = time.perf_counter()
        try:
            module = import_module(target.split(":")[0])
            info.version = info.version or getattr(module, "__version__", "")
            pm.register(module, name=name)
            try:
                pm.check_pending()  # a misspelled hook name is caught here, per plugin
            except pluggy.PluginValidationError:
                pm.unregister(module)
                raise
            modules[name] = module
        except Exception as exc:  # noqa: BLE001 - isolate any plugin failure
            info.error = _error_text(exc)
        info.import_seconds = time.perf_counter() - start

    # The first owner keeps a name: built-ins, then installed third parties alphabetically,
    # then modules named in $GENKIT_PLUGINS (a local experiment never shadows an installed plugin).
    order = sorted((p for p in plugins if p.name in modules), key=lambda p: (not p.builtin, p.from_env, p.name))
    generators: dict[str, GeneratorSpec] = {}
    conflicts: list[str] = []
    for info in order:
        found: list[GeneratorSpec] = []

        def register(spec, _found=found):
            if not isinstance(spec, GeneratorSpec):
                raise ValueError("register() takes a genkit.spec.GeneratorSpec")
            _found.append(spec)

        impls = pm.hook.genkit_register_generators.get_hookimpls()
        try:
            for impl in impls:
                if impl.plugin_name == info.name:
                    impl.function(register=register)
        except Exception as exc:  # noqa: BLE001
            info.error = f"registration failed: {_error_text(exc)}"
            continue
        package = modules[info.name].__name__
        for spec in found:
            spec = replace(spec, plugin=info.name, package=spec.package or package)
            if spec.name in generators:
                owner = generators[spec.name].plugin
                conflicts.append(
                    f"generator {spec.name!r} from plugin {info.name!r} ignored: already registered by {owner!r}"
                )
                continue
            generators[spec.name] = spec
            info.generators.append(spec.name)
    return Registry(plugins=plugins, generators=generators, conflicts=conflicts)


def import_implementation(spec: GeneratorSpec):
    """Import the class named by ``spec.implementation`` (this is where torch gets imported)."""
    module_name, _, attr = spec.implementation.partition(":")
    try:
        module = import_module(module_name)
        return getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        from genkit.errors import RunError

        raise RunError(
            f"plugin {spec.plugin!r} could not load generator {spec.name!r} from {spec.implementation!r}: {exc}"
        ) from exc
