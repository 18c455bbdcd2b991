"""Training and evaluation tasks for genkit's shared loop (docs/plugins.md, section 4).

``genkit train image --arch dcgan|mlp`` trains a GAN with its own ``train_step`` (two optimizers,
two losses) that goes through the loop's StepContext, so --precision, gradient clipping and --nproc
apply to it; its EMA generator is part of the model, so it is in every checkpoint. ``--arch
classifier`` trains the evaluation CNN through ``loss``. ``genkit eval image``
measures a GAN in the classifier's feature space (metrics.py).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genkit import weights as gk_weights
from genkit.errors import GenkitError
from genkit.train import TrainingTask
from genkit_image import data as image_data
from genkit_image import metrics
from genkit_image.classifier import Classifier
from genkit_image.model import GAN

# Shipped evaluation classifiers, one per dataset (classifier-fashion, classifier-mnist): eval picks
# the one whose class names are the data's.
WEIGHTS_FOLDER = "weights"
EVAL_SAMPLES = 10_000


def make_task(data: Path, options: dict, config: dict | None):
    arch = (config or {}).get("arch") or options.get("arch") or "dcgan"
    if arch == "classifier":
        return ClassifierTask(data, config)
    return GANTask(data, arch, options, config)


class ImageDataset:
    """Map-style dataset of (image (1, 28, 28) float in [-1, 1], label) pairs from uint8 arrays."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images = torch.from_numpy(images)
        self.labels = torch.from_numpy(labels)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i].unsqueeze(0).float().div(127.5).sub(1.0), self.labels[i]


def _as_input(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).unsqueeze(1).float().div(127.5).sub(1.0)


def _check_classes(config: dict | None, found: list[str], data: Path):
    if config and list(config["class_names"]) != list(found):
        raise GenkitError(f"--data {data} has classes {found}, but the weights were trained on {config['class_names']}")


# ---------------------------------------------------------------- the GANs


