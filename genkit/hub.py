"""Models other libraries store: a folder ``save_pretrained`` wrote, or a repo in the local Hugging Face cache.

This is where ``--model`` of a wrapped library's generator (``genkit diffusion --model ORG/NAME``) is
read, the same way for every plugin: an existing folder is that folder; ``ORG/NAME`` (or
``ORG/NAME@REVISION``) is looked up in the user's Hugging Face cache only, through huggingface_hub's
own helpers (``HF_HOME``, ``HF_HUB_CACHE``, ``refs/main``, revisions), and never on the network: a
model that is not on disk is one line naming ``genkit pull ORG/NAME``, the only thing that fetches.

Nothing here imports torch or a model library; huggingface_hub is imported only when a repo id is
looked up, listed or pulled, so the check can run as an option validator before any model loads.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genkit.errors import GenkitError

# Weights formats that are pickles (or may be): genkit never loads them, so a model holding only these is refused.
PICKLE_SUFFIXES = (".bin", ".ckpt", ".pt", ".pth", ".pkl", ".pickle")
# What `genkit pull` leaves on the hub: pickles, and other frameworks' copies of the same weights.
NOT_PULLED = [f"*{s}" for s in PICKLE_SUFFIXES] + ["*.msgpack", "*.h5", "*.onnx", "*.onnx_data", "*.ot", "*.tflite"]
_REPO_ID = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?:@(?P<revision>[\w./-]+))?$")
_BLOB = re.compile(r"^[0-9a-f]{64}$")
HASHES_FILE = "sha256.json"
MAX_REMEMBERED_HASHES = 5000


@dataclass(frozen=True)
class ModelSource:
    """Where a model lives: ``folder`` on disk, and for a cached repo its id and commit hash."""

    given: str
    folder: Path
    repo_id: str | None = None
    revision: str | None = None

    @property
    def name(self) -> str:
        """What provenance and the history call it: the repo id, or the folder as the user gave it."""
        return self.repo_id or self.given

    def weights_files(self) -> list[Path]:
        """Every safetensors file of the model, in a stable order."""
        return sorted(p for p in self.folder.rglob("*.safetensors") if p.is_file())

    def record(self, files: list[Path] | None = None) -> dict[str, Any]:
        """The provenance of what was loaded: source, revision and the sha256 of each weights file."""
        chosen = self.weights_files() if files is None else files
        return {
            "source": self.name,
            "revision": self.revision,
            "files": {p.relative_to(self.folder).as_posix(): file_sha256(p) for p in chosen},
        }


def parse_repo_id(given: str) -> tuple[str, str | None] | None:
    """``ORG/NAME[@REVISION]`` to (repo id, revision), or None when ``given`` is not shaped like one."""
    match = _REPO_ID.fullmatch(given)  # not match: its "$" would take "org/name\n"
    return (match["repo"], match["revision"]) if match else None


def find_model(given: str) -> ModelSource:
    """``--model`` to a model on disk: a folder, else a repo id found in the local Hugging Face cache."""
    path = Path(given).expanduser()
    if path.is_dir():
        return ModelSource(given, path)
    if path.exists():
        raise GenkitError(
            f"--model {given}: a model is a folder (as save_pretrained writes it) or ORG/NAME, not a file"
        )
    parsed = parse_repo_id(given)
    if parsed is None:
        raise GenkitError(f"--model {given}: no such folder, and not a Hugging Face repo id (ORG/NAME)")
    repo_id, revision = parsed
    folder = cached_snapshot(repo_id, revision)
    if folder is None:
        wanted = f"{repo_id}@{revision}" if revision else repo_id
        raise GenkitError(
            f"--model {given}: not in the local Hugging Face cache ({hub_cache()}); fetch it with: genkit pull {wanted}"
        )
    return ModelSource(given, folder, repo_id, folder.name)


def hub_cache() -> str:
    """The Hugging Face cache folder huggingface_hub uses ($HF_HUB_CACHE, else $HF_HOME/hub, ...)."""
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def cached_snapshot(repo_id: str, revision: str | None = None) -> Path | None:
    """The snapshot folder of a cached repo at ``revision`` (a branch through refs/, or a commit), or None."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = snapshot_download(repo_id, revision=revision, local_files_only=True)
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError, OSError):
        return None
    return Path(folder)


def refuse_pickles(source: ModelSource, weights: list[Path] | None = None) -> None:
    """A model must have safetensors weights: one holding only pickles (.bin, .ckpt, ...) is refused."""
    if weights if weights is not None else source.weights_files():
        return
    pickles = sorted(p for p in source.folder.rglob("*") if p.suffix.lower() in PICKLE_SUFFIXES and p.is_file())
    if pickles:
        first = pickles[0].relative_to(source.folder).as_posix()
        raise GenkitError(
            f"--model {source.given}: its weights are pickles only ({first}); genkit loads only .safetensors "
            "and never unpickles"
        )
    raise GenkitError(f"--model {source.given}: holds no .safetensors weights")


