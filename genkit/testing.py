"""A conformance kit for plugin authors: call these from your own tests.

Each check runs the real ``genkit`` command in a subprocess, as a user would, and raises
AssertionError with the command's output when the plugin breaks the contract::

    from genkit import testing

    def test_conforms(tmp_path):
        testing.check_all("hello", tmp_path, bad_options=[["--size", "0"]])
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genkit.train.protocol import TrainingTask


def run(
    *args: object,
    cwd: str | PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "genkit", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"


Env = Mapping[str, str] | None  # environment additions for the commands a check runs


def check_registration(generator: str, env: Env = None) -> dict[str, Any]:
    """The generator is listed by `genkit models` and its plugin loads without error."""
    proc = run("plugins", "--json", env=env)
    assert proc.returncode == 0, _explain(proc)
    plugins: list[dict[str, Any]] = json.loads(proc.stdout)["plugins"]
    owner = [p for p in plugins if generator in p["generators"]]
    assert owner, f"no plugin registers {generator!r}: {plugins}"
    assert owner[0]["error"] is None, owner[0]["error"]
    models = json.loads(run("models", "--json", env=env).stdout)["generators"]
    assert any(m["name"] == generator for m in models), f"{generator!r} missing from genkit models"
    return owner[0]


def check_help_is_light(generator: str, env: Env = None, heavy: Sequence[str] = ("torch",)) -> None:
    """`genkit GENERATOR --help` works and never imports torch (nor any module in ``heavy``: the
    library a plugin wraps, say); nor do the options' validators."""
    code = (
        "import sys; from genkit.cli import main\n"
        f"try:\n    main([{generator!r}, '--help'])\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        f"heavy = {list(heavy)!r}\n"
        "assert not [m for m in heavy if m in sys.modules], 'imported by --help: ' + str(heavy)\n"
        "from genkit.registry import import_object, load_registry\n"
        f"spec = load_registry().generators[{generator!r}]\n"
        "for opt in spec.options + spec.train_options:\n"
        "    if opt.validator:\n"
        "        assert callable(import_object(opt.validator, spec.plugin, opt.flag)), opt.validator\n"
        "        assert not [m for m in heavy if m in sys.modules], 'the validator of ' + opt.flag + ' is heavy'\n"
    )
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env)
    assert proc.returncode == 0, _explain(proc)
    assert "Usage" in proc.stdout, proc.stdout


def check_seed_reproduces(generator: str, folder: Path, args: Sequence[object] = (), env: Env = None) -> list[Path]:
    """The same seed gives byte-identical files; item i does not depend on --n."""
    folder = Path(folder)
    first = run(generator, *args, "--seed", "7", "--n", "2", "-o", folder / "a", "--json", env=env)
    assert first.returncode == 0, _explain(first)
    second = run(generator, *args, "--seed", "7", "--n", "3", "-o", folder / "b", "--json", env=env)
    assert second.returncode == 0, _explain(second)
    files_a = [Path(f["path"]) for f in json.loads(first.stdout)["files"]]
    files_b = [Path(f["path"]) for f in json.loads(second.stdout)["files"]]
    for a, b in zip(files_a, files_b):
        assert a.read_bytes() == b.read_bytes(), f"{a} and {b} differ although seed and index match"
    return files_a


def check_provenance(path: Path, generator: str, env: Env = None) -> dict[str, Any]:
    """`genkit inspect` reads the provenance back and names a reproducing command."""
    proc = run("inspect", path, "--json", env=env)
    assert proc.returncode == 0, _explain(proc)
    prov: dict[str, Any] = json.loads(proc.stdout)
    assert prov["generator"] == generator, prov
    for key in ("genkit", "seed", "index", "item_seed", "options", "command"):
        assert key in prov, f"provenance lacks {key!r}: {prov}"
    return prov


def check_bad_option(generator: str, args: Sequence[object], folder: Path | None = None, env: Env = None) -> None:
    """A bad option gives exit 2, one line 'genkit: error: ...', no traceback, no file."""
    before = set(Path(folder).rglob("*")) if folder else set()
    proc = run(generator, *args, cwd=folder, env=env)
    assert proc.returncode == 2, _explain(proc)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genkit: error: "), _explain(proc)
    if folder:
        assert set(Path(folder).rglob("*")) == before, "a refused run left files behind"


def check_all(
    generator: str,
    folder: Path,
    args: Sequence[object] = (),
    bad_options: Iterable[Sequence[object]] = (),
    env: Env = None,
    heavy: Sequence[str] = ("torch",),
) -> list[Path]:
    """Every check above, in order, each command run with ``env`` added to its environment; returns
    the files of the seed check (items 0 and 1 of seed 7) for a plugin's own checks."""
    check_registration(generator, env)
    check_help_is_light(generator, env, heavy)
    files = check_seed_reproduces(generator, folder, args, env)
    check_provenance(files[0], generator, env)
    for bad in [["--n", "0"], *bad_options]:
        check_bad_option(generator, bad, folder, env)
    return files


# ---------------------------------------------------------------- no network


_NO_NETWORK = """\
# Written by genkit.testing.offline_env: every socket connection and name lookup in this process
# fails and is logged, so a test can show that a command never reached for the network.
import os, socket


def _refuse(*args, **kwargs):
    with open(os.environ["GENKIT_TEST_NETWORK_LOG"], "a") as log:
        log.write(repr(args[:2])[:200] + "\\n")
    raise OSError("genkit.testing: network access is blocked in this test")


socket.socket.connect = socket.socket.connect_ex = _refuse
socket.create_connection = socket.getaddrinfo = _refuse
"""


