"""File encoders: pixels, frames, MIDI and samples to bytes, with provenance embedded."""

from __future__ import annotations

import io
from typing import Any

from genkit.errors import GenkitError, RunError
from genkit.provenance import PROVENANCE_KEY, provenance_text


def png_bytes(pixels, provenance: dict | None = None, scale: int = 1) -> bytes:
    from PIL import PngImagePlugin

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
    extra: dict[str, Any] = {"loop": 0} if loop else {}
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
    images[0].save(
        buf,
        format="WEBP",
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / fps),
        loop=0,
        lossless=True,
        **extra,
    )
    return buf.getvalue()


def mp4_bytes(frames, fps: float, provenance: dict | None = None, scale: int = 1) -> bytes:
    """H.264 MP4 through PyAV (the optional 'video' extra), provenance in the comment tag."""
    try:
        import av
    except ImportError:
        raise GenkitError("writing .mp4 needs PyAV: pip install 'genkit-local[video]' (or use .gif / .webp)") from None
    from fractions import Fraction

    import numpy as np

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

    samples = np.asarray(samples)
    pcm = np.empty(len(samples), "<i2")
    block = 1 << 20  # convert in blocks: a long tune never exists as float64 all at once
    for start in range(0, len(samples), block):
        chunk = np.clip(samples[start : start + block].astype(np.float64), -1.0, 1.0)
        pcm[start : start + block] = (chunk * 32767).round()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(rate))
        wav.writeframes(pcm.data)  # the array's buffer, not a copy
    return buf.getvalue()


def _to_pil(pixels, scale: int = 1):
    import numpy as np
    from PIL import Image

    array = np.asarray(pixels)
    if array.dtype != np.uint8:
        raise RunError(f"image pixels must be uint8, got {array.dtype}")
    image = Image.fromarray(array)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    return image
