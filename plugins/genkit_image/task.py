"""Training and evaluation tasks for genkit's shared loop (docs/plugins.md, section 4).

``genkit train image --arch dcgan|mlp`` trains a GAN with its own ``train_step`` (two optimizers,
two losses) that goes through the loop's StepContext, so --precision, gradient clipping and --nproc
apply to it; its EMA generator is part of the model, so it is in every checkpoint. ``--arch
classifier`` trains the evaluation CNN through ``loss``. ``genkit eval image``
measures a GAN in the classifier's feature space, as every image-like generator is (genkit.imaging).

Pictures: dcgan and classifier follow the data (``--size``, default the data's own size rounded
down to a supported one; colour when any image is colour); mlp is the article's 28x28 grey model.
``--weights`` starts from existing weights (finetune.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genkit import weights as gk_weights
from genkit.datasets import picture, size_rule
from genkit.errors import GenkitError
from genkit.imaging import ruler
from genkit.imaging.classifier import Classifier
from genkit.imaging.measure import picture_metrics
from genkit.imaging.pictures import PictureDataset
from genkit.imaging.ruler import describe
from genkit.train import TrainingTask
from genkit_image import TRAIN_OPTIONS, finetune
from genkit_image import data as image_data
from genkit_image.augment import diff_augment
from genkit_image.model import GAN, SIZES

EVAL_SAMPLES = 10_000


def make_task(data: Path, options: dict, config: dict | None):
    start = None
    if config is None and options.get("weights"):  # fine-tuning: the weights' config, adapted below
        start = finetune.load_start(options["weights"])
    arch = (config or (start.config if start else {})).get("arch") or options.get("arch") or "dcgan"
    refuse_other_archs_options(arch, options)
    if arch == "classifier":
        return ClassifierTask(data, options, config)
    return GANTask(data, arch, options, config, start)


# Training options that only some architectures read: another architecture refuses them in one
# line (unless left at their declared default) rather than training without them.
ARCH_OPTIONS = {
    "diffaugment": ("dcgan",),
    "class_loss": ("dcgan",),
    "width": ("dcgan",),
    "lr_schedule": ("dcgan", "mlp"),
}
DECLARED_DEFAULTS = {option.key: option.default for option in TRAIN_OPTIONS}


def refuse_other_archs_options(arch: str, options: dict) -> None:
    for key, archs in ARCH_OPTIONS.items():
        value = options.get(key)
        if arch not in archs and value is not None and value != DECLARED_DEFAULTS[key]:
            raise GenkitError(
                f"--{key.replace('_', '-')} applies to --arch {' or '.join(archs)} only; this run's arch is {arch}"
            )


def load_split(data: Path, split: str, options: dict, config: dict | None) -> image_data.ImageSet:
    """A split at the config's size and channels, or (a new model) as the data and --size decide."""
    mixed = options.get("mixed_sizes") or "crop"
    if config is not None:
        size, channels = picture(config)
        return image_data.load(data, split, size=size, channels=channels, mixed=mixed)
    return image_data.load(data, split, size=size_rule(options.get("size"), SIZES), channels=None, mixed=mixed)


def _check_classes(config: dict | None, found: list[str], data: Path):
    if config and list(config["class_names"]) != list(found):
        raise GenkitError(f"--data {data} has classes {found}, but the weights were trained on {config['class_names']}")


# ---------------------------------------------------------------- the GANs


def training_choices(config: dict, options: dict) -> dict:
    """The config with this run's --diffaugment, --class-loss and --lr-schedule (keys absent when off or
    constant, so older configs read the same; a --resume gives them again, as the config is compared)."""
    config = {k: v for k, v in config.items() if k not in ("diffaugment", "class_loss", "lr_schedule")}
    if options.get("lr_schedule") == "cosine":
        config["lr_schedule"] = "cosine"
    if config["arch"] != "dcgan":
        return config
    if options.get("diffaugment"):
        config["diffaugment"] = True
    if options.get("class_loss") and config["num_classes"]:
        config["class_loss"] = float(options["class_loss"])
    return config


