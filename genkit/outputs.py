"""Writers for every file genkit makes: atomic, never clobbering, each carrying provenance.

A file is written to a hidden temporary name in its folder and then moved into place:
without ``--overwrite`` the move is ``os.link`` (fails if the name exists, so two runs in
one folder never overwrite each other), with it ``os.replace``. Leftover temporaries of
killed runs are removed by the next run that writes into the folder.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import string
from pathlib import Path

from genkit.errors import GenkitError, RunError

PROVENANCE_KEY = "genkit"
SIDECAR_SUFFIX = ".genkit.json"
DEFAULT_FOLDER = "genkit-out"
_TMP = re.compile(r"^\..+\.genkit-(\d+)-[0-9a-f]+\.tmp$")
_PATTERN_FIELDS = {"i", "seed", "n"}


# ---------------------------------------------------------------- planning names


class OutputPlan:
    """Maps item index -> file path for one run, decided before anything is generated."""

    def __init__(self, output: str | None, generator: str, extensions: tuple[str, ...], n: int, seed: int):
        self.n, self.seed = n, seed
        default_ext = extensions[0]
        # A name without an extension is a folder, whether or not it exists yet.
        if output is None or output.endswith(("/", os.sep)) or Path(output).is_dir() or (
            "{" not in output and not Path(output).suffix
        ):
            folder = Path(output) if output else Path(DEFAULT_FOLDER)
            self.pattern = str(folder / f"{generator}-{seed}-{{i:03d}}.{default_ext}")
        elif "{" in output:
            self.pattern = output
        else:
            path = Path(output)
            if n > 1:
                self.pattern = str(path.with_name(f"{path.stem}-{{i:03d}}{path.suffix}"))
            else:
                self.pattern = output.replace("{", "{{").replace("}", "}}")
        self._check_pattern()
        self.ext = self.path(0).suffix.lower().lstrip(".")
        if self.ext not in extensions:
            raise GenkitError(
                f"{generator} cannot write .{self.ext or '(none)'} files; it writes {', '.join('.' + e for e in extensions)}"
            )

    def _check_pattern(self):
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(self.pattern) if f is not None}
            if fields - _PATTERN_FIELDS:
                raise GenkitError(
                    f"output pattern may use {{i}}, {{seed}} and {{n}} only, not {', '.join(sorted(fields - _PATTERN_FIELDS))}"
                )
            for _, field, spec, conversion in string.Formatter().parse(self.pattern):
                if field is None:
                    continue
                if conversion:
                    raise GenkitError(f"output pattern {self.pattern!r}: conversions such as !{conversion} are not allowed")
                text = format(0, spec or "")
                if "/" in text or os.sep in text:
                    raise GenkitError(f"output pattern {self.pattern!r} would put path separators into file names")
            names = {self.path(0), self.path(self.n - 1)}
        except (ValueError, IndexError, KeyError) as exc:
            raise GenkitError(f"bad output pattern {self.pattern!r}: {exc}") from None
        if self.n > 1 and len(names) == 1:
            raise GenkitError(f"output pattern {self.pattern!r} gives every item the same name; add {{i}}")

    def path(self, index: int) -> Path:
        return Path(self.pattern.format(i=index, seed=self.seed, n=self.n))

    def check_free(self, overwrite: bool) -> None:
        """Fail before any work if a target exists (unless --overwrite) or cannot be made."""
        checked = set()
        for index in range(self.n):
            path = self.path(index)
            if path.parent not in checked:
                check_folder(path.parent)
                checked.add(path.parent)
            if path.is_dir():
                raise GenkitError(f"output {path} is a folder")
            if path.exists() and not overwrite:
                raise GenkitError(f"{path} already exists; pass --overwrite to replace it")


def check_folder(folder: Path) -> None:
    """Fail if ``folder`` could not be created or written, without creating anything."""
    folder = Path(folder)
    for parent in [folder, *folder.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise GenkitError(f"cannot create folder {folder}: {parent} is a file")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise GenkitError(f"cannot create folder {folder}: permission denied" if parent != folder
                                  else f"cannot write into {folder}: permission denied")
            return


def prepare_folder(folder: Path) -> None:
    folder = Path(folder)
    if folder.is_dir():
        return
    for parent in [folder, *folder.parents]:
        if parent.exists() and not parent.is_dir():
            raise GenkitError(f"cannot create folder {folder}: {parent} is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        raise GenkitError(f"cannot create folder {folder}: permission denied") from None
    except OSError as exc:
        raise GenkitError(f"cannot create folder {folder}: {exc.strerror}") from None


def clean_stale_temporaries(folder: Path) -> int:
    """Remove temporaries left by genkit processes that no longer run; return how many."""
    removed = 0
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return 0
    for entry in entries:
        match = _TMP.match(entry.name)
        if match and not _pid_alive(int(match.group(1))):
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------- atomic writing


def write_atomic(path: Path, data: bytes, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` via a temporary file; never leaves a half-written ``path``."""
    path = Path(path)
    prepare_folder(path.parent)
    tmp = path.with_name(f".{path.name}.genkit-{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic and refuses an existing name
            except FileExistsError:
                raise GenkitError(f"{path} already exists; pass --overwrite to replace it") from None
    except PermissionError:
        raise GenkitError(f"cannot write {path}: permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise RunError(f"no space left on device while writing {path}; nothing was left half-written") from None
        raise RunError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        try:
            tmp.unlink()
        except OSError:
            pass


# ---------------------------------------------------------------- encoders


def provenance_text(provenance: dict) -> str:
    return json.dumps(provenance, sort_keys=True, separators=(",", ":"))


def png_bytes(pixels, provenance: dict | None = None, scale: int = 1) -> bytes:
    from PIL import Image, PngImagePlugin

    image = _to_pil(pixels, scale)
    info = PngImagePlugin.PngInfo()
    if provenance is not None:
        info.add_text(PROVENANCE_KEY, provenance_text(provenance))
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def gif_bytes(frames, fps: float, provenance: dict | None = None, scale: int = 1, loop: bool = True) -> bytes:
    images = [_to_pil(f, scale) for f in frames]
    if not images:
        raise RunError("an animation needs at least one frame")
    buf = io.BytesIO()
    extra = {"loop": 0} if loop else {}
    if provenance is not None:
        extra["comment"] = provenance_text(provenance).encode()
    images[0].save(
        buf, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), optimize=False, **extra
    )
    return buf.getvalue()


def webp_bytes(frames, fps: float, provenance: dict | None = None, scale: int = 1) -> bytes:
    """Lossless animated WebP (Pillow's encoder); provenance in the XMP field."""
    images = [_to_pil(f, scale) for f in frames]
    buf = io.BytesIO()
    extra = {"xmp": provenance_text(provenance).encode()} if provenance is not None else {}
    images[0].save(buf, format="WEBP", save_all=True, append_images=images[1:], duration=round(1000 / fps),
                   loop=0, lossless=True, **extra)
    return buf.getvalue()


def mp4_bytes(frames, fps: float, provenance: dict | None = None, scale: int = 1) -> bytes:
    """H.264 MP4 through PyAV (the optional 'video' extra), provenance in the comment tag."""
    try:
        import av
    except ImportError:
        raise GenkitError("writing .mp4 needs PyAV: pip install 'genkit[video]' (or use .gif / .webp)") from None
    import numpy as np
    from fractions import Fraction

    images = [np.asarray(_to_pil(f, scale).convert("RGB")) for f in frames]
    h, w = images[0].shape[:2]
    # yuv420p needs even sides; pad by one pixel rather than rescale.
    ph, pw = h + h % 2, w + w % 2
    buf = io.BytesIO()
    container = av.open(buf, mode="w", format="mp4")
    if provenance is not None:
        container.metadata["comment"] = provenance_text(provenance)
    stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
    stream.width, stream.height, stream.pix_fmt = pw, ph, "yuv420p"
    stream.options = {"crf": "18", "threads": "1"}  # one thread: same input, same bytes
    for image in images:
        padded = np.pad(image, ((0, ph - h), (0, pw - w), (0, 0)), mode="edge")
        for packet in stream.encode(av.VideoFrame.from_ndarray(padded, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return buf.getvalue()


def grid(images, columns: int | None = None, pad: int = 2):
    """Tile equally sized uint8 images into one contact sheet (numpy array)."""
    import math

    import numpy as np

    images = [np.asarray(im) for im in images]
    count = len(images)
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    h, w = images[0].shape[:2]
    shape = (rows * (h + pad) + pad, columns * (w + pad) + pad) + images[0].shape[2:]
    sheet = np.zeros(shape, dtype=np.uint8)
    for k, im in enumerate(images):
        r, c = divmod(k, columns)
        sheet[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = im
    return sheet


def midi_bytes(midi, provenance: dict | None = None) -> bytes:
    import pretty_midi

    if provenance is not None:
        midi.text_events = [t for t in midi.text_events if not t.text.startswith(PROVENANCE_KEY + ":")]
        midi.text_events.append(pretty_midi.Text(f"{PROVENANCE_KEY}:{provenance_text(provenance)}", 0.0))
    buf = io.BytesIO()
    midi.write(buf)
    return buf.getvalue()


def wav_bytes(samples, rate: int) -> bytes:
    """16-bit mono PCM; the samples are expected in [-1, 1] and are clipped only as a last guard."""
    import wave

    import numpy as np

    pcm = (np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0) * 32767).round().astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(rate))
        wav.writeframes(pcm.tobytes())
    return buf.getvalue()


def _to_pil(pixels, scale: int = 1):
    import numpy as np
    from PIL import Image

    array = np.asarray(pixels)
    if array.dtype != np.uint8:
        raise RunError(f"image pixels must be uint8, got {array.dtype}")
    image = Image.fromarray(array)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    return image


# ---------------------------------------------------------------- reading provenance back


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
