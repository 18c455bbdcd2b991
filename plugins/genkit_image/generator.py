"""`genkit image`: sample a trained GAN's generator, in batches, one seed per image.

Item i's latent (and its class, when none is asked for) comes from a torch.Generator seeded with
``item_seed(run_seed, i)``, so image i is the same whatever ``--n`` is, while the network runs on
batches of ``BATCH`` latents so that ``--n 20000`` needs no more memory than ``--n 256``.

The latent space is open to other generators (``genkit video``): ``sample_latents(seeds)`` and
``decode(latents, classes)``; see docs/image.md.
"""

from __future__ import annotations

import numpy as np
import torch

from genkit import weights as gk_weights
from genkit.artifacts import Image
from genkit.classnames import find_class
from genkit.device import item_seed
from genkit.errors import GenkitError
from genkit.models import ModelFormat
from genkit_image.model import GANConfig, build_generator, check_config

BATCH = 256
# How a GAN's weights file becomes its generator network: the typed config (bounds in GANConfig) and the build.
WEIGHTS = ModelFormat("image", GANConfig, build=build_generator, check=check_config)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, C, S, S) in [-1, 1] -> uint8 (B, S, S) grey or (B, S, S, 3) colour."""
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    return pixels[:, 0].numpy() if pixels.shape[1] == 1 else pixels.permute(0, 2, 3, 1).numpy()


class ImageGenerator:
    def __init__(self, device, weights):
        self.device = device
        table = gk_weights.metadata(weights).get("config")
        if isinstance(table, dict) and table.get("arch") == "classifier":
            raise GenkitError(f"{weights} holds the evaluation classifier, not an image generator")
        self.loaded = WEIGHTS.load(weights, device)  # every check before any memory is used
        config = self.loaded.metadata["config"]
        self.config = config
        self.latent_dim = config["z_dim"]
        # Only class-conditional weights list classes; genkit video reads this attribute.
        self.class_names = [str(c) for c in config["class_names"]] if config.get("num_classes") else None
        self.G = self.loaded.module

    # ------------------------------------------------------------ latent space (docs/image.md)

    def _draw(self, seed: int, fixed_class: int | None) -> tuple[torch.Tensor, int | None]:
        """An item's latent and class from its own random stream: the latent first, then the class."""
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(self.latent_dim, generator=g)
        if not self.class_names:
            return z, None
        if fixed_class is not None:
            return z, fixed_class
        return z, int(torch.randint(len(self.class_names), (1,), generator=g))

    def sample_latents(self, seeds) -> torch.Tensor:
        """One standard-normal latent per seed: (k, latent_dim) on the model's device."""
        return torch.stack([self._draw(int(s), 0)[0] for s in seeds]).to(self.device)

    @torch.no_grad()
    def decode(self, latents, classes=None) -> np.ndarray:
        """uint8 images (k, S, S) grey or (k, S, S, 3) colour, as the weights were trained, for latents (k, latent_dim).

        classes: for class-conditional weights, class indices (k,) or class weights (k, C) (one-hot
        rows, or blends); None means an even blend of every class. Ignored by unconditional weights.
        """
        z = torch.as_tensor(latents, dtype=torch.float32, device=self.device).reshape(-1, self.latent_dim)
        c = None
        if self.class_names:
            C = len(self.class_names)
            if classes is None:
                c = torch.full((len(z), C), 1.0 / C, device=self.device)
            else:
                c = torch.as_tensor(np.asarray(classes), device=self.device)
                c = c.long() if c.dim() == 1 else c.float()
        return to_uint8(self.G(z, c))

    # ------------------------------------------------------------ genkit image

    def generate(self, n, seed, options, format):
        wanted = options.get("class")
        fixed = None
        if wanted is not None:
            if not self.class_names:
                raise GenkitError(f"--class: these weights ({self.config['arch']}) are not class-conditional")
            fixed = find_class(str(wanted), self.class_names)
        truncation = options.get("truncation") or 1.0
        for start in range(0, n, BATCH):
            seeds = [item_seed(seed, i) for i in range(start, min(n, start + BATCH))]
            drawn = [self._draw(s, fixed) for s in seeds]
            z = torch.stack([d[0] for d in drawn]) * truncation  # shrink toward the prior's mean, 0
            classes = [d[1] for d in drawn] if self.class_names else None
            pixels = self.decode(z, None if classes is None else np.array(classes))
            for k, s in enumerate(seeds):
                info = {"class": self.class_names[classes[k]]} if classes else {}
                yield Image(pixels=pixels[k], index=start + k, seed=s, info=info)

    # ------------------------------------------------------------ genkit train / eval image

    @classmethod
    def training_task(cls, data, options, config):
        from genkit_image.task import make_task

        return make_task(data, options, config)
