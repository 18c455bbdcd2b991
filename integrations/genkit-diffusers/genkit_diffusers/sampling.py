"""Sampling a class-conditioned UNet with a diffusers scheduler, with classifier-free guidance.

This is the loop diffusers' own pipelines run (set the timesteps, ask the network, let the
scheduler step), for the class labels that no shipped diffusers pipeline takes.
"""

from __future__ import annotations

from collections.abc import Callable


def denoise(
    unet, scheduler, noise, classes=None, steps: int = 16, guidance: float = 1.0, on_step: Callable | None = None
):
    """Pictures in [-1, 1] (float32, like ``noise``) from ``noise`` (B, C, S, S) after ``steps`` steps.

    ``classes`` (B,) int labels or None; with ``guidance`` above 1 each step also asks for the
    "no class" prediction (the last class embedding) and moves away from it.
    """
    import torch

    scheduler.set_timesteps(steps, device=noise.device)
    x = noise * getattr(scheduler, "init_noise_sigma", 1.0)
    dtype = unet.dtype
    guided = classes is not None and guidance != 1.0
    if guided:
        nothing = torch.full_like(classes, unet.config.num_class_embeds - 1)
        labels = torch.cat([classes, nothing])
    for t in scheduler.timesteps:
        given = scheduler.scale_model_input(x, t) if hasattr(scheduler, "scale_model_input") else x
        if guided:
            both = unet(torch.cat([given, given]).to(dtype), t, class_labels=labels).sample.float()
            wanted, plain = both.chunk(2)
            prediction = plain + guidance * (wanted - plain)
        else:
            prediction = unet(given.to(dtype), t, class_labels=classes).sample.float()
        x = scheduler.step(prediction, t, x).prev_sample
        if on_step is not None:
            on_step()
    return x.clamp(-1, 1)
