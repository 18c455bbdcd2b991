"""Sample-quality metrics on classifier features: Frechet distance, k-NN precision/recall, coverage.

References:
- Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule ..." (FID): the Frechet
  distance between Gaussians fitted to two sets of features.
- Kynkaanniemi et al. 2019, "Improved Precision and Recall Metric for Assessing Generative
  Models": each set's manifold is the union of balls reaching each point's k-th nearest neighbour.

Inputs are float arrays of features, (N, D) and (M, D).
"""

from __future__ import annotations

import numpy as np
import torch


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)), in float64.

    tr((S_a S_b)^(1/2)) equals tr((R S_b R)^(1/2)) with R = S_a^(1/2), and R S_b R is symmetric,
    so symmetric eigen-decompositions suffice (no scipy.linalg.sqrtm, no complex round-off).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    vals, vecs = np.linalg.eigh(cov_a)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def _kth_radius(x: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    """Distance from each point to its k-th nearest other point in the same set, (N,)."""
    radii = []
    for start in range(0, len(x), chunk):
        d = torch.cdist(x[start : start + chunk], x)  # (chunk, N); the point itself is at distance 0
        radii.append(d.kthvalue(k + 1, dim=1).values)
    return torch.cat(radii)


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """For each point: is it within some centre's radius? (bool, len(points))."""
    hits = []
    for start in range(0, len(points), chunk):
        d = torch.cdist(points[start : start + chunk], centres)
        hits.append((d <= radii[None, :]).any(dim=1))
    return torch.cat(hits)


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Precision: share of fakes inside the real manifold; recall: share of reals inside the fake one.

    With fewer than k + 1 points in a set (tiny test data), k shrinks to what the set allows.
    """
    real_t, fake_t = torch.as_tensor(real, dtype=torch.float32), torch.as_tensor(fake, dtype=torch.float32)
    k = max(1, min(k, len(real_t) - 1, len(fake_t) - 1))
    precision = _inside(fake_t, real_t, _kth_radius(real_t, k)).float().mean().item()
    recall = _inside(real_t, fake_t, _kth_radius(fake_t, k)).float().mean().item()
    return precision, recall


def kl_from_uniform(predicted: np.ndarray, num_classes: int) -> float:
    """KL(histogram of predicted classes || uniform), in nats; 0 when every class is equally common."""
    counts = np.bincount(np.asarray(predicted), minlength=num_classes).astype(np.float64)
    p = counts / counts.sum()
    nonzero = p > 0
    return float((p[nonzero] * np.log(p[nonzero] * num_classes)).sum())
