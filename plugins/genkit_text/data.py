"""Text corpora for the character model: reading, the vocabulary, the split, training windows.

The split follows nanoGPT's shakespeare_char benchmark: the first ``int(0.9 * n)`` characters
train, the last 10% validate, no shuffle, so losses stay comparable with published ones.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genkit.errors import GenkitError

TRAIN_FRACTION = 0.9
# Budgets for the whole corpus, checked before it is decoded: training holds every character as an
# int64 id (8 bytes a character, twice while encoding), and the model has one row per distinct one.
MAX_CORPUS_BYTES = 128 << 20
MAX_VOCABULARY = 1 << 16


def read_corpus(path: Path) -> str:
    """The whole file as text; an empty, binary, non-UTF-8, too large or too varied file is a user error."""
    from genkit.reading import read_regular

    path = Path(path)
    if path.is_dir():
        raise GenkitError(f"--data {path} is a folder; genkit text trains on one UTF-8 text file")
    raw = read_regular(path, MAX_CORPUS_BYTES, "--data")
    if not raw.strip():
        raise GenkitError(f"--data {path} is empty; give a UTF-8 text file with some text in it")
    if b"\x00" in raw:
        raise GenkitError(f"--data {path} looks binary (it holds NUL bytes); give a UTF-8 text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GenkitError(
            f"--data {path} is not UTF-8 text (bad byte at offset {exc.start}); give a UTF-8 text file"
        ) from None
    distinct = len(set(text))
    if distinct > MAX_VOCABULARY:
        raise GenkitError(
            f"--data {path} holds {distinct:,} different characters; a character model takes at most {MAX_VOCABULARY:,}"
        )
    return text


def describe(chars) -> str:
    """Characters as a user can read them, e.g. "'é' (U+00E9)"."""
    return ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars)


class Vocabulary:
    """The sorted set of characters of a corpus; ids are positions in that string."""

    def __init__(self, chars: str):
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        return cls("".join(sorted(set(text))))

    def __len__(self):
        return len(self.chars)

    def unknown(self, text: str) -> list[str]:
        return sorted(set(text) - set(self.index))

    def encode(self, text: str, what: str = "the text") -> list[int]:
        missing = self.unknown(text)
        if missing:
            shown = describe(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            raise GenkitError(f"{what} has characters the model's vocabulary lacks: {shown}")
        return [self.index[c] for c in text]

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in ids)


def split(text: str) -> tuple[str, str]:
    """(train, validation): the first 90% of characters and the last 10%."""
    cut = int(TRAIN_FRACTION * len(text))
    return text[:cut], text[cut:]


class Windows(torch.utils.data.Dataset):
    """Every run of ``block_size + 1`` consecutive ids: item i is ids[i : i + block_size + 1].

    The model reads the first block_size ids and predicts the last block_size (shifted by one).
    One epoch visits every start position once, in the shared loop's seeded order.
    """

    def __init__(self, ids: torch.Tensor, block_size: int):
        self.ids = ids
        self.block_size = block_size

    def __len__(self):
        return len(self.ids) - self.block_size

    def __getitem__(self, i):
        return self.ids[i : i + self.block_size + 1]

    def __getitems__(self, indices):
        # One gather for the whole batch; the loop's collate stacks the rows it gets back.
        starts = torch.as_tensor(indices).unsqueeze(1)
        rows = self.ids[starts + torch.arange(self.block_size + 1)]
        return list(rows)