class GANTask(TrainingTask):
    def __init__(self, data: Path, arch: str, options: dict, config: dict | None, start=None):
        self.data = Path(data)
        self.options = options
        self.start = start
        self.ruler_note = None
        self.ema_updates = 0
        if arch == "mlp":  # the article's recipe: 28x28 grey, unconditional
            self.train_set = image_data.load(self.data, "train", mixed=options.get("mixed_sizes") or "crop")
        else:  # fine-tuning reads the data at the start weights' size and channels, unless --size says
            sizing = start.config if start is not None and config is None and not options.get("size") else config
            self.train_set = load_split(self.data, "train", options, sizing)
        _check_classes(config, self.train_set.class_names, self.data)
        if config is not None:
            self.config = dict(config)
        elif start is not None:  # the start's network, this run's training choices
            self.config = training_choices(finetune.adapted_config(start, self.train_set, self.data), options)
        else:
            self.config = self._new_config(arch, options)
        # min_steps: a GAN learns little in fewer (the shipped Fashion-MNIST run's FD ratio was still 33
        # after 7,900 steps), so a small folder gets the epochs that reach it (genkit.train.loop).
        if self.config["arch"] == "mlp":
            self.defaults = {"epochs": 20, "batch_size": 32, "lr": 1e-4, "min_steps": 3000}
        else:  # batch norm in G needs two or more examples per process
            self.defaults = {"epochs": 20, "batch_size": 64, "lr": 2e-4, "min_batch": 2, "min_steps": 3000}
        self.defaults["schedule"] = self.config.get("lr_schedule", "constant")

    def _new_config(self, arch: str, options: dict) -> dict:
        names = self.train_set.class_names
        if arch == "mlp":
            return training_choices(
                {"arch": "mlp", "z_dim": 100, "num_classes": 0, "class_names": names, "ema": 0.0}, options
            )
        # One class: nothing to condition on, so the model is unconditional.
        config = {
            "arch": "dcgan",
            "z_dim": 64,
            "num_classes": len(names) if len(names) > 1 else 0,
            "class_names": names,
            "width": int(options.get("width") or 64),
            "embed_dim": 32,
            "ema": 0.999,
            "size": self.train_set.size,
            "channels": self.train_set.channels,
        }
        return training_choices(config, options)

    def build_model(self):
        model = GAN(self.config)
        if self.start is not None:
            finetune.load_generator(model, self.start, self.config)
        return model

    def train_data(self):
        return PictureDataset(self.train_set.images, self.train_set.labels)

    def optimizers(self, model, lr):
        # DCGAN's Adam betas (0.5, 0.999); the article keeps Adam's defaults.
        betas = (0.9, 0.999) if self.config["arch"] == "mlp" else (0.5, 0.999)
        return [
            torch.optim.Adam(model.G.parameters(), lr=lr, betas=betas),
            torch.optim.Adam(model.D.parameters(), lr=lr, betas=betas),
        ]

    @staticmethod
    def _judge(model, pictures, classes, weight):
        """(D's score, its class logits or None), both in fp32 for the losses."""
        if not weight:
            return model.D(pictures, classes).float(), None
        score, logits = model.D(pictures, classes, with_logits=True)
        return score.float(), logits.float()

    def _d_loss(self, real_score, fake_score):
        if self.config["arch"] == "mlp":  # BCE on D's sigmoid output (applied inside the loss)
            return F.binary_cross_entropy_with_logits(
                real_score, torch.ones_like(real_score)
            ) + F.binary_cross_entropy_with_logits(fake_score, torch.zeros_like(fake_score))
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
        x, y = batch  # (B, C, S, S), (B,)
        Z = self.config["z_dim"]
        classes = y if self.config["num_classes"] > 0 else None  # fakes get the real batch's labels
        seen = diff_augment if self.config.get("diffaugment") else (lambda pictures: pictures)  # what D is shown
        weight = self.config.get("class_loss", 0.0)
        with step.autocast():
            with torch.no_grad():
                fake = model.G(step.normal(Z, device=x.device), classes)
            real_score, real_logits = self._judge(model, seen(x), classes, weight)
            d_loss = self._d_loss(real_score, self._judge(model, seen(fake), classes, 0.0)[0])
            if weight:  # D learns the classes from real pictures only (fakes would teach it G's mistakes)
                d_loss = d_loss + weight * F.cross_entropy(real_logits, y)
        step.update(d_loss, opt_d)
        with step.autocast():
            fake = model.G(step.normal(Z, device=x.device), classes)
            fake_score, fake_logits = self._judge(model, seen(fake), classes, weight)
            g_loss = self._g_loss(fake_score)
            if weight:  # G is rewarded when D's classifier names the class it drew for
                g_loss = g_loss + weight * F.cross_entropy(fake_logits, y)
        step.update(g_loss, opt_g)
        if self.config["ema"]:
            model.update_ema(self._ema_decay())
        return {"loss": float(d_loss.detach()), "g_loss": float(g_loss.detach())}

    def _ema_decay(self) -> float:
        """The EMA's decay, warmed up: (1 + t) / (10 + t) for the first updates, then the config's.

        Without the warm-up a decay of 0.999 keeps G_ema near its random start for the first
        thousands of steps, longer than a whole run on a small dataset.
        """
        t = self.ema_updates
        self.ema_updates += 1
        return min(self.config["ema"], (1 + t) / (10 + t))

    def state_dict(self):
        return {"ema_updates": self.ema_updates}

    def load_state_dict(self, state):
        self.ema_updates = int(state.get("ema_updates", 0))

    def _sampler(self, model):
        """The network users get: the moving average when training keeps one."""
        return model.G_ema if self.config["ema"] else model.G

    def export(self, model):
        return self._sampler(model).state_dict()

    def load(self, model, tensors):
        gk_weights.load_into(model.G_ema, tensors, "weights")
        model.G.load_state_dict(model.G_ema.state_dict())

    def metadata(self):
        extra = {"fine_tuned_from": self.start.name} if self.start is not None else {}
        return {"class_names": self.config["class_names"], **extra}

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
        pixels = ((images + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()  # (100, S, S, ch)
        S, ch = pixels.shape[1], pixels.shape[3]
        sheet = pixels.reshape(10, 10, S, S, ch).transpose(0, 2, 1, 3, 4).reshape(10 * S, 10 * S, ch)
        return sheet[..., 0] if ch == 1 else sheet

    def evaluate(self, model, device):
        if self.config["arch"] == "mlp":
            test = image_data.load(self.data, "test", mixed=self.options.get("mixed_sizes") or "crop")
        else:
            test = load_split(self.data, "test", self.options, self.config)
        judge, self.ruler_note = ruler.choose(self.options.get("classifier"), self.train_set, device, self.run_folder)
        return self._measure(model, device, judge, test)

    def _measure(self, model, device, judge, test):
        n = min(EVAL_SAMPLES, len(test.images), len(self.train_set.images))
        C = self.config["num_classes"]
        classes = np.arange(n) % C if C else None  # balanced classes for conditional models
        fake = self.generate(model, n, 0, device, classes)
        return picture_metrics(fake, classes, test, self.train_set, judge, self.config["class_names"])

    def card_notes(self):
        which = self.ruler_note or "genkit's evaluation classifier for this data"
        start = f"Fine-tuned from {self.start.name}. " if self.start is not None else ""
        return (
            f"{start}Pictures: {describe(*picture(self.config))}. Metrics use the 128-d features of {which}, "
            "not Inception; see docs/image.md."
        )


# ---------------------------------------------------------------- the evaluation classifier


class ClassifierTask(TrainingTask):
    def __init__(self, data: Path, options: dict, config: dict | None):
        self.data = Path(data)
        self.options = options
        self.train_set = load_split(self.data, "train", options, config)
        _check_classes(config, self.train_set.class_names, self.data)
        names = self.train_set.class_names
        self.config = (
            dict(config)
            if config
            else {
                "arch": "classifier",
                "num_classes": len(names),
                "class_names": names,
                "size": self.train_set.size,
                "channels": self.train_set.channels,
            }
        )
        self.defaults = {"epochs": 5, "batch_size": 64, "lr": 2e-3, "schedule": "cosine", "min_batch": 2}

    def build_model(self):
        return Classifier(self.config["num_classes"], picture(self.config)[1], picture(self.config)[0])

    def train_data(self):
        return PictureDataset(self.train_set.images, self.train_set.labels)

    def loss(self, model, batch):
        x, y = batch
        logits = model(x)
        return F.cross_entropy(logits, y), {"accuracy": float((logits.argmax(1) == y).float().mean())}

    def metadata(self):
        return {"class_names": self.config["class_names"]}

    def evaluate(self, model, device):
        test = load_split(self.data, "test", self.options, self.config)
        model.eval()
        correct = 0
        for start in range(0, len(test.images), 1000):
            x = ruler.as_input(test.images[start : start + 1000]).to(device)
            correct += int((model(x).argmax(1).cpu().numpy() == test.labels[start : start + 1000]).sum())
        return {"test_accuracy": correct / len(test.images), "test_images": len(test.images)}
