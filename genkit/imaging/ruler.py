"""The evaluation classifier ("ruler") in whose features `genkit eval` measures an image-like generator.

Which one is used, in order (``choose``): ``--classifier PATH``; a shipped one
(genkit/imaging/weights/classifier-*.safetensors, trained with ``genkit train image --arch classifier``)
whose class names, size and channels are the data's; otherwise one trained here on the data's own
train split for a few epochs and cached beside the run (``eval-classifier-<key>.safetensors`` in
``genkit train --out`` or in the run folder of the weights ``genkit eval`` measures), or under
``eval-classifiers/`` in genkit's cache folder (``$GENKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/genkit``
or ``~/.cache/genkit``) when the weights are not in a run,
keyed by a hash of the training images, labels, class names and this recipe, so a second eval of
the same data reuses it. The run's output and model card say which one it was. A cached file that
is a link, a FIFO or damaged is trained again and replaced (``genkit.state``), never followed.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genkit import files as gk_files
from genkit import state
from genkit import weights as gk_weights
from genkit.datasets import PICTURE_SIZES, ImageSet, picture
from genkit.errors import GenkitError
from genkit.imaging.classifier import Classifier
from genkit.models import ModelFormat, bounded, one_of

WEIGHTS_FOLDER = "weights"
RECIPE = "classifier-v3 epochs=15 batch=64 adam lr=2e-3 seed=0"  # part of the cache key
EPOCHS, BATCH, MAX_STEPS = 15, 64, 3000
# The "trained_by" a self-trained classifier's metadata carries; the older value named the image plugin.
TRAINED_BY = "genkit eval"
SELF_TRAINED = (TRAINED_BY, "genkit eval image")


def as_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, S, S) or (N, S, S, 3) -> float (N, C, S, S) in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images))
    x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)
    return x.float().div(127.5).sub(1.0)


@dataclass
class ClassifierConfig:
    """The config an evaluation classifier's weights carry (their header says generator "image", arch "classifier",
    as ``genkit train image --arch classifier`` writes them)."""

    arch: str
    num_classes: int = bounded(1, 10_000)
    class_names: list[str] = field(default_factory=list)  # absent in the first shipped classifiers
    size: int = one_of(*PICTURE_SIZES, default=28)
    channels: int = one_of(1, 3, default=1)


def check_classifier(cfg: ClassifierConfig) -> None:
    if cfg.arch != "classifier":
        raise ValueError("is not a classifier's (write one with 'genkit train image --arch classifier')")


# How an evaluation classifier's weights file becomes the network.
CLASSIFIER = ModelFormat(
    "image", ClassifierConfig, build=lambda c: Classifier(c.num_classes, c.channels, c.size), check=check_classifier
)


def shipped_classifier(class_names: list[str], size: int = 28, channels: int = 1) -> Path | None:
    """The shipped classifier trained on these classes at this size and channels, or None."""
    folder = Path(str(files("genkit.imaging").joinpath(WEIGHTS_FOLDER)))
    for path in sorted(folder.glob("classifier-*.safetensors")):
        config = gk_weights.metadata(path).get("config") or {}
        if config.get("class_names") == list(class_names) and picture(config) == (size, channels):
            return path
    return None


class EvalClassifier:
    """Loads the classifier weights and turns images into (features, predicted classes)."""

    def __init__(
        self,
        path: str | Path | None,
        class_names: list[str],
        device: torch.device | str,
        size: int = 28,
        channels: int = 1,
    ) -> None:
        path = Path(path) if path else shipped_classifier(class_names, size, channels)
        if path is None:
            raise GenkitError(
                f"no shipped evaluation classifier knows the classes {class_names} at "
                f"{describe(size, channels)}; pass --classifier"
            )
        if not path.exists():
            raise GenkitError(
                f"evaluation classifier {path} not found; train one with "
                "'genkit train image --arch classifier --data DIR' and pass --classifier"
            )
        loaded = CLASSIFIER.load(path, device)  # every check before any memory is used
        config, meta = loaded.metadata["config"], loaded.metadata
        if list(loaded.config.class_names) != list(class_names):
            raise GenkitError(
                f"the evaluation classifier {path.name} knows classes {loaded.config.class_names}, "
                f"but the data has {class_names}; train one on this data with --arch classifier "
                "and pass --classifier"
            )
        if picture(config) != (size, channels):
            raise GenkitError(
                f"the evaluation classifier {path.name} reads {describe(*picture(config))} images, "
                f"the model makes {describe(size, channels)}"
            )
        self.class_names, self.device, self.path = class_names, device, path
        self.trained_by_eval = meta.get("trained_by") in SELF_TRAINED
        self.net = loaded.module

    @torch.no_grad()
    def run(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        feats, preds = [], []
        for start in range(0, len(images), 1000):
            f = self.net.features(images[start : start + 1000].to(self.device))
            feats.append(f.cpu())
            preds.append(self.net.head(f).argmax(1).cpu())
        return torch.cat(feats).numpy(), torch.cat(preds).numpy()


def describe(size: int, channels: int) -> str:
    return f"{size}x{size} {'colour' if channels == 3 else 'grey'}"


def cache_path(train_set: ImageSet, run_folder: str | Path | None = None) -> Path:
    """Beside the run when there is one (``eval-classifier-<key>.safetensors``), else in the user's cache."""
    key = hashlib.sha256()
    for part in (RECIPE, repr(train_set.class_names), str(train_set.images.shape)):
        key.update(part.encode())
    key.update(np.ascontiguousarray(train_set.images).tobytes())
    key.update(np.ascontiguousarray(train_set.labels).tobytes())
    if run_folder is not None:
        return Path(run_folder) / f"eval-classifier-{key.hexdigest()[:24]}.safetensors"
    return state.cache_root() / "eval-classifiers" / f"{key.hexdigest()[:24]}.safetensors"


