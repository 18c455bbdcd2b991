"""`genkit train diffusion --data DIR`: a class-conditioned diffusers UNet trained by genkit's shared loop.

The pictures are the GAN's (genkit.datasets: IDX, .npz or class sub-folders, any size, grey or
colour). Each step noises a batch with diffusers' training scheduler (unet.py says which objective
does what), drops the class of one picture in ten (the "no class" that guidance needs), and asks the
UNet for the noise (ddpm) or the velocity (flow). diffusers' ``EMAModel`` keeps a moving average of
the weights in the model's second UNet, so it is in every checkpoint and a resumed run equals an
unbroken one; that average is what is exported, sampled and measured. Random numbers come from the
loop's ``step.normal``, so a run is the same whatever ``--nproc`` is.

At the end the run's ``model/`` folder holds a diffusers ``DDPMPipeline`` (model_index.json, unet/,
scheduler/) written by ``save_pretrained``, which diffusers' ``from_pretrained`` loads; that
pipeline's own call knows no class labels, so sample with ``genkit diffusion --model RUN --class C``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from genkit import weights as gk_weights
from genkit.datasets import PICTURE_SIZES, ImageSet, load, size_rule
from genkit.errors import GenkitError
from genkit.imaging.pictures import PictureDataset
from genkit.train import TrainingTask
from genkit_diffusers import sampling, unet

DEFAULT_OBJECTIVE = "flow"  # at 700 steps on Fashion-MNIST: FD ratio 15.7 against ddpm's 83 (docs/diffusion.md)
DROP_CLASS = -1.2816  # a standard normal falls below this one time in ten: that picture trains "no class"
EMA_MAX_DECAY = 0.9999
SHEET = 10  # the per-epoch contact sheet is SHEET x SHEET pictures, row k of class k


class DiffusionModel(torch.nn.Module):
    """The UNet being trained and its moving average (the one users get)."""

    def __init__(self, config: unet.DiffusionConfig):
        super().__init__()
        self.unet = unet.build_unet(config)
        self.ema = unet.build_unet(config)
        self.ema.load_state_dict(self.unet.state_dict())
        self.ema.requires_grad_(False)

    def forward(self, noisy, timesteps, classes):
        return self.unet(noisy, timesteps, class_labels=classes).sample


class DiffusionTask(TrainingTask):
    defaults: ClassVar[dict[str, Any]] = {
        "epochs": 20,
        "batch_size": 64,
        "lr": 1e-3,
        "schedule": "cosine",
        "warmup": 200,
        "grad_clip": 1.0,
        "min_steps": 2000,
    }

    def __init__(self, data: Path, options: dict, config: dict | None):
        self.data, self.options = Path(data), options
        self.start = load_start(options["weights"]) if config is None and options.get("weights") else None
        shape_from = config or (self.start.config if self.start else None)
        self.train_set = load_pictures(self.data, "train", options, shape_from)
        if config is not None:
            self.config = dict(config)
            if list(config["class_names"]) != self.train_set.class_names:
                raise GenkitError(
                    f"--data {self.data} has classes {self.train_set.class_names}, "
                    f"but the weights were trained on {config['class_names']}"
                )
        else:
            self.config = new_config(self.train_set, options, self.start)
        self.settings = unet.WEIGHTS.config(**self.config)
        self.noiser = unet.training_scheduler(self.config["objective"])
        self.ema: Any = None  # diffusers' EMAModel, made at the first step (its averages live in model.ema)
        self.ema_step = 0
        self.ruler_note: str | None = None

    def build_model(self):
        model = DiffusionModel(self.settings)
        if self.start is not None:
            tensors = mapped_classes(self.start, self.config)
            gk_weights.load_into(model.unet, tensors, self.start.name)
            model.ema.load_state_dict(model.unet.state_dict())
        return model

    def train_data(self):
        return PictureDataset(self.train_set.images, self.train_set.labels)

    def optimizers(self, model, lr):
        return [torch.optim.AdamW(model.unet.parameters(), lr=lr, weight_decay=0.0)]

    def train_step(self, model, batch, step):
        x, y = batch
        noise = step.normal(*x.shape[1:], device=x.device)
        draws = step.normal(2, device=x.device)
        classes = None
        if self.config["num_classes"]:
            classes = torch.where(draws[:, 1] < DROP_CLASS, self.config["num_classes"], y)
        noisy, timesteps, target = self.noised(x, noise, draws[:, 0])
        with step.autocast():
            loss = F.mse_loss(model(noisy, timesteps, classes).float(), target)
        step.update(loss, *step.optimizers)
        self.average(model)
        return {"loss": float(loss.detach())}

    def noised(self, x, noise, draw):
        """(noisy pictures, the timesteps the UNet is told, what it should predict) for one batch."""
        if self.config["objective"] == "flow":
            s = torch.sigmoid(draw).view(-1, 1, 1, 1)  # logit-normal times: most training in the middle
            return (1 - s) * x + s * noise, s.flatten() * unet.TRAIN_TIMESTEPS, noise - x
        u = 0.5 * (1 + torch.erf(draw / math.sqrt(2)))  # uniform, from the normal draw
        t = (u * unet.TRAIN_TIMESTEPS).long().clamp(max=unet.TRAIN_TIMESTEPS - 1)
        return self.noiser.add_noise(x, noise, t), t, noise

    def average(self, model):
        """One step of diffusers' EMAModel, whose averages are the model's second UNet's parameters."""
        if self.ema is None:
            from diffusers.training_utils import EMAModel

            self.ema = EMAModel(model.ema.parameters(), decay=EMA_MAX_DECAY, use_ema_warmup=True, power=0.75)
            self.ema.shadow_params = list(model.ema.parameters())  # update in place: checkpointed with the model
            self.ema.optimization_step = self.ema_step
        self.ema.step(model.unet.parameters())
        self.ema_step = self.ema.optimization_step

    def state_dict(self):
        return {"ema_step": int(self.ema_step)}

    def load_state_dict(self, state):
        self.ema_step = int(state.get("ema_step", 0))
        if self.ema is not None:
            self.ema.optimization_step = self.ema_step

    def export(self, model):
        return model.ema.state_dict()

    def load(self, model, tensors):
        gk_weights.load_into(model.ema, tensors, "weights")
        model.unet.load_state_dict(model.ema.state_dict())

    def metadata(self):
        extra = {"fine_tuned_from": self.start.name} if self.start is not None else {}
        return {"class_names": self.config["class_names"], **extra}

    def write_model(self, model, folder: Path) -> None:
        """The EMA UNet as a diffusers pipeline folder beside genkit's weights (save_pretrained)."""
        from diffusers import DDPMPipeline

        scheduler = unet.sampling_scheduler(self.config["objective"])
        DDPMPipeline(unet=model.ema, scheduler=scheduler).save_pretrained(folder, safe_serialization=True)

    def generate(self, model, n: int, classes, seed: int, steps: int, guidance: float, device, batch: int = 64):
        """``n`` pictures (N, C, S, S) in [-1, 1] with the default sampler, for ``classes`` (N,) or None (an
        unconditional model), in batches of 64 (on the CPU a batch of 500 spent 1.6x the time, much of it
        allocating its activations)."""
        sheet = []
        g = torch.Generator().manual_seed(seed)
        shape = (self.config["channels"], self.config["size"], self.config["size"])
        for first in range(0, n, batch):
            count = min(batch, n - first)
            labels = None if classes is None else torch.as_tensor(classes[first : first + count], device=device)
            noise = torch.randn(count, *shape, generator=g).to(device)
            scheduler = unet.sampling_scheduler(self.config["objective"])
            sheet.append(sampling.denoise(model.ema, scheduler, noise, labels, steps, guidance).cpu())
        return torch.cat(sheet)

    def sample(self, model, seed):
        C = self.config["num_classes"]
        classes = np.repeat(np.arange(SHEET) % C, SHEET) if C else None
        device = next(model.parameters()).device
        model.eval()
        with torch.no_grad():
            pictures = self.generate(model, SHEET * SHEET, classes, seed, 16, 1.0, device)
        model.train()
        pixels = ((pictures + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        S, ch = pixels.shape[1], pixels.shape[3]
        grid = pixels.reshape(SHEET, SHEET, S, S, ch).transpose(0, 2, 1, 3, 4).reshape(SHEET * S, SHEET * S, ch)
        return grid[..., 0] if ch == 1 else grid

    def evaluate(self, model, device):
        from genkit.imaging import measure, ruler

        test = load_pictures(self.data, "test", self.options, self.config)
        judge, self.ruler_note = ruler.choose(self.options.get("classifier"), self.train_set, device, self.run_folder)
        n = min(int(self.options.get("eval_samples") or 10_000), len(test.images), len(self.train_set.images))
        C = self.config["num_classes"]
        classes = np.arange(n) % C if C else None
        steps = int(self.options.get("eval_steps") or 16)
        guidance = float(self.options.get("eval_guidance") or 1.0)
        pictures = self.generate(model, n, classes, 0, steps, guidance, device)
        metrics = measure.picture_metrics(pictures, classes, test, self.train_set, judge, self.config["class_names"])
        return {**metrics, "sampling_steps": steps, "guidance": guidance}

    def card_notes(self):
        which = self.ruler_note or "genkit's evaluation classifier for this data"
        start = f"Fine-tuned from {self.start.name}. " if self.start is not None else ""
        return (
            f"{start}A {self.config['objective']} UNet2DModel (diffusers) with an EMA of its weights. Metrics use "
            f"the 128-d features of {which}, not Inception; the samples are drawn with "
            f"{unet.SAMPLERS[self.config['objective']][0]}. Sample it with `genkit diffusion --model RUN --class NAME`."
        )


def load_pictures(data: Path, split: str, options: dict, config: dict | None) -> ImageSet:
    """A split at the weights' size and channels, or (a new model) at the data's size and --size."""
    mixed = options.get("mixed_sizes") or "crop"
    if config is not None:
        if options.get("size") and int(options["size"]) != int(config["size"]):
            raise GenkitError(f"--size {options['size']}: these weights make {config['size']}-pixel pictures")
        return load(data, split, size=int(config["size"]), channels=int(config["channels"]), mixed=mixed)
    return load(data, split, size=size_rule(options.get("size"), PICTURE_SIZES), channels=None, mixed=mixed)


def new_config(pictures: ImageSet, options: dict, start) -> dict:
    names = list(pictures.class_names)
    classes = len(names) if len(names) > 1 else 0  # one class: nothing to condition on
    if start is not None and not start.config["num_classes"]:
        classes = 0  # unconditional weights stay unconditional (they have no class embedding to start from)
    if start is not None:  # the start's network and objective, this data's classes
        config = dict(start.config, num_classes=classes, class_names=names if classes else [])
        config["unet"] = dict(start.config["unet"], num_class_embeds=classes + 1 if classes else None)
        return config
    width = int(options.get("width") or 32)
    return {
        "arch": "unet",
        "objective": options.get("objective") or DEFAULT_OBJECTIVE,
        "size": pictures.size,
        "channels": pictures.channels,
        "num_classes": classes,
        "class_names": names if classes else [],
        "unet": unet.unet_arguments(pictures.size, pictures.channels, classes, width),
    }


class Start:
    """Weights a run fine-tunes from: their config, tensors and file name (no path goes into the new file)."""

    def __init__(self, config: dict, tensors: dict, name: str):
        self.config, self.tensors, self.name = config, tensors, name


def load_start(given: str) -> Start:
    from genkit import lookup
    from genkit_diffusers import SPEC

    path, _ = lookup.resolve(SPEC, str(given))
    if path is None:
        raise GenkitError(f"--weights {given}: no such diffusion weights")
    loaded = unet.WEIGHTS.load(path, "cpu")
    return Start(dict(loaded.metadata["config"]), loaded.module.state_dict(), path.name)


def mapped_classes(start: Start, config: dict) -> dict:
    """The start's tensors with the class embedding rows matched by class name (new classes: the mean row)."""
    tensors = dict(start.tensors)
    key = "class_embedding.weight"
    if key not in tensors or not config["num_classes"]:
        return {k: v for k, v in tensors.items() if k != key}
    old_names = list(start.config.get("class_names") or [])
    old = tensors[key]  # (old classes + 1, dim): the last row is "no class"
    new = old[:-1].mean(0, keepdim=True).repeat(config["num_classes"] + 1, 1)
    for k, name in enumerate(config["class_names"]):
        if name in old_names:
            new[k] = old[old_names.index(name)]
    new[-1] = old[-1]
    tensors[key] = new
    return tensors
