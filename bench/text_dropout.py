"""Training-step time of the text model with dropout: where the dropout sits, as a ratio in one run.

genkit's text model drops the attention weights, as GPT-2 and nanoGPT do (plugins/genkit_text/model.py),
which on a CPU takes scaled_dot_product_attention off its fused kernel. The candidate drops each
attention's output instead (nanoGPT's resid_dropout), leaving the kernel fused. Not adopted yet: the
shipped card's command would then train a different model, and whether it reaches the same validation
loss is not measured. This times a full training step (forward, loss, backward, AdamW) both ways, one
thread, random characters (speed does not depend on them), steps alternating and the best of
--repeats counting. Sizes: the shipped 4x128 with 128 and with 256 positions (8,192 characters per
step) and 4x192 with 256.

Run: python bench/text_dropout.py [--repeats 3] [--steps 3] [--dropout 0.1]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from genkit_text import model as text_model

SIZES = [(4, 128, 128, 64), (4, 128, 256, 32), (4, 192, 256, 32)]  # layers, width, block, batch


def drop_attention_output(attention: text_model.CausalSelfAttention, p: float):
    """Make one attention layer drop its output instead of its weights (the candidate placement):
    the model's own forward with no attention-weight dropout, and a dropout after the projection."""
    attention.dropout = 0.0
    attention.proj = torch.nn.Sequential(attention.proj, torch.nn.Dropout(p))


def step_seconds(model, optimizer, batch, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), batch[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--dropout", type=float, default=0.1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"training step, dropout {args.dropout}, one thread: genkit's (attention weights) / candidate (output)")
    for layers, width, block, batch_size in SIZES:
        config = text_model.GPTConfig(
            vocab_size=65, block_size=block, n_layer=layers, n_head=4, n_embd=width, dropout=args.dropout
        )
        models = {}
        for name in ("genkit", "output"):
            torch.manual_seed(0)
            model = text_model.GPT(config).train()
            if name == "output":
                for block_module in model.blocks:
                    drop_attention_output(block_module.attn, args.dropout)
            models[name] = (model, torch.optim.AdamW(model.parameters(), lr=1e-3))
        batch = torch.randint(0, 65, (batch_size, block + 1))
        best = {name: float("inf") for name in models}
        for _ in range(args.repeats):
            for name, (model, optimizer) in models.items():
                step_seconds(model, optimizer, batch, 1)  # warm-up
                best[name] = min(best[name], step_seconds(model, optimizer, batch, args.steps))
        print(
            f"  {layers}x{width}, {block} positions, batch {batch_size}: {best['genkit']:.3f} s / "
            f"{best['output']:.3f} s = {best['genkit'] / best['output']:.2f}x"
        )


if __name__ == "__main__":
    main()
