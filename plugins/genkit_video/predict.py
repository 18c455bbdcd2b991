"""`genkit video`: clips of moving digits from the trained motion model, or latent walks.

Three ways in, one generator:

- no --source, no --primer: a new clip. Two digits come from the MNIST GAN through the public API
  (``genkit.load("image", weights="mnist")``); they are placed on a black 64x64 canvas and moved
  for ``context`` (10) frames exactly as Moving MNIST moves them (moving_mnist.trajectory); from
  there the motion model predicts every frame of the clip.
- --primer CLIP: the model continues the last ``context`` frames of CLIP (policy in primer.py).
- --source NAME: today's latent walk through NAME's latent space (walk.LatentWalk).

``--frames`` counts the frames written; ``--with-context`` puts the context frames first.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from genkit import weights as weights_io
from genkit.artifacts import Frames
from genkit.device import item_seed
from genkit.errors import GenkitError
from genkit.models import ModelFormat
from genkit_video import moving_mnist
from genkit_video.motion import MotionConfig, MotionNet, check_config

MAX_PREDICTED = 200  # the model's frames blur as it feeds on its own guesses; more is never useful
DEFAULT_FRAMES = {"motion": 20, "walk": 48}
DEFAULT_KEYFRAMES = 4
DIGIT_WEIGHTS = "mnist"  # the image generator's shipped MNIST GAN
SINGLE_THREAD_UP_TO = 4  # clips per run below which one thread is faster
# How a motion model's weights file becomes a model: its typed config (bounds in MotionConfig) and the network.
WEIGHTS = ModelFormat("video", MotionConfig, build=MotionNet, check=check_config)


def _walk_options(options: dict) -> dict:
    return dict(
        options,
        frames=options.get("frames") or DEFAULT_FRAMES["walk"],
        keyframes=options.get("keyframes") or DEFAULT_KEYFRAMES,
    )


def _check_motion_options(options: dict) -> int:
    for name in ("classes", "keyframes", "source_weights"):
        if options.get(name):
            flag = "--" + name.replace("_", "-")
            raise GenkitError(f"{flag} belongs to latent walks; add --source image (or another image generator)")
    frames = options.get("frames") or DEFAULT_FRAMES["motion"]
    if frames > MAX_PREDICTED:
        raise GenkitError(f"--frames {frames}: the motion model predicts at most {MAX_PREDICTED} frames")
    return frames


@contextmanager
def small_batch_threads(n: int):
    """One intra-op thread for a few clips: their convolutions run on 16x16 grids, too small for a
    second thread to pay for its synchronisation (measured: 2.0 s instead of 4.0 s end to end for
    one clip on a busy 2-core machine); the caller's setting is restored afterwards."""
    before = torch.get_num_threads()
    if n <= SINGLE_THREAD_UP_TO:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _to_uint8(frames: torch.Tensor) -> list:
    return list((frames.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy())


class VideoGenerator:
    class_names = None

    def __init__(self, device, weights=None):
        self.device = device
        self.weights = weights
        self._model = None
        self.loaded = None  # what WEIGHTS.load read, once a motion run needs the model
        self._digits = None

    # ------------------------------------------------------------ loading, only what a run needs

    def model(self) -> MotionNet:
        if self._model is None:
            self.loaded = WEIGHTS.load(self.weights, self.device)  # every check before any memory is used
            self._model = self.loaded.module
        return self._model

    def _walk_weights(self):
        """--weights belongs to the walk's source unless it is the video model's own file."""
        if self.weights is None or weights_io.metadata(self.weights).get("generator") == "video":
            return None
        return self.weights

    # ------------------------------------------------------------ the three ways in

    def generate(self, n, seed, options, format=None):
        if options.get("source"):
            if options.get("primer"):
                raise GenkitError("--primer continues a clip with the motion model; it does not go with --source")
            from genkit_video.walk import LatentWalk

            walk_weights = options.get("source_weights") or self._walk_weights()
            yield from LatentWalk(self.device, walk_weights).generate(n, seed, _walk_options(options), format)
            return
        frames = _check_motion_options(options)
        with small_batch_threads(n):
            clips = self._motion(n, seed, options, frames)
        yield from clips

    def _motion(self, n, seed, options, frames) -> list[Frames]:
        """The clips of a motion run, made in one batch."""
        cfg = self.model().cfg
        if options.get("primer"):
            from genkit_video.primer import read_primer

            past = torch.from_numpy(read_primer(options["primer"], cfg.context, cfg.size))[None].repeat(n, 1, 1, 1)
            seeds = [item_seed(seed, i) for i in range(n)]
            info = [{"primer": str(options["primer"])}] * n
        else:
            seeds = [item_seed(seed, i) for i in range(n)]
            past, info = self._seeded_contexts(seeds, cfg)
        future = self.model().rollout(past.to(self.device), frames)
        clips = []
        for i in range(n):
            clip = torch.cat([past[i].to(self.device), future[i]]) if options.get("with_context") else future[i]
            clips.append(
                Frames(
                    frames=_to_uint8(clip),
                    fps=options["fps"],
                    index=i,
                    seed=seeds[i],
                    info=dict(info[i], predicted_frames=frames, context_frames=cfg.context),
                )
            )
        return clips

    def _seeded_contexts(self, seeds: list[int], cfg: MotionConfig) -> tuple[torch.Tensor, list[dict]]:
        """Per clip: two GAN digits moved for ``context`` frames the Moving MNIST way."""
        import genkit

        if self._digits is None:
            self._digits = genkit.load("image", device=str(self.device), weights=DIGIT_WEIGHTS)
        contexts, info = [], []
        for s in seeds:
            drawn = self._digits.generate(n=2, seed=item_seed(s, 0))
            rng = np.random.default_rng(item_seed(s, 1))
            places = [moving_mnist.trajectory(rng, cfg.context) for _ in drawn]
            frames = moving_mnist.paste([np.asarray(d.pixels) for d in drawn], places, cfg.size)
            contexts.append(torch.from_numpy(frames).float() / 255)
            info.append(
                {
                    "digits": [d.info.get("class") for d in drawn],
                    "digit_generator": "image",
                    "digit_weights": self._digits.weights.name,
                    "digit_weights_sha256": getattr(self._digits, "weights_sha256", None),
                }
            )
        return torch.stack(contexts), info

    @classmethod
    def training_task(cls, data, options, config):
        from genkit_video.task import make_task

        return make_task(data, options, config)
