"""Latent walks: a closed loop through K random latent points, by spherical interpolation.

The loop visits z_0 -> z_1 -> ... -> z_{K-1} -> z_0 and samples F frames evenly along it,
leaving out the end point (it equals frame 0), so frame F-1 leads smoothly into frame 0 and
the animation repeats without a jump. Slerp keeps intermediate latents at the norm a Gaussian
prior expects, where linear interpolation would pass through low-norm, washed-out images
(White 2016, "Sampling Generative Networks").

A source generator takes part by implementing ``genkit.contract.LatentSpace`` (docs/plugins.md):
``sample_latents(seeds)``, ``decode(latents, classes=None)`` and ``class_names``. The source is
loaded through the public API, like any user script would, so this plugin imports no other plugin;
its generator name and weights sha256 go into every clip's provenance.
"""

from __future__ import annotations

import numpy as np

import genkit
from genkit.artifacts import Frames
from genkit.classnames import find_class
from genkit.contract import LatentSpace, check_implements
from genkit.device import item_seed
from genkit.errors import GenkitError


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
        self._sources: dict = {}  # name -> genkit.api.LoadedGenerator, loaded once

    def _source(self, name: str):
        """The source generator, loaded once, checked to have a latent space of images."""
        if name == "video":
            raise GenkitError("--source video: a video cannot animate itself")
        if name not in self._sources:
            loaded = genkit.load(name, device=str(self.device), weights=self.weights)
            if loaded.spec.modality != "image":
                raise GenkitError(f"--source {name}: a {loaded.spec.modality} generator has no images to animate")
            try:
                check_implements(loaded.impl, LatentSpace, f"--source {name}")
            except genkit.RunError as exc:
                raise GenkitError(f"{exc} (it has no latent space to walk)") from None
            self._sources[name] = loaded
        return self._sources[name]

    def generate(self, n, seed, options, format):
        loaded = self._source(options["source"])
        source = loaded.impl
        names = list(source.class_names or [])
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
            info = {
                "source": options["source"],
                "source_weights": loaded.weights.name if loaded.weights else None,
                "source_weights_sha256": loaded.weights_sha256,
                "keyframes": keyframes,
            }
            if chosen:
                info["classes"] = [names[c] for c in chosen]
            yield Frames(frames=list(pixels), fps=fps, index=i, seed=s, info=info)
