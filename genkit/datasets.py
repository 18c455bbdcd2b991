"""Image data readers shared by every image-like plugin.

Two steps, kept apart so a plugin can ask for what its model needs:

1. ``read_image(path)``: one file -> its real values as float32 in [0, 1], (H, W) for grey or
   (H, W, 3) for colour, whatever the bit depth or mode: 16-bit grey PNG (I;16) divided by 65535,
   not clipped to 8 bits; 32-bit integer (I) as 16-bit when its values fit, else by its maximum;
   float (F) clipped to [0, 1] (or divided by its maximum when it is larger than 1); palette, CMYK,
   YCbCr and LAB converted to RGB; the EXIF orientation applied; transparency composed over
   ``BACKGROUND`` (white, as a page shows a transparent drawing). Images of more than
   ``MAX_IMAGE_PIXELS`` pixels are refused before decoding (decompression bombs).
2. ``to_grey``, ``resize``, ``to_uint8``: the conversion to a model's input, e.g. 28x28 grey.

And the training-data layouts ``load(path, split, size, channels, mixed)`` reads into an ``ImageSet``
of uint8 images, (N, S, S) grey or (N, S, S, 3) colour (``--data PATH``; by default 28x28 grey):

- a folder of MNIST-format IDX files, gzip-compressed or raw: ``train-images-idx3-ubyte[.gz]`` +
  ``train-labels-idx1-ubyte[.gz]`` and, for the test split, ``t10k-images...`` + ``t10k-labels...``.
  A folder whose name contains "fashion" gets Fashion-MNIST's class names; otherwise classes are
  named by their digit, or by a ``classes.txt`` (one name a line).
- a folder of images with one sub-folder per class (``DIR/sneaker/001.png``); optional
  ``DIR/train/<class>/`` and ``DIR/test/<class>/`` give the split, else a fixed 1 in 10 of each
  class (a seeded shuffle) is the test split. ``mixed="refuse"`` (the default) wants one size for
  every image (resized to the asked size if it differs); ``mixed="crop"`` takes any sizes and
  aspect ratios, centre-cropping each to a square before resizing. ``size=None`` keeps the data's
  own size (the smallest square side), a callable maps that size to the one used;
  ``channels=None`` gives colour (3) when any image has a pixel whose channels differ, else grey.
  Images smaller than ``MIN_SIDE`` pixels on a side are refused.
- an ``.npz`` with ``x_train, y_train`` (and optionally ``x_test, y_test``), or ``images, labels``
  (then 1 in 10 is held out as above); optional ``class_names``.

Only regular files are read: a FIFO, device or socket is refused, never waited on. Every problem
a user can cause is a GenkitError naming the file.
"""

from __future__ import annotations

import gzip
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genkit.errors import GenkitError
from genkit.reading import check_regular, read_regular

SIZE = 28
# The sizes genkit's picture models build (a 4x4 or 7x7 grid doubled 1 to 5 times): the image GAN's and
# the VAE's, so that one folder trains both.
PICTURE_SIZES = (8, 14, 16, 28, 32, 56, 64, 112, 128)
MIN_SIDE = 8  # smaller pictures hold too little to learn from or to resize faithfully
MAX_IMAGE_PIXELS = 64 * 1024 * 1024  # 8192x8192; bigger files are refused before decoding
MAX_ARCHIVE_BYTES = 8 << 30  # uncompressed size of an .npz or .gz genkit will expand
# A folder's budget, summed from the files' headers before any is decoded: each file may be within
# MAX_IMAGE_PIXELS while a thousand of them would take hours and (kept at KEEP_SIDE while the size
# is unknown) tens of GB.
MAX_DATA_PIXELS = 1 << 33
MAX_DATA_IMAGES = 1_000_000
MAX_KEPT_BYTES = 8 << 30
MAX_INPUT_PIXELS = 1 << 30  # the images one generation run reads (vae --reconstruct's inputs), together
BACKGROUND = 1.0  # transparent pixels are composed over white
FASHION_CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
_IDX_PREFIX = {"train": ("train",), "test": ("t10k", "test")}


@dataclass
class ImageSet:
    images: np.ndarray  # uint8 (N, S, S) grey or (N, S, S, 3) colour
    labels: np.ndarray  # int64 (N,)
    class_names: list[str]

    @property
    def size(self) -> int:
        return int(self.images.shape[1])

    @property
    def channels(self) -> int:
        return 3 if self.images.ndim == 4 else 1


def picture(config: dict) -> tuple[int, int]:
    """(size, channels) of a picture model's config; weights written before these keys existed are 28x28 grey."""
    return int(config.get("size", SIZE)), int(config.get("channels", 1))


