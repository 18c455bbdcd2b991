"""What a finished run leaves for people: per-epoch samples, the loss curve and the model card."""

from __future__ import annotations

import io
import math
import os
import platform
from pathlib import Path

from genkit import __version__, encode, files, weights


def write_sample(sample, folder: Path, epoch: int) -> None:
    """A task's per-epoch sample: text as .txt, a uint8 array as .png."""
    if sample is None:
        return
    if isinstance(sample, str):
        files.write_atomic(folder / f"epoch-{epoch:03d}.txt", sample.encode(), overwrite=True)
    else:
        files.write_atomic(folder / f"epoch-{epoch:03d}.png", encode.png_bytes(sample), overwrite=True)


def _smoothed(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    # A running mean over about 1% of the run shows the trend through batch noise.
    window = max(1, len(points) // 100)
    out = []
    for k in range(0, len(points), window):
        chunk = points[k : k + window]
        out.append((chunk[-1][0], sum(p[1] for p in chunk) / len(chunk)))
    return out


def plot_history(history: list[dict], path: Path, width: int = 640, height: int = 360) -> None:
    """A plain loss-versus-step line chart, drawn with Pillow to keep dependencies small."""
    from PIL import Image, ImageDraw

    points = [(h["step"], h["loss"]) for h in history if "loss" in h and math.isfinite(h["loss"])]
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = 60, width - 20, 20, height - 40
    draw.rectangle([left, top, right, bottom], outline="black")
    if len(points) >= 2:
        smooth = _smoothed(points)
        xs, ys = [p[0] for p in smooth], [p[1] for p in smooth]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        y1 = y1 if y1 > y0 else y0 + 1
        x1 = x1 if x1 > x0 else x0 + 1
        coords = [
            (left + (x - x0) / (x1 - x0) * (right - left), bottom - (y - y0) / (y1 - y0) * (bottom - top))
            for x, y in smooth
        ]
        draw.line(coords, fill="navy", width=2)
        draw.text((5, top), f"{y1:.3f}", fill="black")
        draw.text((5, bottom - 10), f"{y0:.3f}", fill="black")
        draw.text((left, bottom + 8), f"step {x0}", fill="black")
        draw.text((right - 80, bottom + 8), f"step {x1}", fill="black")
    draw.text((left + 5, top + 5), "training loss", fill="black")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    files.write_atomic(path, buf.getvalue(), overwrite=True)


def write_card(path: Path, spec, weights_path: Path, *, params: int, shipped: int, device, notes: str) -> None:
    """The run's MODEL_CARD.md, from what its weights file records (command, data, training, metrics):
    the card cannot say other than the weights it describes. ``params`` counts what was trained,
    ``shipped`` the numbers in the weights file (a GAN's critic or an EMA copy is trained, not shipped)."""
    meta = weights.metadata(weights_path)
    summary, metrics = meta["training"], meta["metrics"]
    lines = [
        f"# {spec.name}: {spec.summary}",
        "",
        f"- weights: `{weights_path.name}` (sha256 `{weights.sha256(weights_path)[:16]}`)",
        f"- parameters: {params:,}"
        + (f" while training, {shipped:,} in the weights file" if shipped != params else ""),
        f"- data: `{meta['data']}`",
        f"- command: `{meta['command']}`",
        (
            f"- training: {summary['steps']} steps ({summary['epochs']} epochs), batch {summary['batch_size']}, "
            f"lr {summary['lr']}, precision {summary['precision']}, {summary['train_seconds'] / 60:.1f} min on "
            f"{device.type} ({platform.processor() or platform.machine()}, {os.cpu_count()} cores visible), "
            f"{summary['processes']} process(es), {summary['stop']}"
        ),
        f"- genkit {__version__}",
        "",
        "## Metrics (`genkit eval`, fp32)",
        "",
        "| metric | value |",
        "| --- | ---: |",
    ]
    lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in metrics.items()]
    if notes:
        lines += ["", notes]
    files.write_atomic(path, ("\n".join(lines) + "\n").encode(), overwrite=True)
