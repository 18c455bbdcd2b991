"""Readers for 28x28 grey-scale image data, returned as uint8 arrays (N, 28, 28) + int64 labels.

Three layouts are accepted for ``--data PATH``:

- a folder of MNIST-format IDX files, gzip-compressed or raw:
  ``train-images-idx3-ubyte[.gz]`` + ``train-labels-idx1-ubyte[.gz]`` and, for the test split,
  ``t10k-images...`` + ``t10k-labels...`` (LeCun et al.; the format is described in
  ../shared/data/README.md). A folder whose name contains "fashion" gets Fashion-MNIST's class
  names; otherwise classes are named by their digit, or by a ``classes.txt`` (one name a line).
- a folder of images with one sub-folder per class (``DIR/sneaker/001.png``); optional
  ``DIR/train/<class>/`` and ``DIR/test/<class>/`` give the split, else a fixed 1 in 10 of each
  class (chosen by a seeded shuffle) is the test split. Images become grey-scale. They must all
  have one size; that size is resized to 28x28 if it differs. Mixed sizes are refused, because
  silently stretching some images and not others would distort what the model learns.
- an ``.npz`` with ``x_train, y_train`` (and optionally ``x_test, y_test``), or ``images, labels``
  (then 1 in 10 is held out as above); optional ``class_names``.

Every problem a user can cause (missing files, a corrupt or truncated IDX, counts that disagree,
no images) is a GenkitError naming the file.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genkit.errors import GenkitError

SIZE = 28
FASHION_CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
_IDX_PREFIX = {"train": ("train",), "test": ("t10k", "test")}


@dataclass
class ImageSet:
    images: np.ndarray  # uint8 (N, 28, 28)
    labels: np.ndarray  # int64 (N,)
    class_names: list[str]


# ---------------------------------------------------------------- IDX


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
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
    expected = int(np.prod(shape))
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
        return [line.strip() for line in listed.read_text().splitlines() if line.strip()]
    count = int(labels.max()) + 1 if labels.size else 0
    if "fashion" in folder.resolve().name.lower() and count <= len(FASHION_CLASSES):
        return FASHION_CLASSES[:count] if count == 10 else FASHION_CLASSES
    return [str(k) for k in range(max(count, 1))]


def _load_idx(folder: Path, split: str) -> ImageSet:
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


def _load_folder(folder: Path, split: str) -> ImageSet:
    from PIL import Image, UnidentifiedImageError

    root = folder
    if (folder / "train").is_dir() and (folder / "test").is_dir():
        root = folder / split
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    files = [(f, k) for k, d in enumerate(class_dirs) for f in sorted(d.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise GenkitError(f"{root}: no images found (expected one sub-folder per class holding .png/.jpg files)")
    first_size, first_file = None, None
    pictures = []
    for path, _ in files:
        try:
            with Image.open(path) as im:
                im = im.convert("L")
                im.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise GenkitError(f"cannot read image {path}: {exc}") from None
        if first_size is None:
            first_size, first_file = im.size, path
        elif im.size != first_size:
            raise GenkitError(
                f"images have mixed sizes: {first_file} is {first_size[0]}x{first_size[1]} but {path} is "
                f"{im.size[0]}x{im.size[1]}; resize them to one size first"
            )
        if im.size != (SIZE, SIZE):
            im = im.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
        pictures.append(np.asarray(im, dtype=np.uint8))
    images = np.stack(pictures)
    labels = np.array([k for _, k in files], dtype=np.int64)
    names = [d.name for d in class_dirs]
    if root is folder:
        keep = _holdout(labels, split)
        images, labels = images[keep], labels[keep]
    return _finish(images, labels, names, str(root))


# ---------------------------------------------------------------- npz


def _load_npz(path: Path, split: str) -> ImageSet:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (OSError, ValueError) as exc:
        raise GenkitError(f"cannot read {path} as .npz: {exc}") from None
    names = [str(n) for n in arrays["class_names"]] if "class_names" in arrays else None
    if f"x_{split}" in arrays and f"y_{split}" in arrays:
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
    elif "images" in arrays and "labels" in arrays:
        keep = _holdout(np.asarray(arrays["labels"]).astype(np.int64).ravel(), split)
        images, labels = arrays["images"][keep], arrays["labels"].ravel()[keep]
    else:
        raise GenkitError(f"{path} needs arrays x_{split} and y_{split}, or images and labels; it has {sorted(arrays)}")
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise GenkitError(f"{path}: images must have shape (N, H, W), got {images.shape}")
    if images.dtype != np.uint8:  # floats in [0, 1] or [0, 255]
        scale = 255.0 if images.size and images.max() <= 1.0 else 1.0
        images = np.clip(np.asarray(images, dtype=np.float64) * scale, 0, 255).round().astype(np.uint8)
    labels = np.asarray(labels).astype(np.int64).ravel()
    if len(images) != len(labels):
        raise GenkitError(f"{path}: {len(images)} images but {len(labels)} labels")
    if images.shape[1:] != (SIZE, SIZE):
        from PIL import Image

        images = np.stack([np.asarray(Image.fromarray(im).resize((SIZE, SIZE), Image.Resampling.LANCZOS)) for im in images])
    count = int(labels.max()) + 1 if labels.size else 1
    return _finish(images, labels, names or [str(k) for k in range(count)], str(path))


# ---------------------------------------------------------------- entry point


def _finish(images, labels, names, where) -> ImageSet:
    if len(images) == 0:
        raise GenkitError(f"{where}: no images found")
    if labels.min() < 0 or labels.max() >= len(names):
        raise GenkitError(f"{where}: labels run from {labels.min()} to {labels.max()} but there are {len(names)} classes")
    return ImageSet(np.array(images, dtype=np.uint8), labels, list(names))  # a writable copy


def load(path: Path, split: str = "train") -> ImageSet:
    """Read the ``train`` or ``test`` split of the data at ``path`` (any layout described above)."""
    path = Path(path)
    if not path.exists():
        raise GenkitError(f"--data {path}: no such file or folder")
    if path.is_file():
        if path.suffix == ".npz":
            return _load_npz(path, split)
        raise GenkitError(f"--data {path}: expected a folder (IDX files or class sub-folders) or an .npz file")
    if _find_idx(path, "train", "images") or _find_idx(path, "test", "images"):
        return _load_idx(path, split)
    if any(p.is_file() and ("idx" in p.name or p.suffix == ".gz") for p in path.iterdir()):
        raise GenkitError(f"{path}: found IDX-like files but not the expected names (train-images-idx3-ubyte[.gz], ...)")
    return _load_folder(path, split)
