"""GANs for images: a small class-conditional DCGAN (the default; grey or colour, 8 to 128 pixels) and the MLP GAN (28x28 grey).

References:
- Radford, Metz, Chintala 2015, "Unsupervised Representation Learning with Deep Convolutional
  GANs" (DCGAN): strided transposed convolutions, batch norm in G, tanh output.
- Miyato et al. 2018, "Spectral Normalization for GANs", and Miyato & Koyama 2018, "cGANs with
  Projection Discriminator": D's class enters as an inner product with its features.
- Lim & Ye 2017, "Geometric GAN": the hinge loss.
- Odena, Olah, Shlens 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs": with
  ``class_loss`` > 0, D also classifies real pictures and G is rewarded when its pictures are
  classified as the class they were drawn for (the projection term stays).
- Yazici et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training": sample from an
  exponential moving average (EMA) of G's weights.
- Goodfellow et al. 2014 and the seed article's MLP GAN: G 100-256-512-1024-784 (ReLU, tanh),
  D 784-1024-512-256-1 (sigmoid), Adam 1e-4, binary cross-entropy, batch 32.

Shapes: B batch, Z latent size, C classes; images are (B, channels, size, size) in [-1, 1].
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

from genkit.datasets import PICTURE_SIZES, picture
from genkit.models import bounded, one_of


def class_weights(classes, num_classes: int, batch: int, device) -> torch.Tensor | None:
    """Class weights (B, C) from class indices (B,) or weights (B, C); blends are allowed."""
    if num_classes == 0 or classes is None:
        return None
    classes = torch.as_tensor(classes, device=device)
    if classes.dim() == 1:
        return F.one_hot(classes.long(), num_classes).float()
    return classes.float().reshape(batch, num_classes)


SIZES = PICTURE_SIZES  # a 4x4 or 7x7 base doubled 1 to 5 times


def stages(size: int) -> tuple[int, int]:
    """(base, up-sampling stages) for a supported size: 28 -> (7, 2), 64 -> (4, 4)."""
    for base in (7, 4):
        n = 1
        while base << n <= size:
            if base << n == size:
                return base, n
            n += 1
    raise ValueError(f"size {size} is not one of {SIZES}")


class ConvGenerator(nn.Module):
    """z (B, Z) + class weights (B, C) -> (B, channels, size, size) by transposed convs from a 7x7 or 4x4 base.

    28x28 grey (the shipped weights): 7x7 -> 14x14 -> 28x28, channels 2w -> w -> w/2 -> 1; each
    further doubling of the size adds one stage and doubles the channels at the base.
    """

    def __init__(self, z_dim=64, num_classes=10, width=64, embed_dim=32, size=28, channels=1):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        self.base, n = stages(size)
        # A linear class embedding (not a lookup) so blended class weights mix embeddings smoothly.
        self.embed = nn.Linear(num_classes, embed_dim, bias=False) if num_classes else None
        in_dim = z_dim + (embed_dim if num_classes else 0)
        self.top = width << (n - 1)  # channels at the base
        cells = self.top * self.base * self.base
        self.fc = nn.Sequential(nn.Linear(in_dim, cells, bias=False), nn.BatchNorm1d(cells), nn.ReLU())
        layers, c = [], self.top
        for _ in range(n):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU()]
            c //= 2
        self.net = nn.Sequential(*layers, nn.Conv2d(c, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z, classes=None):
        B = z.shape[0]
        weights = class_weights(classes, self.num_classes, B, z.device)
        h = z if self.embed is None else torch.cat([z, self.embed(weights)], dim=1)
        h = self.fc(h).view(B, self.top, self.base, self.base)
        return self.net(h)


class ConvDiscriminator(nn.Module):
    """(B, channels, size, size) + labels (B,) -> realness score (B,); spectral norm everywhere, projection for the class.

    Strided convolutions halve the picture down to 4x4 (28: 14, 7, 4), channels w/2, w, 2w, ...
    """

    def __init__(self, num_classes=10, width=64, size=28, channels=1, classify=False):
        super().__init__()
        layers, c_in, c, side = [], channels, width // 2, size
        while side > 4:
            kernel = 4 if side % 2 == 0 else 3  # an odd side (7) goes to (side + 1) / 2
            layers += [spectral_norm(nn.Conv2d(c_in, c, kernel, 2, 1)), nn.LeakyReLU(0.2)]
            c_in, c, side = c, 2 * c, (side + 1) // 2
        self.net = nn.Sequential(*layers)
        features = c_in * side * side
        self.out = spectral_norm(nn.Linear(features, 1))
        self.embed = spectral_norm(nn.Embedding(num_classes, features)) if num_classes else None
        # The auxiliary classifier's head is not spectrally normalised: it needs confident logits.
        self.classify = nn.Linear(features, num_classes) if classify and num_classes else None

    def forward(self, x, labels=None, with_logits=False):
        """The score (B,); with ``with_logits``, (score, class logits (B, C)) for the auxiliary class loss."""
        h = self.net(x).flatten(1)  # (B, features)
        score = self.out(h).squeeze(1)
        if self.embed is not None and labels is not None:
            score = score + (self.embed(labels) * h).sum(1)  # projection: <embed(y), features>
        return (score, self.classify(h)) if with_logits else score


class MLPGenerator(nn.Module):
    """The article's G: z (B, 100) -> 256 -> 512 -> 1024 -> 784, ReLU then tanh. Unconditional."""

    def __init__(self, z_dim=100):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, 0
        self.net = nn.Sequential(
            nn.Linear(z_dim, 256),
            nn.ReLU(),
            nn.Linear(256, 512),
            nn.ReLU(),
            nn.Linear(512, 1024),
            nn.ReLU(),
            nn.Linear(1024, 784),
            nn.Tanh(),
        )

    def forward(self, z, classes=None):
        return self.net(z).view(-1, 1, 28, 28)


