"""The training pictures every image-like task feeds the shared loop, as a map-style dataset."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class PictureDataset:
    """(picture (C, S, S) float in [-1, 1], label) pairs from uint8 arrays (N, S, S) or (N, S, S, 3).

    The pictures stay uint8 until a batch is taken: 4x less memory than float. ``__getitems__`` is
    the loop's fast path (one indexing per batch rather than one per picture).
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(images))
        self.images = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)
        self.labels = torch.from_numpy(labels)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[i].float().div(127.5).sub(1.0), self.labels[i]

    def __getitems__(self, indices: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
        x = self.images[indices].float().div_(127.5).sub_(1.0)
        return list(zip(x, self.labels[indices], strict=True))
