"""Reading what a plugin registers without letting it break genkit.

A third-party plugin's entry module is imported in a child process (``python -m
genkit.plugin_probe``) with a time limit, and what it registered is kept in the user's cache
folder, keyed by the plugin's name, distribution, version and the size and mtime of every source
file of its top-level package (a changed sub-module probes it again).
So a module that hangs, exits, or prints at import costs one probe, once; every later command
reads the cache and imports nothing. The plugin is imported in-process only when one of its
generators runs (``registry.import_object``).

A record is plain JSON: ``{"generators": [...], "kinds": [...], "error": str|None,
"warning": str|None, "version": str, "import_seconds": float}``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from genkit import interrupts, state
from genkit.spec import ArtifactKind, GeneratorSpec, Option

CACHE_ENV = "GENKIT_CACHE_DIR"
TIMEOUT_ENV = "GENKIT_PLUGIN_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
RETRY_TIMEOUT_AFTER = 24 * 3600  # seconds a cached time-out is believed before the plugin is probed again
_TYPES: dict[str, Any] = {cls.__name__: cls for cls in (GeneratorSpec, Option, ArtifactKind)}
_stdout_sink = None  # where guarded code's prints go; the probe child collects them to report


# ---------------------------------------------------------------- guarding in-process code


class PluginFailure(Exception):
    """A plugin raised something genkit must not let through (SystemExit, a stray KeyboardInterrupt...)."""


def describe(exc: BaseException) -> str:
    """One line naming what a plugin did: 'SystemExit: 0', 'RuntimeError: broken'."""
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    text = f"{type(exc).__name__}: {exc}".strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


@contextlib.contextmanager
def guard(what: str, exceptions: bool = True):
    """Run plugin code with stdout sent to stderr, turning any BaseException into PluginFailure.

    A real Ctrl-C (the SIGINT handler saw it) still propagates as KeyboardInterrupt. With
    ``exceptions=False`` ordinary exceptions pass through untouched (the core reports them).
    """
    try:
        with contextlib.redirect_stdout(_stdout_sink or sys.stderr or open(os.devnull, "w")):
            yield
    except KeyboardInterrupt:
        if interrupts.requested():
            raise
        raise PluginFailure(f"{what}: raised KeyboardInterrupt") from None
    except Exception as exc:
        if not exceptions:
            raise
        raise PluginFailure(f"{what}: {describe(exc)}") from exc
    except BaseException as exc:  # SystemExit, GeneratorExit, and  # other BaseException subclasses a plugin may define
        raise PluginFailure(f"{what}: {describe(exc)}") from exc


# ---------------------------------------------------------------- what one plugin registers


def _encode(obj):
    if dataclasses.is_dataclass(obj) and type(obj).__name__ in _TYPES:
        return {"__type__": type(obj).__name__, **{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}}
    raise TypeError(f"{type(obj).__name__} cannot be stored")


def _decode(d: dict):
    kind = d.pop("__type__", None)
    if kind is None:
        return d
    return _TYPES[kind](**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def dumps(record: dict) -> str:
    return json.dumps(record, default=_encode)


def loads(text: str) -> dict:
    return json.loads(text, object_hook=_decode)


def inspect_plugin(name: str, target: str) -> dict:
    """Import one plugin's entry module and collect what its hooks register (in this process)."""
    import pluggy

    from genkit import contract

    record: dict[str, Any] = {
        "generators": [],
        "kinds": [],
        "error": None,
        "warning": None,
        "version": "",
        "import_seconds": 0.0,
    }
    pm = pluggy.PluginManager("genkit")
    pm.add_hookspecs(contract)
    start = time.perf_counter()
    try:
        with guard("import failed"):
            module = importlib.import_module(target.split(":")[0])
        record["version"] = str(getattr(module, "__version__", "") or "")
        with guard("invalid hooks"):
            pm.register(module, name=name)
            pm.check_pending()  # a misspelled hook name is caught here
    except PluginFailure as exc:
        record["error"] = str(exc)
        return record
    finally:
        record["import_seconds"] = time.perf_counter() - start
    try:
        record["generators"] = _call_hook(pm, "genkit_register_generators", GeneratorSpec, module.__name__)
        record["kinds"] = _call_hook(pm, "genkit_register_artifact_kinds", ArtifactKind, None)
    except PluginFailure as exc:
        record["error"] = str(exc)
    return record


def _call_hook(pm, hook_name: str, cls, package: str | None) -> list:
    hook = getattr(pm.hook, hook_name, None)
    if hook is None:
        return []
    found = []

    def register(item):
        if not isinstance(item, cls):
            raise ValueError(f"register() takes a genkit.{cls.__name__}")
        found.append(item)

    with guard("registration failed"):
        for impl in hook.get_hookimpls():
            impl.function(register=register)
    if package is not None:
        found = [dataclasses.replace(s, package=s.package or package) for s in found]
    return found


# ---------------------------------------------------------------- the cache


def cache_dir() -> Path:
    return state.cache_root()


MAX_SOURCE_FILES = 5000  # a plugin package with more is stamped by its first 5000 files
_SOURCE_SUFFIXES = (".py", ".pyi", ".so", ".pyd", ".pth", ".json", ".toml", ".cfg", ".txt")


def _module_files(target: str) -> list[str]:
    """Size and mtime of every source file of the entry module's top-level package (or the module
    itself), found without importing anything: a change to any sub-module changes the key."""
    top = target.split(":")[0].split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    paths = [spec.origin] if spec.origin and os.path.isfile(spec.origin) else []
    for location in spec.submodule_search_locations or []:  # a package (namespace packages have several)
        for folder, subfolders, names in os.walk(location):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__" and not d.startswith("."))
            paths += [os.path.join(folder, n) for n in sorted(names) if n.endswith(_SOURCE_SUFFIXES)]
            if len(paths) > MAX_SOURCE_FILES:
                break
    stamps = []
    for path in dict.fromkeys(paths[:MAX_SOURCE_FILES]):
        with contextlib.suppress(OSError, TypeError):
            st = os.stat(path)
            stamps.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    return stamps


