"""Training-step time of the text model by where the attention drops (--dropout-at), as ratios in one run.

"weights" drops the attention weights, as GPT-2 and nanoGPT do and as genkit's models before
--dropout-at were trained; on a CPU that takes scaled_dot_product_attention off its fused kernel.
"output" (the default for new models) drops each attention's output after its projection
(nanoGPT's resid_dropout), leaving the kernel fused. Both drop the embeddings' sum and each MLP's
output. This times a full training step (forward, loss, backward, AdamW) each way, one thread,
random characters (speed does not depend on them), CPU time, in fp32 and, where the CPU has fast bf16, in
bf16 autocast; steps alternate and the best counts. Sizes: the 0.1.x shipped 4x128 with 128 and
with 256 positions (8,192 characters per step) and 6x192 with 256 (the 0.2 recipe's shape).

Run: python bench/text_dropout.py [--repeats 3] [--steps 3] [--dropout 0.1]
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch
import torch.nn.functional as F

from genkit.train.precision import cpu_bf16_is_faster
from genkit_text import model as text_model

SIZES = [(4, 128, 4, 128, 64), (4, 128, 4, 256, 32), (6, 192, 6, 256, 32)]  # layers, width, heads, block, batch


def one_step(model, optimizer, batch, dtype) -> float:
    start = time.process_time()  # CPU time: other jobs on a shared machine barely move it
    with torch.autocast("cpu", dtype=dtype) if dtype else contextlib.nullcontext():
        logits = model(batch[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), batch[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--dropout", type=float, default=0.1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    precisions = {"fp32": None, **({"bf16": torch.bfloat16} if cpu_bf16_is_faster() else {})}
    print(f"training step, dropout {args.dropout}, one thread: --dropout-at weights / --dropout-at output")
    for layers, width, heads, block, batch_size in SIZES:
        for label, dtype in precisions.items():
            models = {}
            for place in ("weights", "output"):
                config = text_model.GPTConfig(
                    vocab_size=65,
                    block_size=block,
                    n_layer=layers,
                    n_head=heads,
                    n_embd=width,
                    dropout=args.dropout,
                    dropout_at=place,
                )
                torch.manual_seed(0)
                model = text_model.GPT(config).train()
                models[place] = (model, torch.optim.AdamW(model.parameters(), lr=1e-3))
            batch = torch.randint(0, 65, (batch_size, block + 1))
            best = {place: float("inf") for place in models}
            for model, optimizer in models.values():
                one_step(model, optimizer, batch, dtype)  # warm-up
            for _ in range(args.repeats * args.steps):
                for place, (model, optimizer) in models.items():
                    best[place] = min(best[place], one_step(model, optimizer, batch, dtype))
            print(
                f"  {layers}x{width}, {block} positions, batch {batch_size}, {label}: {best['weights']:.3f} s / "
                f"{best['output']:.3f} s = {best['weights'] / best['output']:.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
