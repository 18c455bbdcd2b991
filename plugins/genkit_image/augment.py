"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

With few training images, D memorises them and G's gradients fade. DiffAugment shows D only
randomly transformed pictures, real and fake alike, through transforms that gradients pass through,
so G still learns from every step. The policy here is the paper's "color,translation,cutout" on
pictures in [-1, 1]: brightness, saturation and contrast jitter; a shift of up to 1/8 of the side
with zero fill; one zeroed square of half the side. Each picture of a batch gets its own draw from
torch's global generator (saved in every checkpoint, so --resume stays exact).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _colour(x: torch.Tensor) -> torch.Tensor:
    B = x.shape[0]
    x = x + (torch.rand(B, 1, 1, 1, device=x.device) - 0.5)  # brightness
    if x.shape[1] == 3:  # saturation: away from or toward each pixel's grey
        grey = x.mean(dim=1, keepdim=True)
        x = (x - grey) * (torch.rand(B, 1, 1, 1, device=x.device) * 2) + grey
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(B, 1, 1, 1, device=x.device) + 0.5) + mean  # contrast


def _translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    B, _, H, W = x.shape
    shift = torch.randint(-int(H * ratio), int(H * ratio) + 1, (B, 2), device=x.device).float()
    theta = torch.zeros(B, 2, 3, device=x.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2], theta[:, 1, 2] = shift[:, 0] * 2 / W, shift[:, 1] * 2 / H  # whole pixels, in [-1, 1] units
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid.to(x.dtype), mode="nearest", padding_mode="zeros", align_corners=False)


def _cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    B, _, H, W = x.shape
    h, w = int(H * ratio + 0.5), int(W * ratio + 0.5)
    top = torch.randint(0, H - h + 1, (B, 1, 1), device=x.device)
    left = torch.randint(0, W - w + 1, (B, 1, 1), device=x.device)
    rows = torch.arange(H, device=x.device).view(1, H, 1)
    cols = torch.arange(W, device=x.device).view(1, 1, W)
    inside = (rows >= top) & (rows < top + h) & (cols >= left) & (cols < left + w)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def diff_augment(x: torch.Tensor) -> torch.Tensor:
    """The same kind of transform for real and fake pictures (B, C, S, S) in [-1, 1]; differentiable in x."""
    return _cutout(_translation(_colour(x)))
