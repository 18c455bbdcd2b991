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
from genkit import weights_check
from genkit.artifacts import Image
from genkit.classnames import find_class
from genkit.device import item_seed
from genkit.errors import GenkitError
from genkit_image.model import SIZES, build_generator, picture

BATCH = 256
# Sizes a GAN config may claim; checked before anything is built from it.
CONFIG_BOUNDS = {
    "z_dim": (1, 4096),
    "num_classes": (0, 10_000),
    "width": (1, 4096),
    "embed_dim": (0, 4096),
    "size": (1, 4096),
    "channels": (1, 3),
}
OPTIONAL = ("num_classes", "size", "channels")  # size and channels: absent in weights older than them (28x28 grey)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, C, S, S) in [-1, 1] -> uint8 (B, S, S) grey or (B, S, S, 3) colour."""
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    return pixels[:, 0].numpy() if pixels.shape[1] == 1 else pixels.permute(0, 2, 3, 1).numpy()


def check_picture(config: dict, weights) -> None:
    """The config's size and channels are ones the network is built for."""
    size, channels = picture(config)
    if config["arch"] == "mlp" and (size, channels) != (28, 1):
        raise GenkitError(f"{weights}: the mlp GAN makes 28x28 grey images only")
    if size not in SIZES or channels not in (1, 3):
        raise GenkitError(
            f"{weights}: its config asks for {size}x{size} pictures with {channels} channels; "
            f"genkit builds sizes {', '.join(map(str, SIZES))} with 1 or 3 channels"
        )


class ImageGenerator:
    def __init__(self, device, weights):
        self.device = device
        config = gk_weights.metadata(weights).get("config") or {}
        if not isinstance(config, dict) or config.get("arch") not in ("dcgan", "mlp", "classifier"):
            raise GenkitError(f"{weights} was not written by 'genkit train image' (no GAN config in its metadata)")
        if config.get("arch") == "classifier":
            raise GenkitError(f"{weights} holds the evaluation classifier, not an image generator")
        bounds = CONFIG_BOUNDS if config["arch"] == "dcgan" else {"z_dim": CONFIG_BOUNDS["z_dim"]}
        weights_check.read_config(
            weights, "image", dict(bounds, num_classes=CONFIG_BOUNDS["num_classes"]), optional=OPTIONAL
        )
        check_picture(config, weights)
        names = config.get("class_names") or []
        if config.get("num_classes") and (not isinstance(names, list) or len(names) != config["num_classes"]):
            raise GenkitError(f"{weights}: its config's class_names do not list {config['num_classes']} classes")
        weights_check.check_fits(weights, "image", lambda: build_generator(config))  # before any memory is used
        tensors, _ = gk_weights.load_tensors(weights, device)
        self.config = config
        self.latent_dim = config["z_dim"]
        # Only class-conditional weights list classes; genkit video reads this attribute.
        self.class_names = [str(c) for c in config["class_names"]] if config.get("num_classes") else None
        self.G = build_generator(config).to(device)
        gk_weights.load_into(self.G, tensors, weights)
        self.G.eval()

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
