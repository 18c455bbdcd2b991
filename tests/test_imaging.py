"""genkit.imaging: the ruler every image-like generator is measured with, and the rule that made it core.

A plugin that makes pictures measures itself with genkit.imaging (ruler.choose, measure.picture_metrics),
never by importing another plugin's package: plugins are installed and removed one by one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

PLUGIN_ROOTS = ("plugins", "integrations", "examples")
BASE_KEYS = {
    "samples",
    "classifier_test_accuracy",
    "classifier_trained_by_eval",
    "fd_generated",
    "fd_real_train",
    "fd_ratio",
    "precision_k3",
    "recall_k3",
    "class_kl_from_uniform",
    "classes_present",
    "rarest_class_share",
}
DIGITS = [str(d) for d in range(10)]


def plugin_packages() -> dict[str, Path]:
    """Each plugin's import package and its folder: plugins/<pkg>/, integrations/<dist>/<pkg>/, examples/<dist>/<pkg>/."""
    found = {}
    for root in PLUGIN_ROOTS:
        for init in sorted((REPO / root).glob("*/__init__.py")) + sorted((REPO / root).glob("*/*/__init__.py")):
            folder = init.parent
            if folder.name != "tests" and not folder.name.startswith("."):
                found[folder.name] = folder
    return found


def top_level_imports(source: str) -> set[str]:
    """The top-level package of every absolute import in ``source``, at module level or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.partition(".")[0])
    return names


def cross_imports(packages: dict[str, Path]) -> list[str]:
    offenders = []
    for name, folder in sorted(packages.items()):
        for path in sorted(folder.rglob("*.py")):
            others = (top_level_imports(path.read_text(encoding="utf-8")) & set(packages)) - {name}
            offenders += [f"{path.relative_to(REPO)} imports {other}" for other in sorted(others)]
    return offenders


@pytest.mark.fast
def test_no_plugin_imports_another_plugins_package():
    packages = plugin_packages()
    assert {"genkit_image", "genkit_vae", "genkit_diffusers"} <= set(packages)  # the finder sees the plugins
    offenders = cross_imports(packages)
    assert not offenders, "move what two plugins share into the core (genkit.imaging, ...):\n  " + "\n  ".join(
        offenders
    )


@pytest.mark.fast
def test_the_import_finder_sees_imports_inside_functions():
    source = "import numpy\ndef f():\n    from genkit_b.x import y\n    from . import z\n"
    assert top_level_imports(source) == {"numpy", "genkit_b"}


def digit_set(n: int, seed: int):
    from genkit.datasets import ImageSet

    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    return ImageSet(images, rng.integers(0, 10, n).astype(np.int64), list(DIGITS))


def test_the_test_split_measured_against_itself_is_at_distance_zero():
    """Generated pictures that are the test pictures: FD 0, precision and recall 1, and the conditional
    accuracy is the classifier's own test accuracy when the classes asked for are the labels."""
    torch = pytest.importorskip("torch")
    from genkit.imaging import measure, ruler

    test, train = digit_set(60, 1), digit_set(80, 2)
    judge = ruler.EvalClassifier(None, DIGITS, torch.device("cpu"))  # the shipped MNIST ruler
    generated = ruler.as_input(test.images)
    result = measure.picture_metrics(generated, test.labels, test, train, judge, DIGITS)
    assert set(result) == BASE_KEYS | {"conditional_accuracy"} | {f"accuracy_{d}" for d in DIGITS}
    assert result["samples"] == 60 and result["classifier_trained_by_eval"] == 0.0
    assert abs(result["fd_generated"]) < 1e-6 * max(1.0, result["fd_real_train"]) and result["fd_real_train"] > 0
    assert result["precision_k3"] == result["recall_k3"] == 1.0
    assert result["conditional_accuracy"] == result["classifier_test_accuracy"]

    unconditional = measure.picture_metrics(generated[:30], None, test, train, judge, DIGITS)
    assert set(unconditional) == BASE_KEYS and unconditional["samples"] == 30
    with pytest.raises(ValueError, match="more than the test"):
        measure.picture_metrics(ruler.as_input(train.images), None, test, train, judge, DIGITS)


def test_a_classifier_cached_under_the_old_trained_by_still_counts_as_trained_by_eval(tmp_path):
    """Classifiers cached before the ruler moved into the core say "genkit eval image"; new ones "genkit eval"."""
    torch = pytest.importorskip("torch")
    from genkit.imaging import ruler
    from genkit.imaging.classifier import Classifier

    config = {"arch": "classifier", "num_classes": 10, "class_names": DIGITS, "size": 28, "channels": 1}
    state = Classifier(10, 1, 28).state_dict()
    for k, (trained_by, expected) in enumerate((("genkit eval image", True), (ruler.TRAINED_BY, True), ("me", False))):
        path = tmp_path / f"classifier-{k}.safetensors"
        ruler.CLASSIFIER.save(path, state, config, metadata={"trained_by": trained_by})
        assert ruler.EvalClassifier(path, DIGITS, torch.device("cpu")).trained_by_eval is expected
