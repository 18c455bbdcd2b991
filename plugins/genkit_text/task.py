"""`genkit train text` / `genkit eval text`: the character model as a task of genkit's shared loop.

Windows of the train split (the first 90% of the file), cross-entropy in nats per character;
evaluation scores every character of the validation split (the last 10%) once, in fp32.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from genkit.errors import GenkitError
from genkit.train import TrainingTask
from genkit_text import DEFAULT_DROPOUT, DEFAULT_DROPOUT_AT
from genkit_text.data import Vocabulary, Windows, read_corpus, split
from genkit_text.model import GPT, GPTConfig

EVAL_BATCH = 32  # validation windows per forward pass


def new_config(text: str, options: dict) -> dict:
    vocab = Vocabulary.from_text(text)
    width, heads = options.get("width") or 128, options.get("heads") or 4
    if width % heads:
        raise GenkitError(f"--width {width} must be a multiple of --heads {heads}")
    return {
        "vocab": vocab.chars,
        "vocab_size": len(vocab),
        "block_size": options.get("block_size") or 128,
        "n_layer": options.get("layers") or 4,
        "n_head": heads,
        "n_embd": width,
        "dropout": DEFAULT_DROPOUT if options.get("dropout") is None else options["dropout"],
        "dropout_at": options.get("dropout_at") or DEFAULT_DROPOUT_AT,
    }


class TextTask(TrainingTask):
    """The character model for the shared loop: windows of the train split, loss in nats/char."""

    # nanoGPT's shakespeare_char recipe with a higher learning rate (a small model, a short budget).
    defaults = {"epochs": 1, "batch_size": 64, "lr": 2e-3, "schedule": "cosine", "warmup": 100, "grad_clip": 1.0}

    def __init__(self, data: Path, options: dict, config: dict | None):
        text = read_corpus(data)
        self.config = dict(config) if config is not None else new_config(text, options)
        self.vocab = Vocabulary(self.config["vocab"])
        train_text, val_text = split(text)
        self.train_ids = torch.tensor(self.vocab.encode(train_text, f"--data {data}"), dtype=torch.long)
        self.val_ids = torch.tensor(self.vocab.encode(val_text, f"--data {data}"), dtype=torch.long)
        block = self.config["block_size"]
        if len(self.train_ids) <= block:
            raise GenkitError(
                f"--data {data} has {len(self.train_ids)} training characters, too few for a context "
                f"of {block}; use more text or a smaller --block-size"
            )
        if len(self.val_ids) < 2:
            raise GenkitError(f"--data {data} is too short to hold out a validation split")

    def build_model(self):
        c = self.config
        return GPT(
            GPTConfig(
                vocab_size=c["vocab_size"],
                block_size=c["block_size"],
                n_layer=c["n_layer"],
                n_head=c["n_head"],
                n_embd=c["n_embd"],
                dropout=c.get("dropout", 0.0),
                dropout_at=c.get("dropout_at", "weights"),  # configs that lack it predate the choice
            )
        )

    def train_data(self):
        return Windows(self.train_ids, self.config["block_size"])

    def loss(self, model, batch):
        x, y = batch[:, :-1], batch[:, 1:]
        logits = model(x)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), y.reshape(-1)), {}

    def optimizers(self, model, lr):
        # Weight decay on matrices only, not on norms or biases (as GPT-2 and nanoGPT do).
        decay = [p for p in model.parameters() if p.dim() >= 2]
        rest = [p for p in model.parameters() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}]
        return [torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))]

    def _windows(self, block: int):
        """The validation split as consecutive windows of block + 1 ids, batched; the short last one alone."""
        ids = self.val_ids
        starts = list(range(0, len(ids) - 1, block))
        for first in range(0, len(starts), EVAL_BATCH):
            group = starts[first : first + EVAL_BATCH]
            full = [s for s in group if s + block + 1 <= len(ids)]
            if full:
                yield torch.stack([ids[s : s + block + 1] for s in full])
            yield from (ids[s:].unsqueeze(0) for s in group if s + block + 1 > len(ids))

    def evaluate(self, model, device):
        """Validation loss over the WHOLE validation split, every character scored once.

        Each window predicts its characters from the ones before it in the window, so the average
        is over contexts of every length 0..block_size-1 (the quantity nanoGPT's estimate_loss
        samples at random). Scoring all of it removes sampling noise.
        """
        total, count = 0.0, 0
        model.eval()
        with torch.no_grad():
            for rows in self._windows(self.config["block_size"]):
                rows = rows.to(device)
                logits = model(rows[:, :-1])
                total += float(
                    F.cross_entropy(
                        logits.reshape(-1, logits.size(-1)).float(), rows[:, 1:].reshape(-1), reduction="sum"
                    )
                )
                count += rows[:, 1:].numel()
        nats = total / count
        return {"val_loss_nats_per_char": nats, "val_bits_per_char": nats / math.log(2), "val_characters_scored": count}

    def metadata(self):
        return {"vocab": self.vocab.chars}

    def sample(self, model, seed):
        rng = torch.Generator().manual_seed(seed)
        start = [self.vocab.index.get("\n", 0)]
        return self.vocab.decode(model.sample(start, 300, rng, temperature=0.8))

    def card_notes(self):
        return (
            "Validation: the last 10% of the file's characters (the first 90% train), nanoGPT's "
            "shakespeare_char split; the loss is averaged over every character of that split, each "
            f"predicted from up to {self.config['block_size'] - 1} preceding characters of its window. "
            f"Vocabulary: {len(self.vocab)} characters, saved in the weights' metadata."
        )


def make_task(data, options: dict, config: dict | None) -> TextTask:
    return TextTask(Path(data), options, config)
