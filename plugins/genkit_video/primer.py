"""Reading a primer clip for `genkit video --primer`: the frames the model continues.

Policy (docs/video.md repeats it):

- Sources: an animated GIF, WebP or PNG (Pillow); an MP4, MOV, MKV, WebM or AVI when PyAV is
  installed (the optional ``video`` extra); or a folder of PNG frames, taken in natural name order
  (frame_2 before frame_10). All frames of a folder must have one size.
- Only the last ``keep`` frames matter. Frames are decoded in order and only the last ``keep``
  are kept, so memory stays that of ``keep`` frames however long the clip (time grows with it).
- Each frame becomes grey-scale in [0, 1]: colour by ITU-R 601 luma (Pillow's "L"), 16-bit grey by
  dividing by 65535 (not clipped at 255), 8-bit by 255. A frame that is not square is centre-cropped
  to a square, then resized to the model's size with a Lanczos filter.
- Moving MNIST is light digits on black: if the kept frames are light on average (mean above 0.5),
  they are inverted, so dark-on-light drawings work too.
- Too few frames (a still image counts as one), mixed sizes, a file that is no image or video, or
  a frame above 4096x4096 pixels is a one-line error.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path

import numpy as np

from genkit.errors import GenkitError

MAX_PIXELS = 4096 * 4096  # refuse bigger frames before decoding them
# The whole clip's budget: every frame is decoded to keep the last few, so a small file of many
# large frames (a GIF repeats a frame in a few bytes) is refused from its header or frame count.
MAX_FRAMES = 100_000
MAX_CLIP_PIXELS = 1 << 30
PYAV_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
FOLDER_SUFFIXES = {".png"}


def _natural_key(path: Path):
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def to_unit_grey(frame) -> np.ndarray:
    """A Pillow image of any mode -> float32 (H, W) in [0, 1]."""
    if frame.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: keep its whole range
        return np.clip(np.asarray(frame, dtype=np.float32) / 65535, 0, 1)
    if frame.mode == "F":
        return np.clip(np.asarray(frame, dtype=np.float32), 0, 1)
    return np.asarray(frame.convert("L"), dtype=np.float32) / 255


def fit(grey: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop to a square, then resize to size x size (Lanczos), in [0, 1]."""
    from PIL import Image

    h, w = grey.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = grey[top : top + side, left : left + side]
    if side == size:
        return square.astype(np.float32)
    resized = Image.fromarray(square.astype(np.float32), mode="F").resize((size, size), Image.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def _check_pixels(path: Path, width: int, height: int, frames: int = 1) -> None:
    if width * height > MAX_PIXELS:
        raise GenkitError(
            f"--primer {path}: frames of {width}x{height} pixels are more than the {MAX_PIXELS:,} genkit reads"
        )
    if frames > MAX_FRAMES or frames * width * height > MAX_CLIP_PIXELS:
        raise GenkitError(
            f"--primer {path}: {frames:,} frames of {width}x{height} pixels are more than genkit reads "
            f"(at most {MAX_FRAMES:,} frames and {MAX_CLIP_PIXELS:,} pixels in all)"
        )


def _pillow_frames(path: Path, keep: int, size: int) -> tuple[deque, int]:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    kept, count = deque(maxlen=keep), 0
    try:
        with Image.open(path) as im:
            _check_pixels(path, im.width, im.height)  # before counting: a huge first frame is enough
            _check_pixels(path, im.width, im.height, getattr(im, "n_frames", 1))
            for frame in ImageSequence.Iterator(im):
                kept.append(fit(to_unit_grey(frame), size))
                count += 1
    except UnidentifiedImageError:
        raise GenkitError(f"--primer {path} is not an image, animation or video genkit can read") from None
    except Image.DecompressionBombError as exc:
        raise GenkitError(f"--primer {path} refused as a possible decompression bomb: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise GenkitError(f"--primer {path} could not be decoded (truncated or corrupt): {exc}") from None
    return kept, count


def _pyav_frames(path: Path, keep: int, size: int) -> tuple[deque, int]:
    try:
        import av
    except ImportError:
        raise GenkitError(
            f"--primer {path}: reading {path.suffix} needs PyAV (pip install 'genkit[video]'); "
            "GIF, WebP and PNG folders work without it"
        ) from None
    kept, count = deque(maxlen=keep), 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise GenkitError(f"--primer {path} holds no video stream")
            for frame in container.decode(video=0):  # the frame count of a stream is not always known
                _check_pixels(path, frame.width, frame.height, count + 1)
                kept.append(fit(frame.to_ndarray(format="gray").astype(np.float32) / 255, size))
                count += 1
    except av.error.FFmpegError as exc:
        raise GenkitError(f"--primer {path} could not be decoded as video: {exc}") from None
    return kept, count


def _folder_frames(folder: Path, keep: int, size: int) -> tuple[deque, int]:
    from PIL import Image, UnidentifiedImageError

    paths = sorted((p for p in folder.iterdir() if p.suffix.lower() in FOLDER_SUFFIXES), key=_natural_key)
    if not paths:
        raise GenkitError(f"--primer {folder} holds no .png frames")
    if len(paths) > MAX_FRAMES:
        raise GenkitError(f"--primer {folder} holds {len(paths):,} frames, more than the {MAX_FRAMES:,} genkit reads")
    from genkit.reading import check_regular

    first_size = None
    for path in paths:  # headers only: a size mismatch anywhere is refused, and cheaply
        check_regular(path, "frame")  # a FIFO named like a frame would block Image.open forever
        try:
            with Image.open(path) as im:
                if first_size is None:
                    first_size, first_name = im.size, path.name
                elif im.size != first_size:
                    raise GenkitError(
                        f"--primer {folder}: frames differ in size ({first_name} is "
                        f"{first_size[0]}x{first_size[1]}, {path.name} is {im.width}x{im.height}); "
                        "all frames of a clip must have one size"
                    )
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise GenkitError(f"--primer {folder}: {path.name} is not a PNG genkit can read") from None
    _check_pixels(folder, *first_size)
    kept = deque(maxlen=keep)
    for path in paths[-keep:]:
        kept.append(_pillow_frames(path, 1, size)[0][-1])
    return kept, len(paths)


def read_primer(path, keep: int, size: int) -> np.ndarray:
    """The last ``keep`` frames of the clip at ``path``: float32 (keep, size, size) in [0, 1]."""
    path = Path(path)
    if path.is_dir():
        kept, count = _folder_frames(path, keep, size)
    elif not path.exists():
        raise GenkitError(f"--primer {path}: no such file or folder")
    elif not path.is_file():  # a FIFO or device would be waited on or read forever
        raise GenkitError(f"--primer {path} is not a regular file (a pipe, device or socket); genkit reads only files")
    elif path.suffix.lower() in PYAV_SUFFIXES:
        kept, count = _pyav_frames(path, keep, size)
    else:
        kept, count = _pillow_frames(path, keep, size)
    if count < keep:
        what = "a still image: 1 frame" if count == 1 else f"{count} frames"
        raise GenkitError(
            f"--primer {path} is {what}; continuing a clip needs at least {keep} frames (the model's context)"
        )
    frames = np.stack(kept)
    return 1 - frames if frames.mean() > 0.5 else frames
