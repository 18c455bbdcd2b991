"""Latent walks: a closed loop through K random latent points, by spherical interpolation.

The loop visits z_0 -> z_1 -> ... -> z_{K-1} -> z_0 and samples F frames evenly along it,
leaving out the end point (it equals frame 0), so frame F-1 leads smoothly into frame 0 and
the animation repeats without a jump. Slerp keeps intermediate latents at the norm a Gaussian
prior expects, where linear interpolation would pass through low-norm, washed-out images
(White 2016, "Sampling Generative Networks").

A source generator takes part by offering two methods (docs/plugins.md, "Latent space"):
``sample_latents(seeds) -> (k, d) array or tensor`` and ``decode(latents, classes=None)`` returning
uint8 images; class-conditional sources also list ``class_names`` and accept ``classes`` as a
(k, C) array of class weights (one-hot rows, or blends while morphing between classes).
"""

from __future__ import annotations

import numpy as np

from genkit.api import LoadedGenerator
from genkit.artifacts import Frames
from genkit.classnames import find_class
from genkit.errors import GenkitError
from genkit.registry import load_registry
from genkit.device import item_seed


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation between vectors a and b; falls back to lerp when nearly parallel."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = np.clip(np.dot(a / max(na, 1e-12), b / max(nb, 1e-12)), -1.0, 1.0)
    omega = np.arccos(cos)
    if omega < 1e-4:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def loop_positions(frames: int, keyframes: int):
    """For each frame: (segment index, fraction within the segment), evenly around the loop."""
    for f in range(frames):
        where = f * keyframes / frames
        segment = int(where)
        yield segment, where - segment


def parse_classes(text: str | None, names: list[str] | None) -> list[int] | None:
    if not text:
        return None
    if not names:
        raise GenkitError("--classes needs a class-conditional source; this one has no classes")
    wanted = [c.strip() for c in text.split(",") if c.strip()]
    if len(wanted) < 1:
        raise GenkitError("--classes is empty")
    indices = [find_class(c, names) for c in wanted]
    return indices


class LatentWalk:
    def __init__(self, device, weights=None):
        self.device = device
        self.weights = weights
        self._sources: dict[str, LoadedGenerator] = {}

    def _source(self, name: str):
        if name == "video":
            raise GenkitError("--source video: a video cannot animate itself")
        spec = load_registry().get(name)
        if spec.modality != "image":
            raise GenkitError(f"--source {name}: a {spec.modality} generator has no images to animate")
        if name not in self._sources:
            self._sources[name] = LoadedGenerator(spec, device=str(self.device), weights=self.weights)
        impl = self._sources[name].impl
        if not (hasattr(impl, "sample_latents") and hasattr(impl, "decode")):
            raise GenkitError(f"--source {name}: this generator does not expose a latent space (sample_latents/decode)")
        return impl

    def generate(self, n, seed, options):
        source = self._source(options["source"])
        names = list(getattr(source, "class_names", None) or [])
        chosen = parse_classes(options.get("classes"), names)
        keyframes = len(chosen) if chosen else options["keyframes"]
        frames, fps = options["frames"], options["fps"]
        if keyframes > frames:
            raise GenkitError(f"--frames {frames} is fewer than the {keyframes} keyframes the loop passes through")
        for i in range(n):
            s = item_seed(seed, i)
            key_seeds = [item_seed(s, k) for k in range(keyframes)]
            latents = source.sample_latents(key_seeds)
            as_numpy = np.asarray(latents.detach().cpu() if hasattr(latents, "detach") else latents, dtype=np.float64)
            path, weights = [], []
            if names:
                classes = chosen or [np.random.default_rng(ks).integers(len(names)) for ks in key_seeds]
                onehot = np.eye(len(names))[classes]
            for segment, t in loop_positions(frames, keyframes):
                nxt = (segment + 1) % keyframes
                path.append(slerp(as_numpy[segment], as_numpy[nxt], t))
                if names:  # blend class weights along the same path
                    weights.append((1 - t) * onehot[segment] + t * onehot[nxt])
            batch = np.stack(path)
            if hasattr(latents, "detach"):
                import torch

                batch = torch.as_tensor(batch, dtype=latents.dtype, device=latents.device)
            pixels = source.decode(batch, classes=np.stack(weights) if names else None)
            pixels = np.asarray(pixels.cpu() if hasattr(pixels, "cpu") else pixels)
            info = {"source": options["source"], "keyframes": keyframes}
            if chosen:
                info["classes"] = [names[c] for c in chosen]
            yield Frames(frames=list(pixels), fps=fps, index=i, seed=s, info=info)
