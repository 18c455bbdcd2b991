"""A weights file checked against the network its config describes, before that network takes memory.

A weights file carries its model's config (widths, layers...) in its metadata, and a generator
builds its network from that config. A hostile or corrupt file could claim a layer of 10^12
units; building it would allocate terabytes before the tensors are ever compared. So the loading
base (genkit.models) checks the config's fields against their bounds, then asks here:

- ``declared_shapes``: the shapes the file's header declares, each checked against the bytes the
  file really holds;
- ``check_fits``: the network built on PyTorch's "meta" device (shapes only, no memory) has exactly
  those tensors, in those shapes.

Only then is the real network built, and its size is that of the file. Every problem is a
GenkitError (one line, exit 2), including weights of another generator.
"""

from __future__ import annotations

import math
from pathlib import Path

from genkit import weights
from genkit.errors import GenkitError

DTYPE_BYTES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "U16": 2,
    "U32": 4,
    "U64": 8,
    "BOOL": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
}
MAX_DIMS = 8


def declared_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape from the safetensors header, each shape matching its bytes in the file."""
    shapes = {}
    for name, entry in weights.read_header(path).items():
        if name == "__metadata__":
            continue
        shape, dtype = entry.get("shape"), entry.get("dtype")
        if (
            not isinstance(shape, list)
            or len(shape) > MAX_DIMS
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        ):
            raise GenkitError(f"{path}: tensor {name!r} has an invalid shape {str(shape)[:60]}")
        if dtype not in DTYPE_BYTES:
            raise GenkitError(f"{path}: tensor {name!r} has an unknown dtype {str(dtype)[:20]!r}")
        start, end = entry["data_offsets"]
        if math.prod(shape) * DTYPE_BYTES[dtype] != end - start:
            raise GenkitError(f"{path}: tensor {name!r} declares shape {tuple(shape)} but holds {end - start} bytes")
        shapes[name] = tuple(shape)
    return shapes


def meta_shapes(build, generator: str, path) -> dict[str, int]:
    """Parameter and buffer name -> element count of ``build()`` built on the meta device (no memory)."""
    return {k: math.prod(v) for k, v in _meta_state(build, generator, path).items()}


def _meta_state(build, generator: str, path) -> dict[str, tuple[int, ...]]:
    import torch

    try:
        with _skip_random_init_of_meta_tensors(), torch.device("meta"):
            return {k: tuple(v.shape) for k, v in build().state_dict().items()}
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
        raise GenkitError(f"{path}: its {generator} config cannot describe a model ({reason})") from None


def check_fits(path: Path, generator: str, build) -> int:
    """Build ``build()`` on the meta device and check its tensors against the file's; return their element count."""
    declared = declared_shapes(path)
    own = _meta_state(build, generator, path)
    missing, unexpected = sorted(set(own) - set(declared)), sorted(set(declared) - set(own))
    if missing or unexpected:
        raise GenkitError(
            f"{path} does not hold {generator} weights (missing {missing[:2]}, unexpected "
            f"{unexpected[:2]}); was it written by 'genkit train {generator}'?"
        )
    for key, shape in own.items():
        if declared[key] != shape:
            raise GenkitError(
                f"{path}: tensor {key} has shape {declared[key]} but the config in the file needs {shape}"
            )
    return sum(math.prod(shape) for shape in own.values())


def _skip_random_init_of_meta_tensors():
    """A torch function mode under which filling a meta tensor with random numbers does nothing.

    Meta tensors hold no values, so nothing is lost; without it, PyTorch runs its Python version of
    ``normal_`` for them, whose first call imports the compiler (about 2 s of every generator run).
    """
    import torch
    from torch.overrides import TorchFunctionMode

    fills: set[object] = {torch.Tensor.normal_, torch.nn.init.normal_}

    class SkipRandomInit(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            target = args[0] if args else kwargs.get("tensor")  # nn.init passes its tensor by keyword
            if func in fills and getattr(target, "is_meta", False):
                return target
            return func(*args, **kwargs)

    return SkipRandomInit()
