"""Provenance: the record each output carries, and reading it back from any genkit file.

A run's record is assembled by genkit.run (the CLI) and genkit.api (``genkit.load``) from the same
fields; what a model adds to it, whether the generator loaded it itself (``load_model``) or through
the loading base (genkit.models), is decided here, once (``model_fields``, ``loaded_fields``). Each
writer stores the record in its format (a PNG text chunk, a GIF comment, a MIDI text event, a sidecar).
"""

from __future__ import annotations

import json
from pathlib import Path

from genkit.errors import GenkitError
from genkit.reading import open_regular, read_regular

PROVENANCE_KEY = "genkit"
SIDECAR_SUFFIX = ".genkit.json"


def model_fields(record: dict) -> dict:
    """The provenance of a model a generator loaded itself (``Generator.load_model``): the record as
    ``model``, its source as ``weights`` and one hash of its weights files as ``weights_sha256`` (the
    file's own sha256 for one file), so the history and `genkit inspect` show it like shipped weights."""
    from genkit.hub import files_digest

    files = record.get("files")
    digest = files_digest(files) if isinstance(files, dict) else None
    return {"model": record, "weights": record.get("source"), "weights_sha256": digest}


def loaded_fields(generator) -> dict:
    """The provenance of the model a generator loaded through genkit.models (its ``loaded``): class,
    config, dtype and parameter count, recorded by the same rule as a ``load_model`` record."""
    from genkit.models import Loaded

    loaded = getattr(generator, "loaded", None)
    return model_fields(loaded.record) if isinstance(loaded, Loaded) else {}


def provenance_text(provenance: dict) -> str:
    return json.dumps(provenance, sort_keys=True, separators=(",", ":"))


MAX_SIDECAR_BYTES = 1 << 20  # a real sidecar is a few hundred bytes
MAX_MIDI_BYTES = 16 << 20  # MIDI files are read whole; genkit's are a few kB


def _parse(raw, where: Path) -> dict:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError):
        raise GenkitError(f"{where}: the genkit provenance is not valid JSON (corrupt file)") from None
    if not isinstance(record, dict):
        raise GenkitError(f"{where}: the genkit provenance is not a JSON object (corrupt file)")
    return record


def read_provenance(path: Path) -> dict:
    """Return the provenance stored in (or beside) a genkit file; reads a bounded amount, never blocks."""
    path = Path(path)
    with open_regular(path, "file"):
        pass  # exists and is a regular file
    sidecar = path if path.name.endswith(SIDECAR_SUFFIX) else path.with_name(path.name + SIDECAR_SUFFIX)
    if sidecar.exists() or sidecar.is_symlink():
        return _parse(read_regular(sidecar, MAX_SIDECAR_BYTES, "sidecar"), sidecar)
    suffix = path.suffix.lower()
    try:
        raw = _embedded(path, suffix)
    except GenkitError:
        raise
    except Exception as exc:
        text = " ".join(str(exc).split())[:200]
        raise GenkitError(f"cannot read {path}: {type(exc).__name__}: {text}") from None
    if raw:
        return _parse(raw, path)
    raise GenkitError(f"{path} carries no genkit provenance")


def _embedded(path: Path, suffix: str):
    """The provenance text embedded in a PNG/GIF/WebP, MP4 or MIDI file, or None."""
    if suffix in (".png", ".gif", ".webp"):
        from PIL import Image

        with open_regular(path, "image") as fh, Image.open(fh) as im:  # reads chunks, not pixels
            return im.info.get(PROVENANCE_KEY) or im.info.get("comment") or im.info.get("xmp")
    if suffix == ".mp4":
        import av

        with av.open(str(path)) as container:
            return container.metadata.get("comment")
    if suffix in (".mid", ".midi"):
        import io

        import mido

        data = read_regular(path, MAX_MIDI_BYTES, "MIDI file")
        for track in mido.MidiFile(file=io.BytesIO(data)).tracks:
            for msg in track:
                if msg.type == "text" and msg.text.startswith(PROVENANCE_KEY + ":"):
                    return msg.text[len(PROVENANCE_KEY) + 1 :]
    return None
