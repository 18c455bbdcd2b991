"""Light checks of diffusion's options, run before any model loads (no torch, no diffusers here).

A folder or cached repo is read only as files: ``model_index.json`` says it is a diffusers pipeline
and which library each part comes from; a part whose weights are pickles only is refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from genkit import GenkitError, hub

MIN_SIDE, MAX_SIDE, MULTIPLE = 8, 4096, 8
# The only libraries a pipeline's parts may come from: anything else in model_index.json would make
# diffusers import that module, which is code the model chose, not the user.
LIBRARIES = ("diffusers", "transformers")
_SCHEDULER = re.compile(r"^[A-Z][A-Za-z0-9]*Scheduler$")
_SIZE = re.compile(r"^(\d+)[xX](\d+)$")


def parse_size(text: str) -> tuple[int, int]:
    """``"WIDTHxHEIGHT"`` to (width, height), each a multiple of 8 in the bounds."""
    match = _SIZE.match(text.strip())
    if not match:
        raise ValueError(f"--size {text}: expected WIDTHxHEIGHT, e.g. 512x512")
    width, height = int(match[1]), int(match[2])
    for side in (width, height):
        if not MIN_SIDE <= side <= MAX_SIDE or side % MULTIPLE:
            raise ValueError(f"--size {text}: each side must be a multiple of {MULTIPLE} from {MIN_SIDE} to {MAX_SIDE}")
    return width, height


def check_size(text: str) -> None:
    parse_size(text)


def check_scheduler_name(name: str) -> None:
    if not _SCHEDULER.match(name):
        raise ValueError(
            f"--scheduler {name}: expected a diffusers scheduler class name such as EulerDiscreteScheduler"
        )


def pipeline_index(source: hub.ModelSource) -> dict:
    """The pipeline's ``model_index.json``, checked: a diffusers pipeline whose parts come from known libraries."""
    path = source.folder / "model_index.json"
    if not path.is_file():
        raise GenkitError(f"--model {source.given}: not a diffusers pipeline (it has no model_index.json)")
    try:
        index = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        raise GenkitError(f"--model {source.given}: its model_index.json is not valid JSON") from None
    if not isinstance(index, dict) or not isinstance(index.get("_class_name"), str):
        raise GenkitError(f"--model {source.given}: its model_index.json names no pipeline class")
    for part, value in parts(index).items():
        library = value[0]
        if library is not None and library not in LIBRARIES:
            raise GenkitError(
                f"--model {source.given}: its {part} comes from {library!r}; genkit loads parts from "
                f"{' and '.join(LIBRARIES)} only (never code a model names)"
            )
    return index


def parts(index: dict) -> dict[str, list]:
    """The pipeline's parts: name -> [library, class] (either may be null for an absent part)."""
    return {k: v for k, v in index.items() if not k.startswith("_") and isinstance(v, list) and len(v) == 2}


def find_pipeline(given: str) -> hub.ModelSource:
    """``--model`` to a checked pipeline on disk: every part with weights has safetensors ones."""
    source = hub.find_model(given)
    index = pipeline_index(source)
    hub.refuse_pickles(source)
    for part in parts(index):  # a part whose weights are pickles only (tokenizers and schedulers have none)
        folder = source.folder / part
        pickled = folder.is_dir() and any(p.suffix in hub.PICKLE_SUFFIXES for p in folder.iterdir())
        if pickled and not any(folder.glob("*.safetensors")):
            hub.refuse_pickles(hub.ModelSource(f"{given} ({part})", folder))
    return source


def own_weights(given: str | None) -> Path | None:
    """The genkit diffusion weights ``--model`` names, or None when it names a diffusers pipeline."""
    from genkit import lookup
    from genkit_diffusers import SPEC

    if not given:
        return None
    path = Path(given).expanduser()
    if given.endswith(".safetensors") or (path.is_dir() and (path / f"{SPEC.name}.safetensors").is_file()):
        return lookup.resolve(SPEC, given)[0]
    if not lookup.is_path(given) and given in lookup.names(SPEC):
        return lookup.resolve(SPEC, given)[0]
    return None


def check_model(given: str) -> None:
    """``--model``: genkit's own diffusion weights, or a diffusers pipeline on disk."""
    if own_weights(given) is None:
        find_pipeline(given)


def local_models() -> list[dict]:
    """The diffusers pipelines in the local Hugging Face cache (for `genkit models diffusion`)."""
    found = []
    for row in hub.cached_models():
        try:
            index = json.loads((Path(row["folder"]) / "model_index.json").read_text())
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if isinstance(index, dict) and isinstance(index.get("_class_name"), str):
            found.append(dict(row, **{"class": index["_class_name"]}))
    return found