def offline_env(folder: Path) -> dict[str, str]:
    """Environment additions under which a genkit command (a subprocess) can open no connection: a
    ``sitecustomize`` in ``folder`` makes socket connects and name lookups fail, and logs each try
    for ``network_attempts``. Pass it as ``env=`` to ``run`` and to the checks above."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_NO_NETWORK)
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "GENKIT_TEST_NETWORK_LOG": str(folder / "attempts.log")}


def network_attempts(env: Mapping[str, str]) -> list[str]:
    """The connections and lookups that commands run with ``offline_env``'s ``env`` tried (all refused)."""
    log = Path(env["GENKIT_TEST_NETWORK_LOG"])
    return log.read_text().splitlines() if log.exists() else []


# ---------------------------------------------------------------- in-process checks against the Protocols


def check_generator_class(generator: str) -> Any:
    """The implementation imports and satisfies genkit.Generator (nothing is loaded or built)."""
    from genkit.contract import Generator, check_implements
    from genkit.registry import import_implementation, load_registry

    spec = load_registry().get(generator)
    cls = import_implementation(spec)
    check_implements(cls, Generator, f"generator {generator!r}")
    if spec.trainable:
        assert callable(getattr(cls, "training_task", None)), f"{generator!r} is trainable but has no training_task"
    return cls


def check_model_loads(generator: str, folder: Path, weights: str | Path | None = None) -> dict[str, Any] | None:
    """A generator whose implementation module declares its weights with ``genkit.models.ModelFormat``
    (for ``generator``) loads its weights (the shipped default, or ``weights``) through it, records what it
    loaded, and what the base saves into ``folder`` loads back the same. None when it declares no format."""
    import importlib

    from genkit import lookup
    from genkit.models import ModelFormat
    from genkit.registry import load_registry

    spec = load_registry().get(generator)
    module = importlib.import_module(spec.implementation.partition(":")[0])
    formats = [f for f in vars(module).values() if isinstance(f, ModelFormat) and f.generator == generator]
    if not formats:
        return None
    path, _ = lookup.resolve(spec, str(weights) if weights else None)
    assert path is not None, f"{generator!r} declares a ModelFormat but has no weights to load"
    loaded = formats[0].load(path, "cpu")
    assert loaded.record["files"] == {path.name: _sha256(path)}, f"{generator!r}: the record names other files"
    again = Path(folder) / path.name
    formats[0].save(again, loaded.module.state_dict(), loaded.config, metadata=loaded.metadata)
    reloaded = formats[0].load(again, "cpu")
    assert reloaded.config == loaded.config, f"{generator!r}: its config does not survive a save and a load"
    mine, theirs = loaded.module.state_dict(), reloaded.module.state_dict()
    assert all(mine[k].equal(theirs[k]) for k in mine), f"{generator!r}: its tensors do not survive a save and a load"
    return loaded.record


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_latent_space(generator: str, weights: str | Path | None = None) -> None:
    """A latent-space generator gives one code per seed, deterministically, and decodes them to uint8 images."""
    import numpy as np

    from genkit.api import load
    from genkit.contract import LatentSpace, check_implements

    impl = load(generator, device="cpu", weights=weights).impl
    check_implements(impl, LatentSpace, f"generator {generator!r}")

    def as_array(x: Any) -> Any:
        return np.asarray(x.detach().cpu() if hasattr(x, "detach") else x)

    codes = impl.sample_latents([1, 2, 1])
    array = as_array(codes)
    assert array.ndim == 2 and array.shape[0] == 3, f"sample_latents gave shape {array.shape}, want (3, d)"
    assert np.array_equal(array[0], array[2]) and not np.array_equal(array[0], array[1]), "latents must follow seeds"
    classes = None
    if impl.class_names:
        classes = np.eye(len(impl.class_names))[[0, 1 % len(impl.class_names), 0]]
    images = np.asarray(as_array(impl.decode(codes, classes=classes)))
    assert images.dtype == np.uint8 and images.shape[0] == 3, f"decode gave {images.dtype} {images.shape}"


def check_training_task(
    generator: str, data: str | PathLike[str], options: dict[str, Any] | None = None
) -> TrainingTask:
    """``training_task`` builds a task that satisfies genkit's TrainingTask Protocol (the loop's own check)."""
    from genkit.train.protocol import adopt

    cls = check_generator_class(generator)
    return adopt(cls.training_task(Path(data), options or {}, None), generator)


# ---------------------------------------------------------------- models as the Hugging Face cache keeps them


def into_hf_cache(folder: Path, cache: Path, repo_id: str, commit: str = "0" * 40, ref: str = "main") -> Path:
    """Lay a model folder out as huggingface_hub's cache does (``models--ORG--NAME/blobs``,
    ``snapshots/COMMIT`` of links to the blobs, ``refs/REF``), so a test can point ``HF_HUB_CACHE`` at
    ``cache`` and use the repo id offline. Large-file blobs are named by their sha256, as the hub names
    them; others by their git blob hash. Returns the snapshot folder."""
    import hashlib

    repo = Path(cache) / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".safetensors":
            blob = hashlib.sha256(data).hexdigest()
        else:
            blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        (repo / "blobs").mkdir(parents=True, exist_ok=True)
        (repo / "blobs" / blob).write_bytes(data)
        link = snapshot / path.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(repo / "blobs" / blob, link.parent))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / ref).write_text(commit)
    return snapshot
