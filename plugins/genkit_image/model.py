"""GANs for 28x28 grey-scale images: a small class-conditional DCGAN (the default) and the MLP GAN.

References:
- Radford, Metz, Chintala 2015, "Unsupervised Representation Learning with Deep Convolutional
  GANs" (DCGAN): strided transposed convolutions, batch norm in G, tanh output.
- Miyato et al. 2018, "Spectral Normalization for GANs", and Miyato & Koyama 2018, "cGANs with
  Projection Discriminator": D's class enters as an inner product with its features.
- Lim & Ye 2017, "Geometric GAN": the hinge loss.
- Yazici et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training": sample from an
  exponential moving average (EMA) of G's weights.
- Goodfellow et al. 2014 and the seed article's MLP GAN: G 100-256-512-1024-784 (ReLU, tanh),
  D 784-1024-512-256-1 (sigmoid), Adam 1e-4, binary cross-entropy, batch 32.

Shapes: B batch, Z latent size, C classes; images are (B, 1, 28, 28) in [-1, 1].
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm


def class_weights(classes, num_classes: int, batch: int, device) -> torch.Tensor | None:
    """Class weights (B, C) from class indices (B,) or weights (B, C); blends are allowed."""
    if num_classes == 0 or classes is None:
        return None
    classes = torch.as_tensor(classes, device=device)
    if classes.dim() == 1:
        return F.one_hot(classes.long(), num_classes).float()
    return classes.float().reshape(batch, num_classes)


class ConvGenerator(nn.Module):
    """z (B, Z) + class weights (B, C) -> (B, 1, 28, 28); 7x7 -> 14x14 -> 28x28 by transposed convs."""

    def __init__(self, z_dim=64, num_classes=10, width=64, embed_dim=32):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        # A linear class embedding (not a lookup) so blended class weights mix embeddings smoothly.
        self.embed = nn.Linear(num_classes, embed_dim, bias=False) if num_classes else None
        in_dim = z_dim + (embed_dim if num_classes else 0)
        self.fc = nn.Sequential(nn.Linear(in_dim, 2 * width * 7 * 7, bias=False), nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(),  # 28x28
            nn.Conv2d(width // 2, 1, 3, 1, 1), nn.Tanh(),
        )
        self.width = width

    def forward(self, z, classes=None):
        B = z.shape[0]
        weights = class_weights(classes, self.num_classes, B, z.device)
        h = z if self.embed is None else torch.cat([z, self.embed(weights)], dim=1)
        h = self.fc(h).view(B, 2 * self.width, 7, 7)
        return self.net(h)


class ConvDiscriminator(nn.Module):
    """(B, 1, 28, 28) + labels (B,) -> realness score (B,); spectral norm everywhere, projection for the class."""

    def __init__(self, num_classes=10, width=64):
        super().__init__()
        self.net = nn.Sequential(
            spectral_norm(nn.Conv2d(1, width // 2, 4, 2, 1)), nn.LeakyReLU(0.2),  # 14x14
            spectral_norm(nn.Conv2d(width // 2, width, 4, 2, 1)), nn.LeakyReLU(0.2),  # 7x7
            spectral_norm(nn.Conv2d(width, 2 * width, 3, 2, 1)), nn.LeakyReLU(0.2),  # 4x4
        )
        features = 2 * width * 4 * 4
        self.out = spectral_norm(nn.Linear(features, 1))
        self.embed = spectral_norm(nn.Embedding(num_classes, features)) if num_classes else None

    def forward(self, x, labels=None):
        h = self.net(x).flatten(1)  # (B, features)
        score = self.out(h).squeeze(1)
        if self.embed is not None and labels is not None:
            score = score + (self.embed(labels) * h).sum(1)  # projection: <embed(y), features>
        return score


class MLPGenerator(nn.Module):
    """The article's G: z (B, 100) -> 256 -> 512 -> 1024 -> 784, ReLU then tanh. Unconditional."""

    def __init__(self, z_dim=100):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, 0
        self.net = nn.Sequential(
            nn.Linear(z_dim, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
            nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 784), nn.Tanh(),
        )

    def forward(self, z, classes=None):
        return self.net(z).view(-1, 1, 28, 28)


class MLPDiscriminator(nn.Module):
    """The article's D: 784 -> 1024 -> 512 -> 256 -> 1. Returns logits; the sigmoid lives in the BCE loss."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 512), nn.LeakyReLU(0.2),
            nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1),
        )

    def forward(self, x, labels=None):
        return self.net(x.flatten(1)).squeeze(1)


def build_generator(config: dict) -> nn.Module:
    if config["arch"] == "mlp":
        return MLPGenerator(config["z_dim"])
    return ConvGenerator(config["z_dim"], config["num_classes"], config["width"], config["embed_dim"])


class GAN(nn.Module):
    """Everything training updates: G, D, and G_ema, the moving average users sample from."""

    def __init__(self, config: dict):
        super().__init__()
        self.config = config
        self.G = build_generator(config)
        if config["arch"] == "mlp":
            self.D = MLPDiscriminator()
        else:
            self.D = ConvDiscriminator(config["num_classes"], config["width"])
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
