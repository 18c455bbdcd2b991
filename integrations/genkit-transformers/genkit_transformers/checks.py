"""Light checks of ``--model``, run before any model loads (no torch, no transformers here).

A folder or cached repo is read as files only: its ``config.json`` must name an architecture this
generator runs, and its weights must be safetensors (pickles are refused, never opened).
"""

from __future__ import annotations

import json
from pathlib import Path

from genkit import GenkitError, hub


def config_of(folder: Path) -> dict | None:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def architectures(config: dict | None) -> list[str]:
    found = (config or {}).get("architectures") or []
    return [a for a in found if isinstance(a, str)]


def is_causal_lm(config: dict | None) -> bool:
    return any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures(config))


def is_musicgen(config: dict | None) -> bool:
    return (config or {}).get("model_type") in ("musicgen", "musicgen_melody")


def find(given: str, fits, kind: str) -> tuple[hub.ModelSource, dict]:
    """``--model`` to a checked model on disk whose config ``fits`` (is this generator's kind of model)."""
    source = hub.find_model(given)
    config = config_of(source.folder)
    if config is None:
        raise GenkitError(f"--model {given}: not a transformers model (it has no readable config.json)")
    if not fits(config):
        named = ", ".join(architectures(config)) or config.get("model_type") or "no architecture"
        raise GenkitError(f"--model {given}: not a {kind} (its config says {named})")
    hub.refuse_pickles(source)
    return source, config


def check_lm(given: str) -> None:
    find(given, is_causal_lm, "causal language model")


def check_audio(given: str) -> None:
    find(given, is_musicgen, "MusicGen model")


def _local(fits) -> list[dict]:
    found = []
    for row in hub.cached_models():
        config = config_of(Path(row["folder"]))
        if fits(config):
            found.append(dict(row, **{"class": [*architectures(config), (config or {}).get("model_type")][0]}))
    return found


def local_language_models() -> list[dict]:
    """The causal language models in the local Hugging Face cache (for `genkit models lm`)."""
    return _local(is_causal_lm)


def local_audio_models() -> list[dict]:
    """The MusicGen models in the local Hugging Face cache (for `genkit models audio`)."""
    return _local(is_musicgen)
