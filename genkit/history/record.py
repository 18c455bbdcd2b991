"""What one run leaves in the history: its row, a row per file it wrote, and its search entry.

The rows are built from what the run reports (a generation's manifest, a training run's folder)
plus the companions its writers put beside each item (provenance sidecars), so ``genkit logs
--files`` lists every file and ``genkit gallery`` can show each and tell when one has changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from genkit.history import schema
from genkit.provenance import SIDECAR_SUFFIX

TEXT_LIMIT = 64_000  # characters of streamed or written text kept per run
HASH_LIMIT = 256 * 2**20  # files larger than this are recorded by size only


def file_digest(path: Path) -> tuple[str | None, int | None]:
    """(sha256, size) of a regular file; (None, size) past HASH_LIMIT; (None, None) if it is gone."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            return None, None
        if size > HASH_LIMIT:
            return None, size
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest(), size
    except OSError:
        return None, None


def generation_outputs(manifest: dict) -> list[tuple[str, str, int | None]]:
    """(absolute path, role, item index) of every file a generation wrote, items first in order."""
    found: list[tuple[str, str, int | None]] = []
    for row in manifest.get("files") or []:
        index = row.get("index")
        if row.get("path"):
            found.append((row["path"], "item", index))
            sidecar = row["path"] + SIDECAR_SUFFIX
            if os.path.isfile(sidecar):  # a run refuses to start where one exists, so this run wrote it
                found.append((sidecar, "sidecar", index))
        if row.get("piano_roll"):
            found.append((row["piano_roll"], "piano_roll", index))
        found += [(frame, "frame", index) for frame in row.get("frame_files") or []]
    if manifest.get("grid"):
        found.append((manifest["grid"], "grid", None))
    seen, unique = set(), []
    for path, role, index in found:
        path = os.path.abspath(path)  # a relative path means nothing once the shell has moved on
        if path not in seen:
            seen.add(path)
            unique.append((path, role, index))
    return unique


def streamed_text(manifest: dict) -> str | None:
    texts = [row["text"] for row in manifest.get("files") or [] if isinstance(row.get("text"), str)]
    if not texts:
        return None
    joined = "\n\n".join(texts)
    return (
        joined
        if len(joined) <= TEXT_LIMIT
        else joined[:TEXT_LIMIT] + "\n[... cut: the history keeps 64,000 characters]"
    )


def item_seeds(manifest: dict) -> list[str]:
    seeds: list[str] = []
    for row in manifest.get("files") or []:  # one row per file; several -o formats give several files per item
        if row.get("seed") is not None and str(row["seed"]) not in seeds:
            seeds.append(str(row["seed"]))
    return seeds


def training_outputs(out: Path) -> list[tuple[str, str, int | None]]:
    """The files a training run's folder holds after the run (genkit.train.outputs names them)."""
    out = Path(out).absolute()
    found: list[tuple[str, str, int | None]] = []
    for name, role in (("MODEL_CARD.md", "card"), ("loss.png", "plot"), ("checkpoint.safetensors", "checkpoint")):
        if (out / name).is_file():
            found.append((str(out / name), role, None))
    found += [
        (str(p), "weights", None) for p in sorted(out.glob("*.safetensors")) if p.name != "checkpoint.safetensors"
    ]
    samples = out / "samples"
    if samples.is_dir():
        found += [(str(p), "sample", None) for p in sorted(samples.rglob("*")) if p.is_file()][:200]
    return found


def insert(connection, run: dict, outputs: list[tuple[str, str, int | None]]) -> int:
    """Insert one run (a dict of runs columns) with its outputs and search entry; return its id."""
    paths = [path for path, role, _ in outputs]
    values = dict(run, files=json.dumps(paths))
    columns = ", ".join(values)
    cursor = connection.execute(
        f"INSERT INTO runs ({columns}) VALUES ({', '.join('?' * len(values))})", tuple(values.values())
    )
    run_id = cursor.lastrowid
    for position, (path, role, index) in enumerate(outputs):
        digest, size = file_digest(Path(path))
        connection.execute(
            "INSERT INTO outputs (run_id, position, path, role, item, sha256, size) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, position, path, role, index, digest, size),
        )
    connection.execute(
        "INSERT INTO runs_fts (rowid, command, options, text, generator) VALUES (?, ?, ?, ?, ?)",
        (
            run_id,
            run.get("command") or "",
            schema.searchable_options(run.get("options")),
            run.get("text") or "",
            run.get("generator") or "",
        ),
    )
    return run_id


def file_state(output: dict) -> str:
    """'ok' while a recorded file still holds what the run wrote, else 'changed' or 'missing'.

    A link now standing where the run wrote a regular file counts as changed: it points elsewhere.
    A file recorded without a sha256 (an older history, or a very big file) is judged by its size.
    """
    path = Path(output["path"])
    if path.is_symlink():
        return "changed"
    digest, size = file_digest(path) if output.get("sha256") else (None, _size(path))
    if size is None:
        return "missing"
    if output.get("sha256"):
        return "ok" if digest == output["sha256"] else "changed"
    return "ok" if output.get("size") in (None, size) else "changed"


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None