class GANTask(TrainingTask):
    def __init__(self, data: Path, arch: str, options: dict, config: dict | None):
        self.data = Path(data)
        self.options = options
        self.train_set = image_data.load(self.data, "train")
        _check_classes(config, self.train_set.class_names, self.data)
        names = self.train_set.class_names
        if config is not None:
            self.config = dict(config)
        elif arch == "mlp":  # the article's recipe, unconditional
            self.config = {"arch": "mlp", "z_dim": 100, "num_classes": 0, "class_names": names, "ema": 0.0}
        else:
            self.config = {"arch": "dcgan", "z_dim": 64, "num_classes": len(names), "class_names": names,
                           "width": 64, "embed_dim": 32, "ema": 0.999}
        if self.config["arch"] == "mlp":
            self.defaults = {"epochs": 20, "batch_size": 32, "lr": 1e-4}
        else:  # batch norm in G needs two or more examples per process
            self.defaults = {"epochs": 20, "batch_size": 64, "lr": 2e-4, "min_batch": 2}

    def build_model(self):
        return GAN(self.config)

    def train_data(self):
        return ImageDataset(self.train_set.images, self.train_set.labels)

    def optimizers(self, model, lr):
        # DCGAN's Adam betas (0.5, 0.999); the article keeps Adam's defaults.
        betas = (0.9, 0.999) if self.config["arch"] == "mlp" else (0.5, 0.999)
        return [torch.optim.Adam(model.G.parameters(), lr=lr, betas=betas),
                torch.optim.Adam(model.D.parameters(), lr=lr, betas=betas)]

    def _d_loss(self, real_score, fake_score):
        if self.config["arch"] == "mlp":  # BCE on D's sigmoid output (applied inside the loss)
            return (F.binary_cross_entropy_with_logits(real_score, torch.ones_like(real_score))
                    + F.binary_cross_entropy_with_logits(fake_score, torch.zeros_like(fake_score)))
        return F.relu(1 - real_score).mean() + F.relu(1 + fake_score).mean()  # hinge

    def _g_loss(self, fake_score):
        if self.config["arch"] == "mlp":  # non-saturating: maximise log D(G(z))
            return F.binary_cross_entropy_with_logits(fake_score, torch.ones_like(fake_score))
        return -fake_score.mean()

    def train_step(self, model, batch, step):
        """D learns to tell real from fake, then G learns to fool the updated D.

        Noise comes from ``step.normal`` (per-example rows of a global draw), so two processes
        see the same noise as one; ``step.update`` averages each optimizer's gradients across
        processes, clips and steps, in the run's precision.
        """
        opt_g, opt_d = step.optimizers
        x, y = batch  # (B, 1, 28, 28), (B,)
        Z = self.config["z_dim"]
        classes = y if self.config["num_classes"] > 0 else None  # fakes get the real batch's labels
        with step.autocast():
            with torch.no_grad():
                fake = model.G(step.normal(Z, device=x.device), classes)
            d_loss = self._d_loss(model.D(x, classes).float(), model.D(fake, classes).float())
        step.update(d_loss, opt_d)
        with step.autocast():
            fake = model.G(step.normal(Z, device=x.device), classes)
            g_loss = self._g_loss(model.D(fake, classes).float())
        step.update(g_loss, opt_g)
        if self.config["ema"]:
            model.update_ema(self.config["ema"])
        return {"loss": float(d_loss.detach()), "g_loss": float(g_loss.detach())}

    def _sampler(self, model):
        """The network users get: the moving average when training keeps one."""
        return model.G_ema if self.config["ema"] else model.G

    def export(self, model):
        return self._sampler(model).state_dict()

    def load(self, model, tensors):
        gk_weights.load_into(model.G_ema, tensors, "weights")
        model.G.load_state_dict(model.G_ema.state_dict())

    def metadata(self):
        return {"class_names": self.config["class_names"]}

    @torch.no_grad()
    def generate(self, model, n: int, seed: int, device, classes=None) -> np.ndarray:
        G = self._sampler(model).eval()
        g = torch.Generator().manual_seed(seed)
        out = []
        for start in range(0, n, 1000):
            z = torch.randn(min(1000, n - start), self.config["z_dim"], generator=g).to(device)
            c = None if classes is None else torch.as_tensor(classes[start : start + len(z)], device=device)
            out.append(G(z, c).clamp(-1, 1).cpu())
        return torch.cat(out)

    def sample(self, model, seed):
        """A 10x10 contact sheet; with classes, row k holds class k."""
        C = self.config["num_classes"]
        classes = np.repeat(np.arange(10) % C, 10) if C else None
        images = self.generate(model, 100, seed, next(model.parameters()).device, classes)
        pixels = ((images[:, 0] + 1) * 127.5).round().to(torch.uint8).numpy()
        return pixels.reshape(10, 10, 28, 28).transpose(0, 2, 1, 3).reshape(280, 280)

    def evaluate(self, model, device):
        ruler = EvalClassifier(self.options.get("classifier"), self.train_set.class_names, device)
        test = image_data.load(self.data, "test")
        n = min(EVAL_SAMPLES, len(test.images), len(self.train_set.images))
        C = self.config["num_classes"]
        classes = np.arange(n) % C if C else None  # balanced classes for conditional models
        fake = self.generate(model, n, 0, device, classes)
        pick = np.random.default_rng(0).choice(len(self.train_set.images), n, replace=False)
        f_fake, p_fake = ruler.run(fake)
        f_test, p_test = ruler.run(_as_input(test.images[:n]))
        f_train, _ = ruler.run(_as_input(self.train_set.images[pick]))
        fd_gen, fd_real = metrics.frechet_distance(f_fake, f_test), metrics.frechet_distance(f_train, f_test)
        precision, recall = metrics.precision_recall(f_test, f_fake, k=3)
        counts = np.bincount(p_fake, minlength=len(ruler.class_names))
        result = {
            "samples": n,
            "classifier_test_accuracy": float((p_test == test.labels[:n]).mean()),
            "fd_generated": fd_gen,
            "fd_real_train": fd_real,
            "fd_ratio": fd_gen / max(fd_real, 1e-12),
            "precision_k3": precision,
            "recall_k3": recall,
            "class_kl_from_uniform": metrics.kl_from_uniform(p_fake, len(ruler.class_names)),
            "classes_present": int((counts > 0).sum()),
            "rarest_class_share": float(counts.min() / n),
        }
        if C:
            hits = p_fake == classes
            result["conditional_accuracy"] = float(hits.mean())
            for k, name in enumerate(self.config["class_names"]):
                result[f"accuracy_{name}"] = float(hits[classes == k].mean())
        return result

    def card_notes(self):
        return ("Metrics use the 128-d features of genkit's evaluation classifier "
                "(weights/classifier-*.safetensors, the one trained on this dataset), not Inception; "
                "see docs/image.md.")