def cache_key(name: str, target: str, distribution: str, version: str) -> str:
    from genkit import __version__

    schema = [sorted(f.name for f in dataclasses.fields(cls)) for cls in _TYPES.values()]
    parts = [name, target, distribution, version, __version__, sys.version, schema, _module_files(target)]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _cache_file() -> Path:
    return cache_dir() / "plugins-v1.json"


def read_cache() -> dict:
    """Cached records by key, each checked; time-outs older than RETRY_TIMEOUT_AFTER are dropped
    (probed again). A damaged file or entry is dropped with one warning, and probed again."""
    path = _cache_file()
    raw = state.read_json(path)
    if raw is None:
        return {}
    now, kept, damaged = time.time(), {}, 0
    for key, text in raw.items():
        record = _checked_record(text)
        if record is None:
            damaged += 1
        elif record.get("retry_after", now) >= now:
            kept[key] = text
    if damaged:
        state.warn_rebuild(path, f"holds {damaged} damaged entr{'y' if damaged == 1 else 'ies'}")
    return kept


def _checked_record(text) -> dict | None:
    """A cache entry decoded, or None unless it has a record's shape (specs and kinds of the right types)."""
    try:
        record = loads(text) if isinstance(text, str) else None
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    shapes = (("generators", list), ("kinds", list), ("version", str), ("import_seconds", (int, float)))
    if not isinstance(record, dict) or not all(isinstance(record.get(k), t) for k, t in shapes):
        return None
    if not all(isinstance(record.get(k), (str, type(None))) for k in ("error", "warning")):
        return None
    if not all(isinstance(s, GeneratorSpec) for s in record["generators"]) or not all(
        isinstance(k, ArtifactKind) for k in record["kinds"]
    ):
        return None
    if not isinstance(record.get("retry_after", 0.0), (int, float)):
        return None
    return record


def write_cache(entries: dict) -> None:
    """Best effort: a read-only home only means probing again next time; a link there is replaced."""
    state.write_json(_cache_file(), entries)


# ---------------------------------------------------------------- probing in child processes


def timeout() -> float:
    try:
        return max(0.1, float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


def probe(plugins: list[tuple[str, str]]) -> dict[str, str]:
    """Probe (name, target) plugins, each in its own child process, all at once; name -> record JSON."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    limit = timeout()
    _clean_stale_probe_folders()
    with tempfile.TemporaryDirectory(prefix=f"genkit-probe-{os.getpid()}-") as folder:
        children = []
        for k, (name, target) in enumerate(plugins):
            out = os.path.join(folder, f"{k}.json")
            proc = subprocess.Popen(
                [sys.executable, "-m", "genkit.plugin_probe", out, name, target],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
            children.append((name, out, proc))
        deadline = time.monotonic() + limit
        return {name: _collect(out, proc, deadline, limit) for name, out, proc in children}


def _clean_stale_probe_folders() -> None:
    """Remove the probe folders of genkit processes killed while probing (their pid is in the name)."""
    import re
    import shutil

    from genkit.files import pid_alive

    with contextlib.suppress(OSError):
        for entry in os.scandir(tempfile.gettempdir()):
            match = re.fullmatch(r"genkit-probe-(\d+)-\w+", entry.name)
            if match and entry.is_dir(follow_symlinks=False) and not pid_alive(int(match.group(1))):
                shutil.rmtree(entry.path, ignore_errors=True)


def _collect(out: str, proc: subprocess.Popen, deadline: float, limit: float) -> str:
    try:
        stdout, stderr = proc.communicate(timeout=max(0.05, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            timed_out = _failed(f"timed out: importing it took over {limit:g} s (set {TIMEOUT_ENV} to wait longer)")
            timed_out["retry_after"] = time.time() + RETRY_TIMEOUT_AFTER  # a busy machine may have been the cause
            return dumps(timed_out)
        try:  # it finished; only its pipes were slow (or a process it started still holds them)
            stdout, stderr = proc.communicate(timeout=1)
        except subprocess.TimeoutExpired:
            stdout, stderr = b"", b""
    try:
        record = loads(Path(out).read_text())
    except (OSError, ValueError, TypeError, KeyError):
        last = (stderr.decode(errors="replace").strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return dumps(_failed(f"import failed: the process ended ({last[:200]})"))
    printed = record.pop("printed", "") or stdout.decode(errors="replace")
    if printed.strip() and not record["error"]:
        shown = printed.strip().splitlines()[0][:60]
        record["warning"] = f"printed to stdout at import ({shown!r}); genkit sends that to stderr"
    return dumps(record)


def _failed(reason: str) -> dict:
    return {"generators": [], "kinds": [], "error": reason, "warning": None, "version": "", "import_seconds": 0.0}


def _child(out: str, name: str, target: str) -> None:
    import io

    global _stdout_sink
    _stdout_sink = io.StringIO()
    try:
        record = inspect_plugin(name, target)
        record["printed"] = _stdout_sink.getvalue()[:1000]
        text = dumps(record)
    except (TypeError, ValueError) as exc:
        text = dumps(_failed(f"registered values genkit cannot keep: {describe(exc)}"))
    with open(out, "w") as fh:
        fh.write(text)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter shutdown: a plugin's atexit or thread must not change the outcome


if __name__ == "__main__":
    _child(*sys.argv[1:4])