def _cached(path: Path) -> bool:
    """A cached classifier genkit can use: a regular file (not a link) whose header and shapes check.
    Anything else there (a FIFO, a link, a damaged file) is replaced by a fresh one, with one warning."""
    why = state.usable_file(path)
    if why == "":
        return False
    if why is None:
        try:
            config = gk_weights.metadata(path).get("config")
            if isinstance(config, dict) and config.get("arch") == "classifier":
                return True
            why = "is damaged (not a classifier genkit cached)"
        except GenkitError:
            why = "is damaged (not a readable safetensors file)"
    state.warn_rebuild(path, why)
    return False


def fit(train_set: ImageSet, device: torch.device | str) -> tuple[Classifier, float]:
    """A small classifier trained on ``train_set`` (seeded); returns it and its final train accuracy."""
    names, size, channels = train_set.class_names, train_set.size, train_set.channels
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(0)
        net = Classifier(len(names), channels, size).to(device).train()
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        x, y = as_input(train_set.images), torch.from_numpy(train_set.labels)
        batch = max(2, min(BATCH, len(x)))
        steps = min(MAX_STEPS, EPOCHS * max(1, len(x) // batch))
        g = torch.Generator().manual_seed(0)
        hits = []
        for _ in range(steps):
            pick = torch.randint(len(x), (batch,), generator=g)
            logits = net(x[pick].to(device))
            loss = F.cross_entropy(logits, y[pick].to(device))
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            hits.append(float((logits.argmax(1).cpu() == y[pick]).float().mean()))
    return net.eval(), float(np.mean(hits[-10:]))


def self_trained(train_set: ImageSet, device: torch.device | str, run_folder: str | Path | None = None) -> Path:
    """The cached classifier for ``train_set``, trained and saved first when there is none."""
    path = cache_path(train_set, run_folder)
    if _cached(path):
        print(
            f"genkit: eval: no shipped classifier knows these classes at {describe(train_set.size, train_set.channels)}; "
            f"using the one trained earlier on the data's train split ({path})",
            file=sys.stderr,
            flush=True,
        )
        return path
    print(
        f"genkit: eval: no shipped classifier knows these classes at {describe(train_set.size, train_set.channels)}; "
        f"training one on the data's train split ({len(train_set.images)} images)",
        file=sys.stderr,
        flush=True,
    )
    net, accuracy = fit(train_set, device)
    config = {
        "arch": "classifier",
        "num_classes": len(train_set.class_names),
        "class_names": list(train_set.class_names),
        "size": train_set.size,
        "channels": train_set.channels,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    gk_files.clean_stale_temporaries(path.parent)  # a killed eval's half-written classifier
    CLASSIFIER.save(
        path,
        net.state_dict(),
        config,
        metadata={"trained_by": TRAINED_BY, "recipe": RECIPE, "train_accuracy": accuracy},
    )
    print(f"genkit: eval: classifier cached at {path} (train accuracy {accuracy:.3f})", file=sys.stderr, flush=True)
    return path


def choose(
    given: str | Path | None, train_set: ImageSet, device: torch.device | str, run_folder: str | Path | None = None
) -> tuple[EvalClassifier, str]:
    """(the ruler, a sentence for the model card saying which one it is)."""
    names, size, channels = train_set.class_names, train_set.size, train_set.channels
    if given:
        return EvalClassifier(
            given, names, device, size, channels
        ), f"the classifier given with --classifier ({Path(given).name})"
    shipped = shipped_classifier(names, size, channels)
    if shipped is not None:
        return EvalClassifier(shipped, names, device, size, channels), f"genkit's shipped classifier {shipped.name}"
    path = self_trained(train_set, device, run_folder)
    note = (
        f"a classifier trained by eval on the data's own train split ({len(train_set.images)} images, "
        f"{EPOCHS} epochs; no shipped one knows these classes at {describe(size, channels)}), cached as {path.name}"
    )
    return EvalClassifier(path, names, device, size, channels), note
