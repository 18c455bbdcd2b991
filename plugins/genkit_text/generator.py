"""`genkit text`: sample the character model and stream each character as it comes.

Sample i draws from its own torch.Generator seeded with ``item_seed(run_seed, i)``, so sample i
is the same whatever ``--n`` is. Samples run one after another (batch 1), which is what keeps
the stream readable: the core prints each sample's characters as they arrive.

Training (``genkit train text``) and evaluation (``genkit eval text``) go through the shared
loop with ``TextTask`` (docs/plugins.md, section 4).
"""

from __future__ import annotations

import re
import sys
from dataclasses import asdict, dataclass

import torch

from genkit.artifacts import TextChunk
from genkit.device import item_seed
from genkit.errors import GenkitError
from genkit.models import ModelFormat, bounded, one_of
from genkit.progress import step_progress
from genkit_text.data import Vocabulary
from genkit_text.model import GPT, GPTConfig

EVAL_BATCH = 32  # validation windows per forward pass


@dataclass
class TextConfig:
    """The config a character model's weights carry, with the sizes genkit agrees to build from a file."""

    vocab_size: int = bounded(1, 1 << 20)
    block_size: int = bounded(1, 1 << 16)
    n_layer: int = bounded(1, 256)
    n_head: int = bounded(1, 256)
    n_embd: int = bounded(1, 1 << 16)
    dropout: float = bounded(0.0, 1.0)
    vocab: str = ""
    # Weights written before the choice trained with dropout on the attention weights (sampling never drops).
    dropout_at: str = one_of("weights", "output", default="weights")


def check_config(cfg: TextConfig) -> None:
    if len(cfg.vocab) != cfg.vocab_size or len(set(cfg.vocab)) != len(cfg.vocab):
        raise ValueError("has no valid vocabulary (was it written by 'genkit train text'?)")
    if cfg.n_embd % cfg.n_head:
        raise ValueError(f"has n_embd {cfg.n_embd}, not a multiple of n_head {cfg.n_head}")


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
    # Weights written before the choice trained with dropout on the attention weights (sampling never drops).
    return GPT(GPTConfig(**fields, dropout_at=config.get("dropout_at", "weights")))


# How a character model's weights file becomes a model: the typed config and the network.
WEIGHTS = ModelFormat("text", TextConfig, build=lambda cfg: build_model(asdict(cfg)), check=check_config)


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
        self.loaded = WEIGHTS.load(weights, device)  # every check before any memory is used
        self.vocab = Vocabulary(self.loaded.config.vocab)
        self.model = self.loaded.module

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
            limit = options.get("max_tokens") or 500
            tokens = self.model.sample(
                context,
                limit,
                rng,
                temperature=options.get("temperature") or 1.0,
                top_k=options.get("top_k"),
                top_p=options.get("top_p"),
            )
            # Under -o the run's bar counts whole samples; this one counts a sample's characters.
            with step_progress(limit, f"sample {i + 1} characters") as advance:
                for token in tokens:
                    shown = stop.feed(self.vocab.chars[token])
                    if shown:
                        yield TextChunk(shown, index=i, seed=s)
                    if stop.stopped:
                        break
                    advance()
            yield TextChunk(stop.flush(), index=i, seed=s, done=True)

    @classmethod
    def training_task(cls, data, options, config):
        from genkit_text.task import make_task

        return make_task(data, options, config)
