"""Speed of `genkit video` with the motion model, as ratios and rates measured in this one run.

Run: python bench/video_speed.py [--runs 5] [--weights W] [--threads 1]

- end to end: median wall time of `genkit video -o clip.gif` (a new 20-frame clip: the MNIST GAN's
  digits, 10 context frames, 20 predicted) over `python -c "import torch"` (target <= 1.5x)
- prediction: frames/s of the model rolling forward 20 frames, at batch 1 and batch 64
- training: sequences/s of the training step (data made on the fly, forward, backward, AdamW) in fp32
  and in bf16 autocast, at batch 16
The machine is shared and noisy: compare the ratios, not the seconds.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(cmd) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def end_to_end(runs: int, weights) -> tuple[float, float]:
    extra = ["--weights", str(weights)] if weights else []
    with tempfile.TemporaryDirectory() as tmp:
        video = [
            wall(
                [
                    sys.executable,
                    "-m",
                    "genkit",
                    "video",
                    "--seed",
                    str(k),
                    "-o",
                    str(Path(tmp) / f"c{k}.gif"),
                    "--quiet",
                    *extra,
                ]
            )
            for k in range(runs)
        ]
    torch_only = [wall([sys.executable, "-c", "import torch"]) for _ in range(runs)]
    return statistics.median(video), statistics.median(torch_only)


def load_model(weights):
    import torch

    from genkit.registry import load_registry
    from genkit.weights import default_weights_path
    from genkit_video.predict import VideoGenerator

    path = Path(weights) if weights else default_weights_path(load_registry().get("video"))
    return VideoGenerator(torch.device("cpu"), path).model()


def prediction_rate(model, batch: int, frames: int = 20, repeats: int = 3) -> float:
    import torch

    past = torch.rand(batch, model.cfg.context, model.cfg.size, model.cfg.size)
    model.rollout(past, frames)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        model.rollout(past, frames)
    return batch * frames * repeats / (time.perf_counter() - start)


def training_rate(config: dict, bf16: bool, steps: int = 6, batch: int = 16) -> float:
    import numpy as np
    import torch

    from genkit_video.motion import MotionConfig, MotionNet
    from genkit_video.task import step_sequences

    digits = np.random.default_rng(0).integers(0, 256, size=(100, 28, 28), dtype=np.uint8)
    model = MotionNet(MotionConfig(**config))
    optimizer = torch.optim.AdamW(model.parameters(), 1e-3)
    for k in range(steps + 2):
        if k == 2:  # the first steps warm up the kernels
            start = time.perf_counter()
        clip = step_sequences(digits, k, 0, batch).float() / 255
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(clip[:, :10])
        loss = (torch.sigmoid(logits.float()) - clip[:, 10:]).pow(2).flatten(2).sum(-1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return batch * steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the in-process rates")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    video, torch_only = end_to_end(args.runs, args.weights)
    print(
        f"end to end: genkit video -o clip.gif {video:.2f} s, import torch {torch_only:.2f} s, "
        f"ratio {video / torch_only:.2f} (target <= 1.5)"
    )
    model = load_model(args.weights)
    for batch in (1, 64):
        print(f"prediction: {prediction_rate(model, batch):.0f} frames/s at batch {batch} ({args.threads} thread(s))")
    for bf16 in (False, True):
        print(
            f"training: {training_rate(model.cfg.__dict__, bf16):.0f} sequences/s in {'bf16' if bf16 else 'fp32'} "
            f"at batch 16 ({args.threads} thread(s))"
        )


if __name__ == "__main__":
    main()
