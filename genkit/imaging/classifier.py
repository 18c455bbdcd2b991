"""A small CNN classifier for images (28x28 grey for the shipped ones), used only to measure generated images.

Inception weights (for FID, Heusel et al. 2017) cannot be downloaded here, so genkit's metrics use
the 128-d penultimate features of this network, trained on the same dataset's train split. It is
the evaluation's ruler, not a generator: `genkit eval` of an image-like generator loads the shipped
one whose classes are the data's (genkit/imaging/weights/classifier-{fashion,mnist,emoji}.safetensors,
written by `genkit train image --arch classifier`) unless `--classifier` names another.

Shapes: B batch; input (B, channels, size, size) in [-1, 1]; features (B, 128); logits (B, C).
A classifier trained by eval on a user's own data is cached, not shipped (ruler.py).
"""

from __future__ import annotations

import torch
import torch.nn as nn

FEATURES = 128


class Classifier(nn.Module):
    def __init__(self, num_classes: int = 10, channels: int = 1, size: int = 28) -> None:
        super().__init__()
        side = size // 4  # after two 2x2 poolings
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 14x14
            nn.Conv2d(32, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 7x7
            nn.Flatten(),
            nn.Dropout(0.25),
            nn.Linear(64 * side * side, FEATURES),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(FEATURES, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        features: torch.Tensor = self.body(x)  # nn.Module calls are Any to the type checker
        return features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.features(x))
        return logits
