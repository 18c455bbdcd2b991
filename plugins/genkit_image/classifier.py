"""A small CNN classifier for 28x28 grey-scale images, used only to measure generated images.

Inception weights (for FID, Heusel et al. 2017) cannot be downloaded here, so genkit's metrics use
the 128-d penultimate features of this network, trained on the same dataset's train split. It is
the evaluation's ruler, not a generator: `genkit eval image` loads the shipped one whose classes
are the data's (weights/classifier-fashion.safetensors, classifier-mnist.safetensors) unless
`--classifier` names another.

Shapes: B batch; input (B, 1, 28, 28) in [-1, 1]; features (B, 128); logits (B, C).
"""

from __future__ import annotations

import torch
import torch.nn as nn

FEATURES = 128


class Classifier(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 14x14
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),  # 7x7
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, FEATURES), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(FEATURES, num_classes))

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.body(x))