class MLPDiscriminator(nn.Module):
    """The article's D: 784 -> 1024 -> 512 -> 256 -> 1. Returns logits; the sigmoid lives in the BCE loss."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(784, 1024),
            nn.LeakyReLU(0.2),
            nn.Linear(1024, 512),
            nn.LeakyReLU(0.2),
            nn.Linear(512, 256),
            nn.LeakyReLU(0.2),
            nn.Linear(256, 1),
        )

    def forward(self, x, labels=None):
        return self.net(x.flatten(1)).squeeze(1)


@dataclass
class GANConfig:
    """The generator's part of the config a GAN's weights carry; the bounds are what genkit builds from a file.

    The training-only keys (ema, class_loss, diffaugment, ...) stay in the file's config table.
    """

    arch: str = one_of("dcgan", "mlp")
    z_dim: int = bounded(1, 4096)
    num_classes: int = bounded(0, 10_000, default=0)
    width: int | None = bounded(1, 4096, default=None)  # dcgan only
    embed_dim: int | None = bounded(0, 4096, default=None)  # dcgan only
    size: int = one_of(*SIZES, default=28)  # absent in weights older than it: 28x28 grey
    channels: int = one_of(1, 3, default=1)
    class_names: list = field(default_factory=list)


def check_config(cfg: GANConfig) -> None:
    """What one field alone cannot say: the dcgan's widths, the mlp's one picture shape, a name per class."""
    if cfg.arch == "dcgan" and (cfg.width is None or cfg.embed_dim is None):
        raise ValueError("has no whole number 'width' and 'embed_dim' for its dcgan")
    if cfg.arch == "mlp" and (cfg.size, cfg.channels) != (28, 1):
        raise ValueError("asks the mlp GAN for other than 28x28 grey images")
    if cfg.num_classes and len(cfg.class_names) != cfg.num_classes:
        raise ValueError(f"lists {len(cfg.class_names)} class_names for {cfg.num_classes} classes")


def build_generator(config: dict | GANConfig) -> nn.Module:
    if isinstance(config, GANConfig):
        config = asdict(config)
    if config["arch"] == "mlp":
        return MLPGenerator(config["z_dim"])
    size, channels = picture(config)
    return ConvGenerator(config["z_dim"], config["num_classes"], config["width"], config["embed_dim"], size, channels)


class GAN(nn.Module):
    """Everything training updates: G, D, and G_ema, the moving average users sample from."""

    def __init__(self, config: dict):
        super().__init__()
        self.config = config
        self.G = build_generator(config)
        if config["arch"] == "mlp":
            self.D = MLPDiscriminator()
        else:
            self.D = ConvDiscriminator(
                config["num_classes"], config["width"], *picture(config), classify=config.get("class_loss", 0) > 0
            )
        self.G_ema = copy.deepcopy(self.G).requires_grad_(False)

    @torch.no_grad()
    def update_ema(self, decay: float):
        for e, p in zip(self.G_ema.parameters(), self.G.parameters()):
            e.lerp_(p, 1 - decay)
        # Batch-norm statistics are averaged too, so G_ema's eval mode matches its weights.
        for e, b in zip(self.G_ema.buffers(), self.G.buffers()):
            if e.dtype.is_floating_point:
                e.lerp_(b, 1 - decay)
            else:
                e.copy_(b)

    def forward(self, z, classes=None):
        return self.G(z, classes)
