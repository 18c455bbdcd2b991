"""Provenance: the record each output carries, written and read back in one place."""

from __future__ import annotations

import json
from pathlib import Path

from genkit.errors import GenkitError

PROVENANCE_KEY = "genkit"
SIDECAR_SUFFIX = ".genkit.json"


def provenance_text(provenance: dict) -> str:
    return json.dumps(provenance, sort_keys=True, separators=(",", ":"))



def read_provenance(path: Path) -> dict:
    """Return the provenance stored in (or beside) a genkit file."""
    path = Path(path)
    if not path.exists():
        raise GenkitError(f"no such file: {path}")
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if sidecar.exists():
        return json.loads(sidecar.read_text())
    suffix = path.suffix.lower()
    try:
        if suffix in (".png", ".gif", ".webp"):
            from PIL import Image

            with Image.open(path) as im:
                raw = im.info.get(PROVENANCE_KEY) or im.info.get("comment") or im.info.get("xmp")
            if isinstance(raw, bytes):
                raw = raw.decode()
            if raw:
                return json.loads(raw)
        elif suffix == ".mp4":
            import av

            with av.open(str(path)) as container:
                raw = container.metadata.get("comment")
            if raw:
                return json.loads(raw)
        elif suffix in (".mid", ".midi"):
            import mido

            for track in mido.MidiFile(path).tracks:
                for msg in track:
                    if msg.type == "text" and msg.text.startswith(PROVENANCE_KEY + ":"):
                        return json.loads(msg.text[len(PROVENANCE_KEY) + 1 :])
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same answer
        raise GenkitError(f"cannot read {path}: {exc}") from None
    raise GenkitError(f"{path} carries no genkit provenance")
