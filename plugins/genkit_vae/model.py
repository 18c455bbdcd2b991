"""A variational autoencoder for images: 28x28 binarized digits (Bernoulli) or colour pictures (discretized logistic).

References: Kingma & Welling 2014 (the VAE and its ELBO); Burda, Grosse & Salakhutdinov 2016
(the importance-sampled log-likelihood estimate used by `nll`); Salimans et al. 2017 (PixelCNN++:
the discretized logistic likelihood of 8-bit values, here one component per sub-pixel).

The encoder is convolutional (stride-2 convolutions down to 8x8 or 7x7); the decoder is a fully
connected network. The decoder runs k = 5000 times per test image in the likelihood estimate,
50 million times over the MNIST test set, and a small MLP is what makes that fit in minutes on a CPU.

Config keys ``size``, ``image_channels`` and ``likelihood`` are absent from weights older than
them, which are 28x28 grey Bernoulli models; the defaults below rebuild exactly those.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from genkit.models import bounded, one_of


@dataclass
class VAEConfig:
    """The config a VAE's weights carry; the bounds are what genkit agrees to build from a file."""

    latent: int = bounded(1, 4096, default=50)  # Burda et al.'s one-layer models use 50 latent units
    hidden: int = bounded(1, 65536, default=256)  # two hidden layers in the decoder (Burda et al.: 200)
    channels: int = bounded(1, 4096, default=32)  # the encoder's first convolution; each further one doubles it
    size: int = bounded(8, 128, default=28)  # pictures are size x size
    image_channels: int = one_of(1, 3, default=1)  # 1 grey, 3 colour
    # "bernoulli" (binarized values) or "logistic" (8-bit values)
    likelihood: str = one_of("bernoulli", "logistic", default="bernoulli")
    # "mlp" (fast enough for k = 5000 on a CPU) or "conv" (sharper colour pictures)
    decoder: str = one_of("mlp", "conv", default="mlp")
    iwae_k: int = bounded(1, 5000, default=1)  # training objective: 1 is the ELBO, k > 1 the k-sample IWAE bound

    @property
    def pixels(self) -> int:
        """Sub-pixels per picture: the decoder's output has one (Bernoulli) or two (logistic) values for each."""
        return self.image_channels * self.size * self.size

    @property
    def outputs(self) -> int:
        return self.pixels * (2 if self.likelihood == "logistic" else 1)


class Encoder(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        layers, c_in, c, side = [], cfg.image_channels, cfg.channels, cfg.size
        while side > 8:  # 28: 14, 7; 64: 32, 16, 8
            layers += [nn.Conv2d(c_in, c, 4, 2, 1), nn.ELU()]
            c_in, c, side = c, 2 * c, side // 2
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c_in * side * side, cfg.hidden), nn.ELU())
        self.mu = nn.Linear(cfg.hidden, cfg.latent)
        self.logvar = nn.Linear(cfg.hidden, cfg.latent)

    def forward(self, x):  # x: (B, C, S, S) in [0, 1]
        h = self.fc(self.conv(x))
        return self.mu(h), self.logvar(h).clamp(-12, 8)


def encoder_stages(cfg: VAEConfig) -> list[tuple[int, int]]:
    """(channels, side) after each of the encoder's stride-2 convolutions: 64 -> [(32, 32), (64, 16), (128, 8)]."""
    out, c, side = [], cfg.channels, cfg.size
    while side > 8:
        side //= 2
        out.append((c, side))
        c *= 2
    return out


def Decoder(cfg: VAEConfig) -> nn.Module:
    return ConvDecoder(cfg) if cfg.decoder == "conv" else MLPDecoder(cfg)


class ConvDecoder(nn.Module):
    """The encoder mirrored: z -> hidden -> (channels, 8, 8) (or 7x7) -> transposed convolutions to the picture.

    Its output is laid out as the MLP decoder's: (..., P) logits, or (..., 2P) means then log scales,
    each in the (C, S, S) order of ``x.flatten(1)``.
    """

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        stages = encoder_stages(cfg)
        c_top, side = stages[-1] if stages else (cfg.image_channels, cfg.size)
        self.top = (c_top, side)
        self.fc = nn.Sequential(
            nn.Linear(cfg.latent, cfg.hidden), nn.ELU(), nn.Linear(cfg.hidden, c_top * side * side), nn.ELU()
        )
        per_pixel = cfg.outputs // cfg.pixels * cfg.image_channels  # channels x (1 or 2 values per sub-pixel)
        layers, c = [], c_top
        for c_next, _ in reversed(stages[:-1]):
            layers += [nn.ConvTranspose2d(c, c_next, 4, 2, 1), nn.ELU()]
            c = c_next
        last = [nn.ConvTranspose2d(c, per_pixel, 4, 2, 1)] if stages else [nn.Conv2d(c, per_pixel, 3, 1, 1)]
        self.net = nn.Sequential(*layers, *last)

    def forward(self, z):
        lead = z.shape[:-1]
        h = self.fc(z.reshape(-1, z.shape[-1])).view(-1, self.top[0], self.top[1], self.top[1])
        return self.net(h).reshape(*lead, self.cfg.outputs)  # (N, values x C, S, S) flattens values-major


