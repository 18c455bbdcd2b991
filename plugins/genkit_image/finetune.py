"""`genkit train image --weights NAME|PATH|RUN_FOLDER --data DIR`: start from existing GAN weights.

(`genkit eval` has a --weights of its own, the weights it measures; this train option is not offered there.)

The weights (shipped, or a run's) give the architecture, size and channels; the data is read at
that size and in those channels (another --size is refused in one line naming both).
Class-conditional weights keep a class embedding column for
every class whose name the data shares, and new classes start from the mean of the old columns;
classes the data lacks are dropped. Unconditional weights stay unconditional. The discriminator is
not shipped in weights files, so it starts fresh, and G_ema starts equal to G.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from genkit import weights as gk_weights
from genkit.datasets import picture
from genkit.errors import GenkitError
from genkit.imaging.ruler import describe


@dataclass
class Start:
    config: dict
    tensors: dict
    name: str  # the file's name only: no absolute path goes into the new weights


def load_start(given: str) -> Start:
    from genkit import lookup
    from genkit_image import SPEC
    from genkit_image.generator import WEIGHTS

    path, _ = lookup.resolve(SPEC, str(given))
    loaded = WEIGHTS.load(path, "cpu")
    return Start(dict(loaded.metadata["config"]), loaded.module.state_dict(), path.name)


def adapted_config(start: Start, train_set, data: Path) -> dict:
    """The weights' config with the data's classes; refuses data of another size or channels."""
    have, found = picture(start.config), (train_set.size, train_set.channels)
    if have != found:
        hint = f" (try --size {have[0]})" if have[1] == found[1] else ""
        raise GenkitError(
            f"--weights {start.name} make {describe(*have)} images but --data {data} gives {describe(*found)}{hint}"
        )
    config = dict(start.config, class_names=list(train_set.class_names))
    if config["arch"] == "dcgan":
        config.update(size=have[0], channels=have[1])
        if config["num_classes"]:  # conditional stays conditional, even with one class
            config["num_classes"] = len(train_set.class_names)
    return config


@torch.no_grad()
def load_generator(model, start: Start, config: dict) -> None:
    """Put the start weights into G and G_ema, the class embedding mapped by class name."""
    tensors = dict(start.tensors)
    key = "embed.weight"
    if key in tensors and config.get("num_classes"):
        old_names = list(start.config.get("class_names") or [])
        old = tensors[key]  # (embed_dim, old classes)
        new = old.mean(1, keepdim=True).repeat(1, config["num_classes"])
        for k, name in enumerate(config["class_names"]):
            if name in old_names:
                new[:, k] = old[:, old_names.index(name)]
        tensors[key] = new
    gk_weights.load_into(model.G, tensors, start.name)
    model.G_ema.load_state_dict(model.G.state_dict())
