"""Scores for predicted frames: squared error per frame, SSIM, and two model-free baselines.

Frames are float tensors in [0, 1], shaped (B, T, H, W).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SHIFT_RANGE = 5  # a Moving MNIST digit moves at most 3.6 pixels a frame along an axis


def squared_error_per_frame(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, T): squared error summed over each frame's pixels (the literature's 'MSE per frame')."""
    return (prediction.float() - target.float()).pow(2).flatten(2).sum(-1)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-x.pow(2) / (2 * sigma * sigma))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]  # (1, 1, size, size)


def ssim_per_frame(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, T): SSIM of Wang et al. 2004 (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03,
    data range 1), averaged over the window positions that lie wholly inside the frame."""
    B, T, H, W = target.shape
    x = prediction.float().reshape(B * T, 1, H, W)
    y = target.float().reshape(B * T, 1, H, W)
    window = _gaussian_window().to(x.device)
    mean_x, mean_y = F.conv2d(x, window), F.conv2d(y, window)
    var_x = F.conv2d(x * x, window) - mean_x.pow(2)
    var_y = F.conv2d(y * y, window) - mean_y.pow(2)
    cov = F.conv2d(x * y, window) - mean_x * mean_y
    c1, c2 = 0.01**2, 0.03**2
    ssim = ((2 * mean_x * mean_y + c1) * (2 * cov + c2)) / ((mean_x.pow(2) + mean_y.pow(2) + c1) * (var_x + var_y + c2))
    return ssim.flatten(1).mean(1).reshape(B, T)


def copy_last(past: torch.Tensor, horizon: int) -> torch.Tensor:
    """Baseline: the last seen frame, repeated."""
    return past[:, -1:].expand(-1, horizon, -1, -1)


def shift_frames(frames: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Move each frame (B, H, W) by its own integer (dy, dx); what enters from outside is black."""
    B, H, W = frames.shape
    rows = torch.arange(H, device=frames.device)[None, :] - dy[:, None]  # source row of each target row
    cols = torch.arange(W, device=frames.device)[None, :] - dx[:, None]
    inside = ((rows >= 0) & (rows < H))[:, :, None] & ((cols >= 0) & (cols < W))[:, None, :]
    batch = torch.arange(B, device=frames.device)[:, None, None]
    moved = frames[batch, rows.clamp(0, H - 1)[:, :, None], cols.clamp(0, W - 1)[:, None, :]]
    return moved * inside


def best_shift(
    before: torch.Tensor, after: torch.Tensor, reach: int = SHIFT_RANGE
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per frame pair (B, H, W): the integer shift within +-reach that best maps before onto after."""
    B = before.shape[0]
    best = torch.full((B,), float("inf"), device=before.device)
    dy, dx = torch.zeros(B, dtype=torch.long, device=before.device), torch.zeros_like(best, dtype=torch.long)
    for sy in range(-reach, reach + 1):
        for sx in range(-reach, reach + 1):
            shift_y = torch.full((B,), sy, device=before.device)
            shift_x = torch.full((B,), sx, device=before.device)
            error = (shift_frames(before, shift_y, shift_x) - after).pow(2).flatten(1).sum(1)
            better = error < best
            best = torch.where(better, error, best)
            dy, dx = torch.where(better, shift_y, dy), torch.where(better, shift_x, dx)
    return dy, dx


def linear_motion(past: torch.Tensor, horizon: int) -> torch.Tensor:
    """Baseline: the last frame moved on by the whole-frame motion between the last two, k steps for frame k."""
    dy, dx = best_shift(past[:, -2].float(), past[:, -1].float())
    last = past[:, -1].float()
    return torch.stack([shift_frames(last, k * dy, k * dx) for k in range(1, horizon + 1)], dim=1)