# ---------------------------------------------------------------- one image, real values


def read_image(path: Path, background: float = BACKGROUND) -> np.ndarray:
    """One image file -> float32 in [0, 1]: (H, W) grey or (H, W, 3) colour (see the module notes)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    check_regular(path, "image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.width * im.height > MAX_IMAGE_PIXELS:
                    raise GenkitError(
                        f"{path} is {im.width}x{im.height} pixels, more than the "
                        f"{MAX_IMAGE_PIXELS:,} genkit reads (a possible decompression bomb)"
                    )
                im.load()
                return _values(ImageOps.exif_transpose(im), background)
    except GenkitError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise GenkitError(f"{path} refused as a possible decompression bomb: {exc}") from None
    except UnidentifiedImageError:
        raise GenkitError(f"{path} is not an image genkit can read") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise GenkitError(
            f"{path} could not be decoded (truncated or corrupt): {' '.join(str(exc).split())[:160]}"
        ) from None


def _values(im, background: float) -> np.ndarray:
    """A loaded PIL image -> float32 [0, 1] array at its real bit depth, alpha composed."""
    mode = im.mode
    x: np.ndarray
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        x = np.asarray(im, dtype=np.float64)
        top = 65535.0 if mode != "I" or x.max(initial=0) <= 65535 else float(x.max())
        return np.clip(x / top, 0, 1).astype(np.float32)
    if mode == "F":
        x = np.nan_to_num(np.asarray(im, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        top = max(1.0, float(x.max(initial=0)))
        return np.clip(x / top, 0, 1).astype(np.float32)
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode in ("1", "L"):
        im = im.convert("L")
    elif mode in ("LA", "La", "PA"):
        im = im.convert("LA")
    elif mode not in ("RGB", "RGBA"):
        im = im.convert("RGBA" if "A" in mode else "RGB")  # CMYK, YCbCr, LAB, HSV, RGBa, RGBX
    x = np.asarray(im, dtype=np.float32) / 255.0
    if im.mode in ("LA", "RGBA"):
        colour, alpha = x[..., :-1], x[..., -1:]
        x = colour * alpha + background * (1 - alpha)
        x = x[..., 0] if x.shape[-1] == 1 else x
    return x


def to_grey(x: np.ndarray) -> np.ndarray:
    """Colour (H, W, 3) -> luma (H, W) with ITU-R 601 weights (as PIL's "L"); grey is returned as is."""
    if x.ndim == 2:
        return x
    return (x[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).astype(np.float32)


def to_colour(x: np.ndarray) -> np.ndarray:
    """Grey (H, W) -> (H, W, 3) with the grey value in every channel; colour is returned as is."""
    return x if x.ndim == 3 else np.repeat(x[..., None], 3, axis=2)


def is_colour(x: np.ndarray) -> bool:
    """True when some pixel's channels differ by more than one 8-bit step (an RGB file of greys is grey)."""
    return x.ndim == 3 and float(np.ptp(x, axis=2).max(initial=0)) > 1 / 255


def centre_square(x: np.ndarray) -> np.ndarray:
    """The largest centred square of an (H, W[, 3]) image."""
    h, w = x.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return x[top : top + side, left : left + side]


def resize(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Lanczos-resize a float (H, W) or (H, W, 3) image to ``size`` = (width, height), keeping float values."""
    from PIL import Image

    if (x.shape[1], x.shape[0]) == tuple(size):
        return x
    if x.ndim == 3:
        return np.stack([resize(x[..., c], size) for c in range(x.shape[2])], axis=2)
    return np.clip(np.asarray(Image.fromarray(x.astype(np.float32), "F").resize(size, Image.Resampling.LANCZOS)), 0, 1)


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 255), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- IDX


def size_rule(asked: int | None, sizes: tuple[int, ...]):
    """``--size``: the asked size, checked against what a network supports, or (None asked) the rule
    that rounds the data's own size down to a supported one, so pictures are never enlarged."""
    if asked is not None:
        if asked not in sizes:
            raise GenkitError(f"--size {asked} is not supported; choose one of {', '.join(map(str, sizes))}")
        return asked

    def rounded(native: int) -> int:
        fits = [s for s in sizes if s <= native]
        if not fits:
            raise GenkitError(f"the data's images are {native} pixels across; genkit trains on at least {sizes[0]}")
        return fits[-1]

    return rounded


def _read_bytes(path: Path) -> bytes:
    check_regular(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                data = fh.read(MAX_ARCHIVE_BYTES + 1)
            if len(data) > MAX_ARCHIVE_BYTES:
                raise GenkitError(f"{path} expands to more than {MAX_ARCHIVE_BYTES >> 30} GB; genkit does not read it")
            return data
        return path.read_bytes()
    except EOFError:
        raise GenkitError(f"{path} is truncated (its gzip stream ends early)") from None
    except (OSError, gzip.BadGzipFile) as exc:
        raise GenkitError(f"cannot read {path}: {exc}") from None


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file of unsigned bytes: magic 0x0000 0x08 NDIM, NDIM big-endian sizes, data."""
    raw = _read_bytes(Path(path))
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise GenkitError(f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    if raw[2] != 0x08:
        raise GenkitError(f"{path}: IDX element type 0x{raw[2]:02x} is not supported (only unsigned bytes, 0x08)")
    ndim = raw[3]
    if ndim not in (1, 3):
        raise GenkitError(f"{path}: an IDX file with {ndim} dimensions is neither images (3) nor labels (1)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise GenkitError(f"{path} is truncated (header cut short)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header < expected:
        raise GenkitError(f"{path} is truncated: header says {shape} ({expected} bytes) but {len(raw) - header} follow")
    return np.frombuffer(raw, dtype=np.uint8, count=expected, offset=header).reshape(shape)


def _find_idx(folder: Path, split: str, kind: str) -> Path | None:
    dims = "idx3" if kind == "images" else "idx1"
    for prefix in _IDX_PREFIX[split]:
        for sep in ("-", "."):  # train-images-idx3-ubyte and train-images.idx3-ubyte both circulate
            for ext in ("", ".gz"):
                path = folder / f"{prefix}-{kind}{sep}{dims}-ubyte{ext}"
                if path.exists():
                    return path
    return None


def _idx_class_names(folder: Path, labels: np.ndarray) -> list[str]:
    listed = folder / "classes.txt"
    if listed.exists():
        text = read_regular(listed, 1 << 20, "class list").decode("utf-8", errors="replace")
        return [line.strip() for line in text.splitlines() if line.strip()]
    count = int(labels.max()) + 1 if labels.size else 0
    if "fashion" in folder.resolve().name.lower() and count <= len(FASHION_CLASSES):
        return FASHION_CLASSES[:count] if count == 10 else FASHION_CLASSES
    return [str(k) for k in range(max(count, 1))]


def _load_idx(folder: Path, split: str, size=SIZE, channels=1) -> ImageSet:
    img_path, lab_path = _find_idx(folder, split, "images"), _find_idx(folder, split, "labels")
    if img_path is None or lab_path is None:
        want = f"{_IDX_PREFIX[split][0]}-images-idx3-ubyte[.gz] and {_IDX_PREFIX[split][0]}-labels-idx1-ubyte[.gz]"
        raise GenkitError(f"{folder}: no {split} split found (expected {want})")
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.ndim != 3:
        raise GenkitError(f"{img_path} holds labels, not images")
    if labels.ndim != 1:
        raise GenkitError(f"{lab_path} holds images, not labels")
    if len(images) != len(labels):
        raise GenkitError(f"{img_path.name} holds {len(images)} images but {lab_path.name} holds {len(labels)} labels")
    images = _reshape_uint8(images, size, channels)
    return _finish(images, labels.astype(np.int64), _idx_class_names(folder, labels), str(img_path))


# ---------------------------------------------------------------- image folders


def _holdout(labels: np.ndarray, split: str) -> np.ndarray:
    """Indices of ``split`` when data has no test split of its own: 1 in 10 of each class, seeded."""
    rng = np.random.default_rng(0)
    order = rng.permutation(len(labels))
    test = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = order[labels[order] == c]
        test[members[: max(1, len(members) // 10) if len(members) > 1 else 0]] = True
    return np.flatnonzero(test if split == "test" else ~test)


def _folder_files(root: Path) -> tuple[list[Path], list[tuple[Path, int]]]:
    """The class folders and (file, class) pairs; a folder of pictures with no sub-folders is one class."""
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs and any(_is_picture(f) for f in root.iterdir()):
        class_dirs = [root]
    files = [(f, k) for k, d in enumerate(class_dirs) for f in sorted(d.iterdir()) if _is_picture(f)]
    return class_dirs, files


def _is_picture(path: Path) -> bool:
    # By name only: a fifo or device named like a picture must reach the reader, which refuses it, not be skipped.
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and not path.is_dir()


KEEP_SIDE = 512  # while a folder is read, larger squares are reduced to this (bounded memory)


def _too_small(x: np.ndarray, path) -> None:
    if min(x.shape[:2]) < MIN_SIDE:
        raise GenkitError(
            f"{path} is {x.shape[1]}x{x.shape[0]} pixels; genkit trains on images of at least {MIN_SIDE}x{MIN_SIDE}"
        )


def _conform(x: np.ndarray, side: int, colour: bool) -> np.ndarray:
    """A float picture -> uint8 side x side, grey or colour."""
    return to_uint8(resize(to_colour(x) if colour else to_grey(x), (side, side)))


def _side(size, native: int) -> int:
    """The asked size: an int, None (the data's own) or a callable of the data's own size."""
    if size is None:
        return native
    return int(size(native)) if callable(size) else int(size)


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height) from an image file's header alone."""
    from PIL import Image, UnidentifiedImageError

    check_regular(path, "image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is judged below
            with Image.open(path) as im:
                size = im.size
    except Image.DecompressionBombError as exc:
        raise GenkitError(f"{path} refused as a possible decompression bomb: {exc}") from None
    except UnidentifiedImageError:
        raise GenkitError(f"{path} is not an image genkit can read") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise GenkitError(
            f"{path} could not be read (truncated or corrupt): {' '.join(str(exc).split())[:160]}"
        ) from None
    if size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise GenkitError(
            f"{path} is {size[0]}x{size[1]} pixels, more than the {MAX_IMAGE_PIXELS:,} genkit reads "
            "(a possible decompression bomb)"
        )
    return size


def check_budget(files, known: bool, max_pixels: int | None = None, what: str = "the data's images") -> None:
    """Refuse, from the headers and before decoding any file, images (path, label) that together cost too much."""
    max_pixels = MAX_DATA_PIXELS if max_pixels is None else max_pixels
    if len(files) > MAX_DATA_IMAGES:
        raise GenkitError(f"{what}: {len(files):,} images, more than the {MAX_DATA_IMAGES:,} genkit reads")
    pixels = kept = 0
    for path, _ in files:
        width, height = _image_size(path)
        pixels += width * height
        side = min(width, height, KEEP_SIDE)
        kept += 0 if known else side * side * 3 * 4  # float32 colour while the size is not yet known
        if pixels > max_pixels or kept > MAX_KEPT_BYTES:
            raise GenkitError(
                f"{what} hold more than {max_pixels / 1e9:.1f} G pixels (or {MAX_KEPT_BYTES >> 30} GB "
                f"while read) in all, counted up to {path}; genkit reads less (resize the images first)"
            )


def _read_pictures(files, size, channels, mixed):
    """Read every file once; returns uint8 pictures, converting as it goes when size and channels are known."""
    known = channels in (1, 3) and isinstance(size, int)
    check_budget(files, known)
    first, pictures, native, colour = None, [], None, channels == 3
    for path, _ in files:
        x = read_image(path)
        _too_small(x, path)
        if mixed == "refuse":
            if first is None:
                first = (x.shape[:2], path)
            elif x.shape[:2] != first[0]:
                (h, w), where = first
                raise GenkitError(
                    f"images have mixed sizes: {where} is {w}x{h} but {path} is {x.shape[1]}x"
                    f"{x.shape[0]}; resize them to one size first, or train with --mixed-sizes crop"
                )
        else:
            x = centre_square(x)
        native = min(native or 1 << 30, *x.shape[:2])
        if known:
            pictures.append(_conform(x, size, colour))
            continue
        colour = colour or (channels is None and is_colour(x))
        if x.shape[0] > KEEP_SIDE and x.shape[0] == x.shape[1]:
            x = resize(x, (KEEP_SIDE, KEEP_SIDE))
        pictures.append(x)
    if not known:
        side = _side(size, native or 1)  # native is None only when there are no files
        pictures = [_conform(x, side, colour) for x in pictures]
    return np.stack(pictures)


def _load_folder(folder: Path, split: str, size=SIZE, channels=1, mixed="refuse") -> ImageSet:
    root = folder
    if (folder / "train").is_dir() and (folder / "test").is_dir():
        root = folder / split
    class_dirs, files = _folder_files(root)
    if not files:
        raise GenkitError(f"{root}: no images found (expected .png/.jpg files, or one sub-folder of them per class)")
    images = _read_pictures(files, size, channels, mixed)
    labels = np.array([k for _, k in files], dtype=np.int64)
    names = [d.name for d in class_dirs]
    if root is folder:
        keep = _holdout(labels, split)
        images, labels = images[keep], labels[keep]
    return _finish(images, labels, names, str(root))


def _reshape_uint8(images: np.ndarray, size, channels) -> np.ndarray:
    """uint8 grey (N, H, W) at one size (IDX, .npz) -> the asked size and channels."""
    if not len(images):
        return images
    _too_small(images[0], "the data's images")
    side = _side(size, min(images.shape[1:3]))
    colour = channels == 3
    if images.shape[1:3] == (side, side) and not colour:
        return images
    return np.stack([_conform(im / 255.0, side, colour) for im in images])


# ---------------------------------------------------------------- npz


def _npz_arrays(path: Path) -> dict:
    import zipfile

    check_regular(path)
    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
        if expanded > MAX_ARCHIVE_BYTES:
            raise GenkitError(f"{path} expands to {expanded / 2**30:.1f} GB, more than genkit reads")
        with np.load(path, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise GenkitError(f"cannot read {path} as .npz: {' '.join(str(exc).split())[:160]}") from None


def _npz_images(images: np.ndarray, path: Path) -> np.ndarray:
    """(N, H, W[, 1]) of any numeric dtype -> uint8 (N, H, W)."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or not np.issubdtype(images.dtype, np.number):
        raise GenkitError(f"{path}: images must be numbers of shape (N, H, W), got {images.dtype} {images.shape}")
    if images.dtype != np.uint8:  # floats in [0, 1] or [0, 255], or wider integers
        values = np.nan_to_num(np.asarray(images, dtype=np.float64))
        top = values.max(initial=0)
        scale = (
            255.0 if top <= 1.0 else (255.0 / 65535 if top > 255 and np.issubdtype(images.dtype, np.integer) else 1.0)
        )
        images = np.clip(values * scale, 0, 255).round().astype(np.uint8)
    return images


def _load_npz(path: Path, split: str, size=SIZE, channels=1) -> ImageSet:
    arrays = _npz_arrays(path)
    names = [str(n) for n in arrays["class_names"]] if "class_names" in arrays else None
    if f"x_{split}" in arrays and f"y_{split}" in arrays:
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
    elif "images" in arrays and "labels" in arrays:
        keep = _holdout(np.asarray(arrays["labels"]).astype(np.int64).ravel(), split)
        images, labels = arrays["images"][keep], arrays["labels"].ravel()[keep]
    else:
        raise GenkitError(f"{path} needs arrays x_{split} and y_{split}, or images and labels; it has {sorted(arrays)}")
    try:
        labels = np.asarray(labels).astype(np.int64).ravel()
    except (TypeError, ValueError):
        raise GenkitError(f"{path}: labels must be whole numbers") from None
    images = _reshape_uint8(_npz_images(images, path), size, channels)
    if len(images) != len(labels):
        raise GenkitError(f"{path}: {len(images)} images but {len(labels)} labels")
    count = int(labels.max()) + 1 if labels.size else 1
    return _finish(images, labels, names or [str(k) for k in range(count)], str(path))


# ---------------------------------------------------------------- entry point


def _finish(images, labels, names, where) -> ImageSet:
    if len(images) == 0:
        raise GenkitError(f"{where}: no images found")
    if labels.min() < 0 or labels.max() >= len(names):
        raise GenkitError(
            f"{where}: labels run from {labels.min()} to {labels.max()} but there are {len(names)} classes"
        )
    return ImageSet(np.array(images, dtype=np.uint8), labels, list(names))  # a writable copy


def load(path: Path, split: str = "train", size=SIZE, channels: int | None = 1, mixed: str = "refuse") -> ImageSet:
    """Read the ``train`` or ``test`` split of the data at ``path`` (any layout described above).

    IDX and .npz data are grey; asked for colour, their grey is copied into three channels.
    """
    path = Path(path)
    shape = {"size": size, "channels": 1 if channels is None else channels}
    if not path.exists():
        raise GenkitError(f"--data {path}: no such file or folder")
    if not path.is_dir():
        if path.suffix == ".npz":
            return _load_npz(path, split, **shape)
        check_regular(path)
        raise GenkitError(f"--data {path}: expected a folder (IDX files or class sub-folders) or an .npz file")
    if _find_idx(path, "train", "images") or _find_idx(path, "test", "images"):
        return _load_idx(path, split, **shape)
    if any(p.is_file() and ("idx" in p.name or p.suffix == ".gz") for p in path.iterdir()):
        raise GenkitError(
            f"{path}: found IDX-like files but not the expected names (train-images-idx3-ubyte[.gz], ...)"
        )
    return _load_folder(path, split, size, channels, mixed)
