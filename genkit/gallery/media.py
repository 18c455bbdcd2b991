"""The files a gallery shows: checked against the history before any byte leaves, and their previews.

A recorded file is served only while it is the file the run wrote: its path is absolute and
normal (no ``..``), the last component is not a link, it is a regular file, and the bytes read
now hash to the sha256 recorded then. The bytes that were hashed are the bytes served, so a file
swapped between the check and the read is never sent. Previews (thumbnails, a MIDI file's piano
roll and WAV rendering) are cached in the user cache under that sha256.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import sys
from pathlib import Path

MAX_SERVED = 128 * 2**20  # bigger files (weights) are listed, never read into a page
THUMB_SIZE = 256
MAX_PIXELS = 64_000_000  # a picture bigger than this is not decoded for a thumbnail
MIDI_SECONDS, MIDI_NOTES = 600.0, 200_000  # budget for rendering one MIDI file to sound
RENDER_RATE = 22_050

KINDS = {
    "png": "image",
    "jpg": "image",
    "jpeg": "image",
    "svg": "image",
    "gif": "animation",
    "webp": "animation",
    "mp4": "video",
    "wav": "audio",
    "mid": "midi",
    "midi": "midi",
    "txt": "text",
    "md": "text",
    "json": "text",
}
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "svg": "image/svg+xml",
    "gif": "image/gif",
    "webp": "image/webp",
    "mp4": "video/mp4",
    "wav": "audio/wav",
    "mid": "audio/midi",
    "midi": "audio/midi",
    "txt": "text/plain; charset=utf-8",
    "md": "text/plain; charset=utf-8",
    "json": "text/plain; charset=utf-8",  # shown, never interpreted
}


def extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".genkit.json"):
        return "json"
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def kind_of(output: dict) -> str:
    """image, animation, video, audio, midi, text or other: how a page shows this file."""
    return KINDS.get(extension(output["path"]), "other")


def content_type(output: dict) -> str:
    return CONTENT_TYPES.get(extension(output["path"]), "application/octet-stream")


def verified_bytes(output: dict) -> bytes | None:
    """The file's bytes if it is still exactly what the run wrote, else None (moved, changed, a link)."""
    path, recorded = output.get("path"), output.get("sha256")
    if not isinstance(path, str) or not recorded or not os.path.isabs(path) or os.path.normpath(path) != path:
        return None
    if (output.get("size") or 0) > MAX_SERVED:
        return None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not hang us
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SERVED:
            return None
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(MAX_SERVED + 1)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return data if hashlib.sha256(data).hexdigest() == recorded else None


def state(output: dict, thorough: bool = True) -> str:
    """ok, changed, missing or unverified (no sha256 recorded); ``thorough=False`` compares sizes only."""
    if not output.get("sha256"):
        return "unverified"
    path = output["path"]
    try:
        info = os.lstat(path)
    except (OSError, ValueError):
        return "missing"
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode) or info.st_size != output.get("size"):
        return "changed"
    if not thorough or (output.get("size") or 0) > MAX_SERVED:
        return "ok"
    return "ok" if verified_bytes(output) is not None else "changed"


def cache_folder() -> Path:
    """genkit's folder in the user cache (thumbnails and renderings live there)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "genkit" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "genkit"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "genkit"


def _cached(name: str, make) -> bytes | None:
    """The cache entry ``name`` (a sha256 and a suffix), made by ``make()`` when absent or unreadable."""
    folder = cache_folder() / "gallery"
    path = folder / name
    try:
        if path.is_file() and not path.is_symlink():
            return path.read_bytes()
    except OSError:
        pass
    data = make()
    if data is None:
        return None
    try:
        from genkit import files

        folder.mkdir(parents=True, exist_ok=True)
        files.write_atomic(path, data, overwrite=True)
    except Exception:  # a read-only or full cache costs speed, never the page
        pass
    return data


def thumbnail(output: dict) -> bytes | None:
    """A small PNG of a picture or an animation's first frame; None when it cannot be made."""
    if kind_of(output) not in ("image", "animation") or extension(output["path"]) == "svg":
        return None
    return _cached(f"{output['sha256']}-thumb.png", lambda: _make_thumbnail(output))


def _make_thumbnail(output: dict) -> bytes | None:
    from PIL import Image

    data = verified_bytes(output)
    if data is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            image.seek(0)
            frame = image.convert("RGBA")
        frame.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.NEAREST)
        buffer = io.BytesIO()
        frame.save(buffer, "PNG")
        return buffer.getvalue()
    except Exception:
        return None


def midi_roll(output: dict) -> bytes | None:
    """A MIDI file's piano roll as a PNG (pitch up, time right), drawn with pretty_midi."""
    return _cached(f"{output['sha256']}-roll.png", lambda: _render_midi(output, "roll"))


def midi_audio(output: dict) -> bytes | None:
    """A MIDI file rendered to a 16-bit WAV with pretty_midi's sine synthesizer."""
    return _cached(f"{output['sha256']}-render.wav", lambda: _render_midi(output, "audio"))


def _render_midi(output: dict, what: str) -> bytes | None:
    data = verified_bytes(output)
    if data is None:
        return None
    try:
        import numpy as np
        import pretty_midi

        from genkit import encode

        tune = pretty_midi.PrettyMIDI(io.BytesIO(data))
        notes = sum(len(i.notes) for i in tune.instruments)
        if tune.get_end_time() > MIDI_SECONDS or notes > MIDI_NOTES or notes == 0:
            return None
        if what == "audio":
            samples = tune.synthesize(fs=RENDER_RATE)
            peak = float(np.abs(samples).max()) or 1.0
            return encode.wav_bytes(samples / peak * 0.8, RENDER_RATE)
        roll = tune.get_piano_roll(fs=16) > 0
        pitches = np.flatnonzero(roll.any(axis=1))
        roll = roll[max(pitches.min() - 2, 0) : pitches.max() + 3][::-1]
        pixels = np.where(roll, 40, 245).astype(np.uint8)
        scale = max(1, min(8, 640 // max(pixels.shape[1], 1)))
        return encode.png_bytes(np.repeat(np.repeat(pixels, 4, axis=0), 1, axis=1), None, scale)
    except Exception:  # a file pretty_midi cannot read is shown without a rendering
        return None


def text_of(output: dict, limit: int = 200_000) -> str | None:
    data = verified_bytes(output)
    if data is None:
        return None
    text = data[:limit].decode("utf-8", "replace")
    return text + ("\n[... cut]" if len(data) > limit else "")


def thumbnail_possible(output: dict) -> bool:
    return kind_of(output) in ("image", "animation") and bool(output.get("sha256"))