class MLPDecoder(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(cfg.latent, cfg.hidden),
            nn.ELU(),
            nn.Linear(cfg.hidden, cfg.hidden),
            nn.ELU(),
            nn.Linear(cfg.hidden, cfg.outputs),
        )

    def forward(self, z):  # z: (..., latent) -> Bernoulli logits (..., P) or logistic (mean, log scale) (..., 2P)
        return self.net(z)


def bernoulli_log_prob(logits, x):
    """log p(x | logits) summed over pixels, for logits (..., B, P) and x (B, P).

    The same value as -binary_cross_entropy_with_logits, written as x . logits - sum softplus(logits):
    one product-sum and one element-wise pass instead of BCE's several, which makes the k = 5000
    likelihood estimate about 1.5x faster.
    """
    return torch.einsum("...bp,bp->...b", logits, x) - F.softplus(logits).sum(-1)


def logistic_log_prob(params, x):
    """log p(x | params) summed over sub-pixels, x (B, P) 8-bit values in [0, 1], params (..., B, 2P).

    Each sub-pixel's 256 levels are bins of width 2/255 on [-1, 1] under a logistic of that mean
    and log scale; the two end bins take the tails (Salimans et al. 2017, one component).
    """
    mean, log_scale = params.chunk(2, dim=-1)
    inv = torch.exp(-log_scale.clamp(min=-7.0))
    centred = (2 * x - 1) - mean
    upper, lower = inv * (centred + 1 / 255), inv * (centred - 1 / 255)
    bin_mass = torch.sigmoid(upper) - torch.sigmoid(lower)
    middle = inv * centred  # where the bin is too thin for a difference of sigmoids, the density times its width
    density = middle - log_scale.clamp(min=-7.0) - 2 * F.softplus(middle) + math.log(2 / 255)
    inner = torch.where(bin_mass > 1e-5, torch.log(bin_mass.clamp(min=1e-12)), density)
    bottom = upper - F.softplus(upper)  # log sigmoid(upper): all mass below the first bin's top
    top = -F.softplus(lower)  # log (1 - sigmoid(lower)): all mass above the last bin's bottom
    edge = 2 * x - 1
    return torch.where(edge < -0.999, bottom, torch.where(edge > 0.999, top, inner)).sum(-1)


def mean_picture(cfg: VAEConfig, out: torch.Tensor) -> torch.Tensor:
    """The decoder's output -> the picture it means, values in [0, 1], (..., C, S, S)."""
    if cfg.likelihood == "logistic":
        values = (out[..., : cfg.pixels].clamp(-1, 1) + 1) / 2
    else:
        values = torch.sigmoid(out)
    return values.reshape(*out.shape[:-1], cfg.image_channels, cfg.size, cfg.size)


def gaussian_log_prob(z, mu, logvar):
    return -0.5 * (((z - mu) ** 2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)


class VAE(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)

    def log_likelihood(self, out, flat):
        if self.cfg.likelihood == "logistic":
            return logistic_log_prob(out, flat)
        return bernoulli_log_prob(out, flat)

    def forward(self, x):
        """The training loss: the negative ELBO (or with ``iwae_k`` > 1 the negative IWAE bound) per image, in nats,
        averaged over the batch."""
        if self.cfg.iwae_k > 1:
            return -self.iwae_bound(x, self.cfg.iwae_k).mean()
        return -self.elbo(x).mean()

    def iwae_bound(self, x, k: int):
        """log (1/k) sum_i p(x, z_i) / q(z_i | x) with z_i ~ q(z | x): tighter than the ELBO as k grows."""
        mu, logvar = self.encoder(x)
        return torch.logsumexp(self._log_weights(x.flatten(1), mu, logvar, k), 0) - math.log(k)

    def _log_weights(self, flat, mu, logvar, m: int):
        """log p(x | z) + log p(z) - log q(z | x) for m samples z ~ q(z | x): (m, B)."""
        z = mu + torch.randn(m, *mu.shape, device=mu.device) * (0.5 * logvar).exp()  # (m, B, latent)
        return (
            self.log_likelihood(self.decoder(z), flat)
            + gaussian_log_prob(z, 0.0, torch.zeros_like(z))
            - gaussian_log_prob(z, mu, logvar)
        )

    def elbo(self, x):
        mu, logvar = self.encoder(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        rec = self.log_likelihood(self.decoder(z), x.flatten(1))
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(-1)  # KL(q(z|x) || N(0, I)) in closed form
        return rec - kl

    @torch.no_grad()
    def nll(self, x, k: int = 5000, chunk: int = 500):
        """-log p(x) per image, estimated with k importance samples from q(z|x) (Burda et al. 2016)."""
        mu, logvar = self.encoder(x)
        flat = x.flatten(1)  # (B, P)
        log_w = torch.cat(
            [self._log_weights(flat, mu, logvar, min(chunk, k - start)) for start in range(0, k, chunk)]
        )  # (k, B)
        return -(torch.logsumexp(log_w, 0) - math.log(k))

    def config(self) -> dict:
        return asdict(self.cfg)
