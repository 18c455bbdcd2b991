"""A character-level decoder-only transformer (a small GPT) with a key/value cache.

References:
- Vaswani et al. 2017, "Attention Is All You Need": scaled dot-product attention.
- Radford et al. 2019, GPT-2: decoder-only, pre-norm blocks, learned position embeddings,
  the output layer tied to the token embedding.
- Karpathy's nanoGPT (model.py) for how readable a one-file model can be. The cache is ours:
  nanoGPT's sample.py recomputes the whole context for every new character.

Shapes: B batch, T time (positions), C channels (n_embd), H heads, D = C // H per head, V vocab.

The cache keeps each layer's keys and values for the positions seen so far, so a sampling step
feeds one new position through the network instead of the whole context. Positions are learned
and absolute, so the context cannot run past ``block_size``: when the cache is full, generation
slides (see ``sample``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

DROPOUT_PLACES = ("weights", "output")


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    # Where the attention drops: "weights" (GPT-2's attention-weight dropout, which on a CPU takes
    # scaled_dot_product_attention off its fused kernel) or "output" (after each attention's
    # projection, nanoGPT's resid_dropout; the kernel stays fused). The embeddings' sum and each MLP's
    # output drop in both. See docs/text.md.
    dropout_at: str = "output"

    def to_dict(self) -> dict:
        return asdict(self)


class KVCache:
    """Keys and values of every layer for positions 0..length-1, preallocated to block_size."""

    def __init__(self, config: GPTConfig, batch: int, device, dtype=torch.float32):
        D = config.n_embd // config.n_head
        shape = (2, batch, config.n_head, config.block_size, D)
        # Per layer, keys and values share one tensor, so a sampling step stores both with one copy.
        self.kv = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
        self.keys = [kv[0] for kv in self.kv]  # (B, H, block, D) views
        self.values = [kv[1] for kv in self.kv]
        self.length = 0  # positions filled


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig, layer: int):
        super().__init__()
        self.n_head = config.n_head
        self.layer = layer
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=False)
        self.proj = nn.Linear(config.n_embd, config.n_embd, bias=False)
        if config.dropout_at not in DROPOUT_PLACES:
            raise ValueError(f"dropout_at must be one of {', '.join(DROPOUT_PLACES)}, not {config.dropout_at!r}")
        self.dropout = config.dropout if config.dropout_at == "weights" else 0.0  # on the attention weights
        # On the output: no module at all otherwise, so the "weights" placement draws exactly the random
        # numbers it always did (its runs reproduce).
        self.out_dropout = nn.Dropout(config.dropout) if config.dropout_at == "output" and config.dropout else None

    def forward(self, x, cache: KVCache | None = None):
        B, T, C = x.shape
        H = self.n_head
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        if cache is None:
            y = F.scaled_dot_product_attention(
                q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
            )
        else:
            start = cache.length
            keys, values = cache.keys[self.layer], cache.values[self.layer]
            keys[:, :, start : start + T] = k
            values[:, :, start : start + T] = v
            k, v = keys[:, :, : start + T], values[:, :, : start + T]
            if start == 0:  # priming: plain causal attention over the new positions
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            elif T == 1:  # one step: the newest position may look at every cached one
                y = F.scaled_dot_product_attention(q, k, v)
            else:  # several new positions after cached ones: each sees the cache and its past
                mask = torch.ones(T, start + T, dtype=torch.bool, device=x.device).tril(diagonal=start)
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = self.proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return y if self.out_dropout is None else self.out_dropout(y)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.up = nn.Linear(config.n_embd, 4 * config.n_embd, bias=False)
        self.down = nn.Linear(4 * config.n_embd, config.n_embd, bias=False)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.down(F.gelu(self.up(x))))


class Block(nn.Module):
    """Pre-norm residual block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig, layer: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config, layer)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln1(x), cache)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_emb = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config, i) for i in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        # The output layer reuses the token embedding (GPT-2's weight tying): fewer parameters,
        # and for a 65-character vocabulary it costs nothing in quality.
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2: scale residual outputs by depth
            if name.endswith(("attn.proj.weight", "mlp.down.weight")):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx, cache: KVCache | None = None):
        """Logits (B, T, V) for token ids idx (B, T); with a cache, idx continues what it holds."""
        B, T = idx.shape
        start = cache.length if cache is not None else 0
        if start + T > self.config.block_size:
            raise ValueError(f"context of {start + T} positions exceeds block_size {self.config.block_size}")
        x = self.drop(self.tok_emb(idx) + self.pos_emb.weight[start : start + T])  # (B, T, C)
        for block in self.blocks:
            x = block(x, cache)
        if cache is not None:
            cache.length += T
        return F.linear(self.ln_f(x), self.tok_emb.weight)  # (B, T, V)

    # ------------------------------------------------------------ sampling

    @torch.inference_mode()
    def sample(
        self,
        context: list[int],
        max_new: int,
        generator: torch.Generator,
        temperature=1.0,
        top_k=None,
        top_p=None,
        use_cache=True,
    ):
        """Yield ``max_new`` sampled token ids after ``context`` (a non-empty list of ids).

        With the cache, a step costs one position (``Decoder.step``). When the cache is full
        (block_size positions), it is re-primed from the newest ``block_size // 2`` tokens, so the cost of
        sliding is one half-window forward every ``block_size // 2`` steps. Without the cache
        (``use_cache=False``, nanoGPT's way) every step recomputes the last block_size tokens.
        The two give identical tokens while the context fits in block_size.
        """
        device = self.tok_emb.weight.device
        block = self.config.block_size
        tokens = list(context)
        cache = None
        decoder = Decoder(self) if use_cache else None
        for _ in range(max_new):
            if not use_cache:
                window = torch.tensor([tokens[-block:]], device=device)
                logits = self(window)[0, -1]  # (V,)
            elif cache is None or cache.length == block:
                keep = tokens[-block:] if cache is None else tokens[-(block // 2) :]
                cache = KVCache(self.config, 1, device, self.tok_emb.weight.dtype)
                logits = self(torch.tensor([keep], device=device), cache)[0, -1]
            else:
                logits = decoder.step(tokens[-1], cache)
            token = pick(logits, generator, temperature, top_k, top_p)
            tokens.append(token)
            yield token


class Decoder:
    """Sampling steps of one new position, the same computation as ``GPT.forward`` with a cache.

    A step at batch 1 is nothing but vector-matrix products and small element-wise ops, so its
    cost is per-call overhead, not arithmetic. This path cuts that overhead: plain functions
    instead of module calls, and every weight matrix transposed once, up front, because on a CPU
    ``x @ W_t`` with a contiguous (in, out) copy runs about 2.5x faster than nn.Linear's
    ``x @ W.T`` for a single row. Make a new Decoder after the weights change.
    """

    def __init__(self, model: GPT):
        self.model = model
        self.C, self.H = model.config.n_embd, model.config.n_head
        t = lambda w: w.detach().t().contiguous()  # noqa: E731
        self.layers = [
            (b.ln1, t(b.attn.qkv.weight), t(b.attn.proj.weight), b.ln2, t(b.mlp.up.weight), t(b.mlp.down.weight))
            for b in model.blocks
        ]
        self.head = t(model.tok_emb.weight)

    def step(self, token: int, cache: KVCache) -> torch.Tensor:
        """Logits (V,) after feeding ``token`` at position cache.length."""
        m, C, H, pos = self.model, self.C, self.H, cache.length
        x = m.tok_emb.weight[token : token + 1] + m.pos_emb.weight[pos]  # (1, C)
        for i, (ln1, qkv, proj, ln2, up, down) in enumerate(self.layers):
            h = F.layer_norm(x, (C,), ln1.weight, ln1.bias)
            qkv_h = (h @ qkv).view(3, H, 1, C // H)  # query, key, value of each head: (3, H, 1, D)
            kv = cache.kv[i][:, 0]  # (2, H, block, D)
            kv[:, :, pos : pos + 1] = qkv_h[1:]
            y = F.scaled_dot_product_attention(qkv_h[0], kv[0, :, : pos + 1], kv[1, :, : pos + 1])  # (H, 1, D)
            x = torch.addmm(x, y.view(1, C), proj)  # x + y @ proj in one call
            h = F.layer_norm(x, (C,), ln2.weight, ln2.bias)
            x = torch.addmm(x, F.gelu(h @ up), down)
        cache.length += 1
        return (F.layer_norm(x, (C,), m.ln_f.weight, m.ln_f.bias) @ self.head)[0]


def pick(logits: torch.Tensor, generator: torch.Generator, temperature=1.0, top_k=None, top_p=None) -> int:
    """Sample one id from logits (V,) after temperature, top-k and nucleus (top-p) filtering."""
    # Dividing the gap to the best logit keeps a tiny temperature (1e-45 is a float32 denormal,
    # 1e-50 is zero) finite: sampling tends to greedy decoding instead of overflowing to NaN.
    logits = logits.float()
    logits = (logits - logits.max()) / max(float(temperature), torch.finfo(torch.float32).tiny)
    if top_k is not None and top_k < logits.numel():
        kth = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = F.softmax(logits, dim=-1)
    if top_p is not None and top_p < 1.0:
        # Keep the smallest set of most likely ids whose probability reaches top_p.
        sorted_probs, order = probs.sort(descending=True)
        before = sorted_probs.cumsum(0) - sorted_probs  # mass of the ids ranked above each one
        drop = before >= top_p
        drop[0] = False  # the most likely id always stays, even when top_p rounds to 0 in float32
        sorted_probs[drop] = 0.0
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    # Inverse-CDF sampling: one uniform draw, the first id whose cumulative probability passes
    # it. Same distribution as torch.multinomial, several times cheaper per call on a CPU.
    cdf = probs.cpu().cumsum(0)
    u = torch.rand(1, generator=generator) * cdf[-1]
    return min(int(torch.searchsorted(cdf, u, right=True)), probs.numel() - 1)
