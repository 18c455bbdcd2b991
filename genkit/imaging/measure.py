"""Generated pictures -> the numbers `genkit eval` reports for an image-like generator.

The caller samples its own model (a GAN, a diffusion model, ...) and hands the pictures over with
the classes it asked for; everything after that is the same for every generator, so their figures
can be compared: features and predicted classes from the evaluation classifier (ruler.py), the
Frechet distance of the generated pictures to the test split against that of as many train pictures
(chosen with a seeded generator, so two evals of one model agree), k-NN precision and recall, and
how evenly the predicted classes fall (metrics.py).
"""

from __future__ import annotations

import numpy as np
import torch

from genkit.datasets import ImageSet
from genkit.imaging import metrics
from genkit.imaging.ruler import EvalClassifier, as_input


def picture_metrics(
    generated: torch.Tensor,
    classes: np.ndarray | None,
    test: ImageSet,
    train_set: ImageSet,
    judge: EvalClassifier,
    class_names: list[str],
) -> dict[str, float]:
    """The metrics of ``generated``, float (N, C, S, S) in [-1, 1], against the first N test pictures.

    ``classes``: the int class each picture was drawn for, (N,), or None for an unconditional model
    (then no conditional_accuracy or accuracy_<name> keys). ``class_names``: the model's, one
    accuracy_<name> per class. N may not exceed either split: the caller picks it (e.g. 10,000 or
    the smaller split).
    """
    n = len(generated)
    if n > len(test.images) or n > len(train_set.images):
        raise ValueError(f"{n} generated pictures, more than the test ({len(test.images)}) or train split holds")
    pick = np.random.default_rng(0).choice(len(train_set.images), n, replace=False)
    f_fake, p_fake = judge.run(generated)
    f_test, p_test = judge.run(as_input(test.images[:n]))
    f_train, _ = judge.run(as_input(train_set.images[pick]))
    fd_gen, fd_real = metrics.frechet_distance(f_fake, f_test), metrics.frechet_distance(f_train, f_test)
    precision, recall = metrics.precision_recall(f_test, f_fake, k=3)
    counts = np.bincount(p_fake, minlength=len(judge.class_names))
    result = {
        "samples": n,
        "classifier_test_accuracy": float((p_test == test.labels[:n]).mean()),
        "classifier_trained_by_eval": float(judge.trained_by_eval),
        "fd_generated": fd_gen,
        "fd_real_train": fd_real,
        "fd_ratio": fd_gen / max(fd_real, 1e-12),  # 1: as far from the test split as real train pictures are
        "precision_k3": precision,
        "recall_k3": recall,
        "class_kl_from_uniform": metrics.kl_from_uniform(p_fake, len(judge.class_names)),
        "classes_present": int((counts > 0).sum()),
        "rarest_class_share": float(counts.min() / n),
    }
    if classes is not None:
        hits = p_fake == classes
        result["conditional_accuracy"] = float(hits.mean())
        for k, name in enumerate(class_names):
            result[f"accuracy_{name}"] = float(hits[classes == k].mean())
    return result