# ---------------------------------------------------------------- the evaluation classifier


def _shipped_classifier(class_names: list[str]) -> Path:
    folder = Path(str(files("genkit_image").joinpath(WEIGHTS_FOLDER)))
    shipped = sorted(folder.glob("classifier-*.safetensors"))
    for path in shipped:
        if (gk_weights.metadata(path).get("config") or {}).get("class_names") == list(class_names):
            return path
    raise GenkitError(f"no shipped evaluation classifier ({', '.join(p.name for p in shipped) or 'none'}) knows the "
                      f"classes {class_names}; train one with 'genkit train image --arch classifier --data DIR' "
                      "and pass --classifier")


class EvalClassifier:
    """Loads the classifier weights and turns images into (features, predicted classes)."""

    def __init__(self, path, class_names: list[str], device):
        path = Path(path) if path else _shipped_classifier(class_names)
        if not path.exists():
            raise GenkitError(f"evaluation classifier {path} not found; train one with "
                              "'genkit train image --arch classifier --data DIR' and pass --classifier")
        tensors, meta = gk_weights.load_tensors(path, device)
        config = meta.get("config") or {}
        if config.get("arch") != "classifier":
            raise GenkitError(f"--classifier {path} is not a classifier written by 'genkit train image --arch classifier'")
        if list(config["class_names"]) != list(class_names):
            raise GenkitError(f"the evaluation classifier {path.name} knows classes {config['class_names']}, "
                              f"but the data has {class_names}; train one on this data with --arch classifier "
                              "and pass --classifier")
        self.class_names = class_names
        self.device = device
        self.net = Classifier(len(class_names)).to(device)
        gk_weights.load_into(self.net, tensors, path)
        self.net.eval()

    @torch.no_grad()
    def run(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        feats, preds = [], []
        for start in range(0, len(images), 1000):
            f = self.net.features(images[start : start + 1000].to(self.device))
            feats.append(f.cpu())
            preds.append(self.net.head(f).argmax(1).cpu())
        return torch.cat(feats).numpy(), torch.cat(preds).numpy()


class ClassifierTask(TrainingTask):
    def __init__(self, data: Path, config: dict | None):
        self.data = Path(data)
        self.train_set = image_data.load(self.data, "train")
        _check_classes(config, self.train_set.class_names, self.data)
        names = self.train_set.class_names
        self.config = dict(config) if config else {"arch": "classifier", "num_classes": len(names), "class_names": names}
        self.defaults = {"epochs": 5, "batch_size": 64, "lr": 2e-3, "schedule": "cosine", "min_batch": 2}

    def build_model(self):
        return Classifier(self.config["num_classes"])

    def train_data(self):
        return ImageDataset(self.train_set.images, self.train_set.labels)

    def loss(self, model, batch):
        x, y = batch
        logits = model(x)
        return F.cross_entropy(logits, y), {"accuracy": float((logits.argmax(1) == y).float().mean())}

    def metadata(self):
        return {"class_names": self.config["class_names"]}

    def evaluate(self, model, device):
        test = image_data.load(self.data, "test")
        model.eval()
        correct = 0
        for start in range(0, len(test.images), 1000):
            x = _as_input(test.images[start : start + 1000]).to(device)
            correct += int((model(x).argmax(1).cpu().numpy() == test.labels[start : start + 1000]).sum())
        return {"test_accuracy": correct / len(test.images), "test_images": len(test.images)}
