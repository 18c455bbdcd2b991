"""A recurrent-free next-frames model for 64x64 grey video, in the spirit of SimVP.

References:
- Srivastava, Mansimov, Salakhutdinov 2015, "Unsupervised Learning of Video Representations
  using LSTMs" (Moving MNIST).
- Shi et al. 2015, "Convolutional LSTM Network" (the recurrent baseline we chose not to use).
- Gao, Tan, Wu, Li 2022, "SimVP: Simpler yet Better Video Prediction": a past clip in, a future
  clip out, all frames at once, with plain convolutions; no recurrence.
- Shi et al. 2016, "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
  Convolutional Neural Network" (pixel shuffle, used here in both directions).

Why this shape (the model card says more): on two CPU cores, a ConvLSTM's 19 sequential steps
of small convolutions keep the cores mostly idle, while SimVP's idea (stack the past frames as
channels and let a convolutional network map them to the future frames in one pass) turns a clip
into a few large convolutions. We make it cheaper still by folding each frame's 4x4 pixel blocks
into channels (space-to-depth: 64x64x1 -> 16x16x16), so every convolution runs on a 16x16 grid,
and a small U-Net (16 -> 8 -> 4 and back) gives each output cell a receptive field wider than the
distance a digit travels in ten frames (36 pixels = 9 cells).

Shapes: B batch, T frames, H = W = 64 pixels; G = 16 grid cells a side; C channels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genkit.models import bounded


@dataclass
class MotionConfig:
    """The config a motion model's weights carry; the bounds are what genkit agrees to build from a file."""

    context: int = bounded(1, 64, default=10)  # frames in
    horizon: int = bounded(1, 64, default=10)  # frames out per pass; longer clips feed predictions back in
    size: int = bounded(4, 512, default=64)  # frame side in pixels
    patch: int = bounded(
        1, 16, default=4
    )  # space-to-depth factor: a frame becomes (size/patch)^2 cells of patch^2 values
    channels: int = bounded(8, 4096, default=96)  # width at the finest grid; 2x that at the coarser ones
    blocks: int = bounded(1, 32, default=2)  # residual blocks per level


def check_config(cfg: MotionConfig) -> None:
    """The shapes the network needs: two halvings of the patch grid, and channels in groups of 8."""
    if cfg.size % (4 * cfg.patch):
        raise ValueError(f"has frame size {cfg.size}, not a multiple of 4 x patch {cfg.patch}")
    if cfg.channels % 8:
        raise ValueError(f"has {cfg.channels} channels, not a multiple of 8 (the head's group norm)")


class Block(nn.Module):
    """Residual: GroupNorm -> SiLU -> 3x3 conv, twice."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.GroupNorm(8, channels),
            nn.SiLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.GroupNorm(8, channels),
            nn.SiLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x):
        return x + self.body(x)


def _level(channels: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(*[Block(channels) for _ in range(blocks)])


class MotionNet(nn.Module):
    """``forward(past)``: past frames (B, context, H, W) in [0, 1] -> logits of the next ``horizon``."""

    def __init__(self, cfg: MotionConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.size % (4 * cfg.patch):
            raise ValueError(f"frame size {cfg.size} must be a multiple of 4 x patch {cfg.patch}")
        c, cells = cfg.channels, cfg.patch * cfg.patch
        self.stem = nn.Conv2d(cfg.context * cells, c, 3, padding=1)
        self.enc1, self.down1 = _level(c, cfg.blocks), nn.Conv2d(c, 2 * c, 4, stride=2, padding=1)
        self.enc2, self.down2 = _level(2 * c, cfg.blocks), nn.Conv2d(2 * c, 2 * c, 4, stride=2, padding=1)
        self.middle = _level(2 * c, cfg.blocks)
        self.up2, self.dec2 = nn.ConvTranspose2d(2 * c, 2 * c, 4, stride=2, padding=1), _level(2 * c, cfg.blocks)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), _level(c, cfg.blocks)
        self.head = nn.Sequential(nn.GroupNorm(8, c), nn.SiLU(), nn.Conv2d(c, cfg.horizon * cells, 3, padding=1))

    def forward(self, past: torch.Tensor) -> torch.Tensor:
        x = F.pixel_unshuffle(past, self.cfg.patch)  # (B, T, H, W) -> (B, T*16, G, G): 4x4 blocks as channels
        x = self.enc1(self.stem(x))  # (B, C, G, G)
        skip1 = x
        x = self.enc2(self.down1(x))  # (B, 2C, G/2, G/2)
        skip2 = x
        x = self.middle(self.down2(x))  # (B, 2C, G/4, G/4): one cell sees the whole canvas
        x = self.dec2(self.up2(x) + skip2)
        x = self.dec1(self.up1(x) + skip1)
        return F.pixel_shuffle(self.head(x), self.cfg.patch)  # (B, horizon, H, W) logits

    @torch.no_grad()
    def rollout(self, past: torch.Tensor, frames: int) -> torch.Tensor:
        """``frames`` future frames in [0, 1], ``horizon`` at a time, each pass fed the latest ``context``."""
        window, out, made = past, [], 0
        while made < frames:
            future = torch.sigmoid(self(window[:, -self.cfg.context :]).float())
            out.append(future)
            made += future.shape[1]
            window = torch.cat([window, future], dim=1)[:, -self.cfg.context :]
        return torch.cat(out, dim=1)[:, :frames]

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
