"""`genkit eval NAME`: rebuild a task from the weights' config and measure the weights with it."""

from __future__ import annotations

from pathlib import Path

from genkit import device as devices
from genkit import lookup, progress, weights
from genkit.errors import GenkitError
from genkit.spec import GeneratorSpec
from genkit.train.loop import load_task
from genkit.train.outputs import check_data


def run_folder_of(weights_path: Path) -> Path | None:
    """The training run holding ``weights_path`` (its folder has a checkpoint), else None."""
    folder = Path(weights_path).parent
    return folder if (folder / "checkpoint.safetensors").is_file() else None


def evaluate(
    spec: GeneratorSpec,
    *,
    data: Path,
    weights_path: Path | None = None,
    options: dict | None = None,
    device=None,
    seed: int = 0,
    quiet: bool = False,
) -> dict:
    """The task's metrics for ``weights_path`` (default: the shipped weights), in fp32."""
    import torch

    check_data(data)
    path, _ = lookup.resolve(spec, str(weights_path) if weights_path else None)
    if path is None:
        raise GenkitError(f"{spec.name} has no shipped weights; pass --weights")
    dev = devices.resolve_device(device)
    tensors, meta = weights.load_tensors(path, dev)
    if not isinstance(meta.get("config"), dict):
        raise GenkitError(f"{path} has no training config in its metadata; was it written by 'genkit train'?")
    task = load_task(spec, data, options or {}, meta["config"])
    task.run_folder = run_folder_of(path)
    torch.manual_seed(seed)
    model = task.build_model().to(dev)
    try:
        task.load(model, tensors)
    except RuntimeError as exc:
        raise GenkitError(f"{path} does not fit {spec.name}'s model ({str(exc).splitlines()[0]})") from None
    model.eval()
    # Minutes for some tasks: a bar on a terminal (unless --quiet); a task may add its own steps under it.
    with torch.no_grad(), progress.bar(f"eval {spec.name}", None, progress.wanted(quiet)):
        return task.evaluate(model, dev)