# ---------------------------------------------------------------- hashes of weights files


def file_sha256(path: Path) -> str:
    """A weights file's sha256: a cache blob's name (the hub names large files by their sha256), else
    hashed once and remembered by path, size and mtime in genkit's cache folder."""
    target = Path(path).resolve()
    if target.parent.name == "blobs" and _BLOB.fullmatch(target.name):
        return target.name
    from genkit import state

    stat = target.stat()
    key, stamp = str(target), [stat.st_size, stat.st_mtime_ns]
    store = state.cache_root() / HASHES_FILE
    known = state.read_json(store) or {}
    entry = known.get(key)
    if isinstance(entry, dict) and entry.get("stamp") == stamp and isinstance(entry.get("sha256"), str):
        return str(entry["sha256"])
    digest = hashlib.sha256()
    with open(target, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    known[key] = {"stamp": stamp, "sha256": digest.hexdigest()}
    if len(known) > MAX_REMEMBERED_HASHES:  # forget the oldest entries (dicts keep insertion order)
        known = dict(list(known.items())[-MAX_REMEMBERED_HASHES:])
    state.write_json(store, known)
    return str(known[key]["sha256"])


def files_digest(files: dict[str, str]) -> str | None:
    """One hash for a model's weights: the file's own sha256 for one file, else the sha256 of the
    ``sha256sum``-style lines ("HASH  NAME") of all of them in name order."""
    if not files:
        return None
    if len(files) == 1:
        return next(iter(files.values()))
    lines = "".join(f"{sha}  {name}\n" for name, sha in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def stored_parameters(files: list[Path]) -> int:
    """How many numbers the safetensors files hold, read from their headers (nothing is loaded)."""
    from genkit.weights import read_header

    total = 0
    for path in files:
        for name, entry in read_header(path).items():
            if name != "__metadata__" and isinstance(entry, dict):
                count = 1
                for side in entry.get("shape") or []:
                    count *= int(side)
                total += count
    return total


def refuse_oversized(claimed: int, files: list[Path], what: str) -> None:
    """A model built on the meta device from its config (``claimed`` parameters) must fit the weights
    its files hold: a config claiming more is refused before any memory is allocated for it."""
    stored = stored_parameters(files)
    if claimed > stored * 1.01 + 1024:
        raise GenkitError(
            f"{what}: its config describes {claimed:,} parameters but its weights hold {stored:,}; "
            "genkit does not allocate a model its files cannot fill"
        )


# ---------------------------------------------------------------- what is on disk, and fetching more


def cached_models() -> list[dict[str, Any]]:
    """Every model revision in the local Hugging Face cache: id, revision, refs, bytes on disk, folder."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir()
    except (CacheNotFound, OSError, ValueError):
        return []
    rows = []
    for repo in sorted(info.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model":
            continue
        for rev in sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True):
            rows.append(
                {
                    "id": repo.repo_id,
                    "revision": rev.commit_hash,
                    "refs": sorted(rev.refs),
                    "bytes": rev.size_on_disk,
                    "folder": str(rev.snapshot_path),
                }
            )
    return rows


def pull(given: str, include: list[str] | None = None) -> Path:
    """Fetch ``ORG/NAME[@REVISION]`` into the Hugging Face cache (resuming a broken download), its
    safetensors and configs only; a repo without safetensors weights is refused before any download."""
    parsed = parse_repo_id(given)
    if parsed is None:
        raise GenkitError(f"genkit pull {given}: expected a Hugging Face repo id, ORG/NAME or ORG/NAME@REVISION")
    try:  # a dependency of the plugins that run such models, not of genkit itself
        from huggingface_hub import constants
    except ImportError:
        raise GenkitError("genkit pull needs huggingface_hub (pip install huggingface_hub)") from None

    if constants.HF_HUB_OFFLINE:
        raise GenkitError(f"genkit pull {given}: HF_HUB_OFFLINE is set, so nothing may be fetched; unset it to pull")
    repo_id, revision = parsed
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    try:
        names = HfApi().list_repo_files(repo_id, revision=revision)
        if not any(n.endswith(".safetensors") for n in names):
            raise GenkitError(f"{repo_id} has no .safetensors weights; genkit loads no pickles, so it pulls nothing")
        folder = snapshot_download(repo_id, revision=revision, allow_patterns=include, ignore_patterns=NOT_PULLED)
    except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
        raise GenkitError(f"genkit pull {given}: {str(exc).splitlines()[0]}") from None
    except GenkitError:
        raise
    except Exception as exc:  # the network fails in many ways (httpx, ssl, timeouts, the hub's HTTP errors)
        from genkit.errors import RunError

        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise RunError(f"genkit pull {given}: cannot fetch it from the Hugging Face Hub ({reason})") from exc
    return Path(folder)


def offline_by_default() -> None:
    """Make the model libraries this process imports next stay off the network unless the user asked
    (they read HF_HUB_OFFLINE when imported); a user's own HF_HUB_OFFLINE=0 is kept."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
