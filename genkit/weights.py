"""Weights files: safetensors only, checked before anything is loaded, never unpickled."""

from __future__ import annotations

import hashlib
import json
import struct
from functools import lru_cache
from pathlib import Path

from genkit.errors import GenkitError
from genkit.spec import GeneratorSpec

MAX_HEADER_BYTES = 100 * 1024 * 1024
_PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")  # pickle protocol 2+, torch.save zip archive


def read_header(path: Path) -> dict:
    """Parse and sanity-check a safetensors header; raise GenkitError naming the problem."""
    path = Path(path)
    if not path.exists():
        raise GenkitError(f"weights file not found: {path}")
    if not path.is_file():
        raise GenkitError(f"weights path is not a file: {path}")
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        header_len = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
        first = fh.read(1)
        if first != b"{":
            if head.startswith(_PICKLE_MAGIC):
                raise GenkitError(
                    f"{path} looks like a pickle or torch.save checkpoint; genkit loads only .safetensors and never unpickles"
                )
            raise GenkitError(f"{path} is not a safetensors file")
        if not 0 < header_len <= MAX_HEADER_BYTES or header_len > size - 8:
            raise GenkitError(f"{path} is truncated or has a bad safetensors header")
        try:
            header = json.loads(first + fh.read(header_len - 1))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise GenkitError(f"{path} is not a valid safetensors file (unreadable header)") from None
    if not isinstance(header, dict):
        raise GenkitError(f"{path} is not a valid safetensors file (header is not a table)")
    data_size = size - 8 - header_len
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            start, end = entry["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise GenkitError(f"{path} is not a valid safetensors file (tensor {name!r} has no offsets)") from None
        if not (0 <= start <= end <= data_size):
            raise GenkitError(f"{path} is truncated: tensor {name!r} runs past the end of the file")
    return header


def metadata(path: Path) -> dict:
    """The JSON values stored in the file's ``__metadata__`` (safetensors keeps strings only)."""
    raw = read_header(path).get("__metadata__", {}) or {}
    out = {}
    for key, value in raw.items():
        try:
            out[key] = json.loads(value)
        except (TypeError, json.JSONDecodeError):
            out[key] = value
    return out


@lru_cache(maxsize=64)
def _sha256_cached(path: str, mtime_ns: int, size: int) -> str:
    del mtime_ns, size  # only the cache's key: a file changed in place is hashed again
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256(path: Path) -> str:
    stat = Path(path).stat()
    return _sha256_cached(str(path), stat.st_mtime_ns, stat.st_size)


def load_tensors(path: Path, device="cpu") -> tuple[dict, dict]:
    """Return (state_dict, metadata) from a checked safetensors file."""
    from safetensors.torch import load_file

    meta = metadata(path)
    try:
        tensors = load_file(str(path), device=str(device))
    except Exception as exc:
        raise GenkitError(f"cannot read weights {path}: {exc}") from exc
    check_finite(tensors, path)
    return tensors, meta


def check_finite(tensors: dict, path: Path) -> None:
    """Refuse weights holding NaN or infinity: they would generate garbage with exit 0 (a diverged run)."""
    import torch

    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise GenkitError(
                f"{path}: tensor {name!r} holds NaN or infinite values (from a training run that diverged?); "
                "genkit does not load it"
            )


def save_tensors(tensors: dict, meta: dict, path: Path) -> None:
    """Write tensors + JSON metadata through the same atomic writer as every other file."""
    from safetensors.torch import save

    from genkit.files import write_atomic

    contiguous = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    data = save(contiguous, metadata={k: json.dumps(v) for k, v in meta.items()})
    write_atomic(Path(path), data, overwrite=True)


def load_into(model, tensors: dict, path: Path | str) -> None:
    """Load a state dict, turning shape/key mismatches into one readable error."""
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing or unexpected:
        raise GenkitError(f"weights {path} do not fit this model: missing {missing[:3]}, unexpected {unexpected[:3]}")
    for key, value in tensors.items():
        if own[key].shape != value.shape:
            raise GenkitError(
                f"weights {path} do not fit this model: {key} has shape {tuple(value.shape)}, expected {tuple(own[key].shape)}"
            )
        if own[key].dtype != value.dtype and not value.dtype.is_floating_point:
            raise GenkitError(f"weights {path}: {key} has dtype {value.dtype}, expected {own[key].dtype}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in tensors.items()})


def default_weights_path(spec: GeneratorSpec) -> Path | None:
    if not spec.default_weights:
        return None
    return package_folder(spec.package) / spec.default_weights


def package_folder(package: str) -> Path:
    """Where a plugin's package lives, found without importing it: `genkit models` lists a third
    party's weights without running its code (importlib.resources.files would import the package)."""
    import importlib.util

    parts = package.split(".")
    try:
        found = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        found = None
    locations = list(found.submodule_search_locations or []) if found is not None else []
    if not locations:
        raise GenkitError(f"plugin package {package!r} cannot be found")
    return Path(locations[0]).joinpath(*parts[1:])


def shipped_weights(spec: GeneratorSpec) -> dict[str, Path]:
    """Weights shipped beside the default file, by short name: image-mnist.safetensors is 'mnist'.

    These are names ``--weights NAME`` accepts (genkit.lookup), so a user of an installed package
    never has to find the plugin's folder inside site-packages.
    """
    default = default_weights_path(spec)
    if default is not None:
        folder = default.parent
    elif spec.shipped:
        folder = package_folder(spec.package) / spec.shipped
    else:
        return {}
    if not folder.is_dir():
        return {}
    prefix, suffix = f"{spec.name}-", ".safetensors"
    return {p.name[len(prefix) : -len(suffix)]: p for p in sorted(folder.glob(f"{prefix}*{suffix}"))}
