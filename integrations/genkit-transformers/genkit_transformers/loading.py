"""Loading a transformers model the way genkit loads its own: checked before memory is taken.

The model is first built on the meta device from its config (no memory) and its parameter count
compared with what its safetensors files hold, so a small config claiming billions of parameters is
refused in one line before anything is allocated; then it loads from safetensors only, never with
the model's own code (``trust_remote_code`` stays off), and quietly: genkit draws the progress.
"""

from __future__ import annotations

import os
import warnings

from genkit import GenkitError, hub, precision_for
from genkit_transformers import checks

DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def quiet_libraries():
    """Offline unless asked, no library progress bars or advice on stderr; returns transformers."""
    hub.offline_by_default()
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"transformers\.")
    import transformers

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    return transformers


def open_source(options: dict, generator: str, looks_right, what: str, device):
    """The model ``--model`` names, checked to be a ``what``, and the precision to load it at."""
    if not options.get("model"):
        raise GenkitError(
            f"genkit {generator} needs --model ORG/NAME or a folder (genkit models {generator} lists them)"
        )
    source, _ = checks.find(options["model"], looks_right, what)
    return source, precision_for(device, options.get("precision") or "auto")


def load(source: hub.ModelSource, model_class, precision: str, device):
    """``model_class`` (an Auto class or a model class) from ``source`` at ``precision`` on ``device``."""
    import torch

    transformers = quiet_libraries()
    config = transformers.AutoConfig.from_pretrained(source.folder, trust_remote_code=False, local_files_only=True)
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        empty = model_class.from_config(config) if hasattr(model_class, "from_config") else model_class(config)
    hub.refuse_oversized(sum(p.numel() for p in empty.parameters()), source.weights_files(), f"--model {source.given}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = model_class.from_pretrained(
            source.folder,
            dtype=getattr(torch, DTYPES[precision]),
            use_safetensors=True,
            trust_remote_code=False,
            local_files_only=True,
        )
    return model.to(device).eval()


def tokenizer_limit(tokenizer, config) -> int | None:
    """The longest input the model reads: its position table, else the tokenizer's own limit."""
    for source in (config, getattr(config, "text_config", None)):
        for key in ("max_position_embeddings", "n_positions", "n_ctx"):
            value = getattr(source, key, None) if source is not None else None
            if isinstance(value, int) and value > 0:
                return value
    limit = getattr(tokenizer, "model_max_length", None)
    return limit if isinstance(limit, int) and 0 < limit < 10**9 else None
