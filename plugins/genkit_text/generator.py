"""`genkit text`: sample the character model and stream each character as it comes.

Sample i draws from its own torch.Generator seeded with ``item_seed(run_seed, i)``, so sample i
is the same whatever ``--n`` is. Samples run one after another (batch 1), which is what keeps
the stream readable: the core prints each sample's characters as they arrive.

Training (``genkit train text``) and evaluation (``genkit eval text``) go through the shared
loop with ``TextTask`` (docs/plugins.md, section 4).
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from genkit import weights as gk_weights
from genkit import weights_check
from genkit.artifacts import TextChunk
from genkit.errors import GenkitError
from genkit.device import item_seed
from genkit_text.data import Vocabulary, Windows, read_corpus, split
from genkit_text.model import GPT, GPTConfig

EVAL_BATCH = 32  # validation windows per forward pass
# Sizes a character-model config may claim; checked before anything is built from it.
CONFIG_BOUNDS = {"vocab_size": (1, 1 << 20), "block_size": (1, 1 << 16), "n_layer": (1, 256), "n_head": (1, 256),
                 "n_embd": (1, 1 << 16)}


MAX_PROMPT_BYTES = 1 << 20  # the model sees only its last block_size characters anyway


def read_stdin() -> str:
    raw = sys.stdin.buffer.read(MAX_PROMPT_BYTES + 1)
    if len(raw) > MAX_PROMPT_BYTES:
        raise GenkitError(f"the prompt on stdin is longer than {MAX_PROMPT_BYTES:,} bytes; give a shorter one")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GenkitError(f"the prompt on stdin is not UTF-8 text (bad byte at offset {exc.start})") from None


def unescape(text: str | None) -> str | None:
    r"""``\n``, ``\t`` and ``\\`` typed on a command line become a newline, a tab and a backslash."""
    if not text:
        return text
    return re.sub(r"\\([nt\\])", lambda m: {"n": "\n", "t": "\t", "\\": "\\"}[m.group(1)], text)


def build_model(config: dict) -> GPT:
    fields = {k: config[k] for k in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd", "dropout")}
    return GPT(GPTConfig(**fields))


class StopFilter:
    """Cuts a stream at the first ``stop`` string, holding back text that may begin it."""

    def __init__(self, stop: str | None):
        self.stop = stop or ""
        self.text = ""
        self.sent = 0  # characters of self.text already released
        self.stopped = False

    def feed(self, piece: str) -> str:
        """Add sampled text; return what can be shown now."""
        self.text += piece
        if not self.stop:
            out, self.sent = self.text[self.sent :], len(self.text)
            return out
        found = self.text.find(self.stop, max(0, self.sent - len(self.stop)))
        if found >= 0:
            self.stopped = True
            out, self.sent = self.text[self.sent : found], found
            return out
        safe = len(self.text)  # hold back a tail that is a prefix of the stop string
        for k in range(min(len(self.stop) - 1, len(self.text)), 0, -1):
            if self.stop.startswith(self.text[-k:]):
                safe = len(self.text) - k
                break
        safe = max(safe, self.sent)
        out, self.sent = self.text[self.sent : safe], safe
        return out

    def flush(self) -> str:
        """What was held back when sampling ends without meeting the stop string."""
        if self.stopped:
            return ""
        out, self.sent = self.text[self.sent :], len(self.text)
        return out


class TextGenerator:
    def __init__(self, device, weights):
        self.device = device
        config = weights_check.read_config(weights, "text", CONFIG_BOUNDS)
        vocab = config.get("vocab")
        if not isinstance(vocab, str) or len(vocab) != config["vocab_size"] or len(set(vocab)) != len(vocab):
            raise GenkitError(f"{weights} was not written by 'genkit train text' (no valid vocabulary in its metadata)")
        if config["n_embd"] % config["n_head"]:
            raise GenkitError(f"{weights}: its config has n_embd {config['n_embd']}, not a multiple of n_head {config['n_head']}")
        weights_check.check_fits(weights, "text", lambda: build_model(config))  # before any memory is used
        tensors, _ = gk_weights.load_tensors(weights, device)
        self.vocab = Vocabulary(vocab)
        self.model = build_model(config).to(device)
        gk_weights.load_into(self.model, tensors, weights)
        self.model.eval()

    def context(self, prompt: str) -> list[int]:
        """Prompt ids; an empty prompt starts from a newline (or the first character)."""
        if prompt == "":
            return [self.vocab.index.get("\n", 0)]
        return self.vocab.encode(prompt, "the prompt")

    def generate(self, n, seed, options, format):
        prompt = options.get("prompt") or ""
        if prompt == "-":
            prompt = read_stdin()
        context = self.context(prompt)  # checked before anything is yielded
        for i in range(n):
            s = item_seed(seed, i)
            rng = torch.Generator().manual_seed(s)
            stop = StopFilter(unescape(options.get("stop")))
            if options.get("echo") and prompt:
                yield TextChunk(prompt, index=i, seed=s)
            tokens = self.model.sample(context, options.get("max_tokens") or 500, rng,
                                       temperature=options.get("temperature") or 1.0,
                                       top_k=options.get("top_k"), top_p=options.get("top_p"))
            for token in tokens:
                shown = stop.feed(self.vocab.chars[token])
                if shown:
                    yield TextChunk(shown, index=i, seed=s)
                if stop.stopped:
                    break
            yield TextChunk(stop.flush(), index=i, seed=s, done=True)

    @classmethod
    def training_task(cls, data, options, config):
        from genkit_text.task import make_task

        return make_task(data, options, config)


class TextTask:
    """The character model for the shared loop: windows of the train split, loss in nats/char."""

    def __init__(self, data: Path, options: dict, config: dict | None):
        text = read_corpus(data)
        if config is None:
            vocab = Vocabulary.from_text(text)
            width, heads = options.get("width") or 128, options.get("heads") or 4
            if width % heads:
                raise GenkitError(f"--width {width} must be a multiple of --heads {heads}")
            config = {"vocab": vocab.chars, "vocab_size": len(vocab), "block_size": options.get("block_size") or 128,
                      "n_layer": options.get("layers") or 4, "n_head": heads, "n_embd": width,
                      "dropout": options.get("dropout") or 0.0}
        self.config = dict(config)
        self.vocab = Vocabulary(self.config["vocab"])
        train_text, val_text = split(text)
        self.train_ids = torch.tensor(self.vocab.encode(train_text, f"--data {data}"), dtype=torch.long)
        self.val_ids = torch.tensor(self.vocab.encode(val_text, f"--data {data}"), dtype=torch.long)
        block = self.config["block_size"]
        if len(self.train_ids) <= block:
            raise GenkitError(f"--data {data} has {len(self.train_ids)} training characters, too few for a context "
                              f"of {block}; use more text or a smaller --block-size")
        if len(self.val_ids) < 2:
            raise GenkitError(f"--data {data} is too short to hold out a validation split")
        # nanoGPT's shakespeare_char recipe with a higher learning rate and no dropout: a small
        # model on a CPU budget of about an hour underfits rather than overfits.
        self.defaults = {"epochs": 1, "batch_size": 64, "lr": 2e-3, "schedule": "cosine", "warmup": 100,
                         "grad_clip": 1.0}

    def build_model(self):
        return build_model(self.config)

    def train_data(self):
        return Windows(self.train_ids, self.config["block_size"])

    def loss(self, model, batch):
        x, y = batch[:, :-1], batch[:, 1:]
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        return loss, {}

    def optimizers(self, model, lr):
        # Weight decay on matrices only, not on norms or biases (as GPT-2 and nanoGPT do).
        decay = [p for p in model.parameters() if p.dim() >= 2]
        rest = [p for p in model.parameters() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}]
        return [torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))]

    def evaluate(self, model, device):
        """Validation loss over the WHOLE validation split, every character scored once.

        The split is cut into consecutive windows of block_size; each window predicts its
        characters from the ones before it in the window, so the average is over contexts of
        every length 0..block_size-1 (the quantity nanoGPT's estimate_loss samples at random).
        Scoring all of it removes sampling noise.
        """
        block = self.config["block_size"]
        ids = self.val_ids
        starts = list(range(0, len(ids) - 1, block))
        total, count = 0.0, 0
        model.eval()
        with torch.no_grad():
            for first in range(0, len(starts), EVAL_BATCH):
                group = starts[first : first + EVAL_BATCH]
                full = [s for s in group if s + block + 1 <= len(ids)]
                batches = [torch.stack([ids[s : s + block + 1] for s in full])] if full else []
                batches += [ids[s:].unsqueeze(0) for s in group if s + block + 1 > len(ids)]  # the short last one
                for rows in batches:
                    rows = rows.to(device)
                    logits = model(rows[:, :-1])
                    total += float(F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(),
                                                   rows[:, 1:].reshape(-1), reduction="sum"))
                    count += rows[:, 1:].numel()
        nats = total / count
        return {"val_loss_nats_per_char": nats, "val_bits_per_char": nats / math.log(2),
                "val_characters_scored": count}

    def metadata(self):
        return {"vocab": self.vocab.chars}

    def sample(self, model, seed):
        rng = torch.Generator().manual_seed(seed)
        start = [self.vocab.index.get("\n", 0)]
        return self.vocab.decode(model.sample(start, 300, rng, temperature=0.8))

    def card_notes(self):
        return ("Validation: the last 10% of the file's characters (the first 90% train), nanoGPT's "
                "shakespeare_char split; the loss is averaged over every character of that split, each "
                f"predicted from up to {self.config['block_size'] - 1} preceding characters of its window. "
                f"Vocabulary: {len(self.vocab)} characters, saved in the weights' metadata.")
