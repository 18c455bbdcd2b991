"""The class-conditioned diffusion model genkit trains: a diffusers ``UNet2DModel``, its config and its schedulers.

A genkit diffusion weights file holds the EMA UNet's state dict under diffusers' own key names; its
``config`` table holds everything needed to rebuild it: the UNet's constructor arguments (checked
here before anything is built), the training objective and the pictures' classes, size and channels.

Two objectives, both trained through diffusers' schedulers:

- ``ddpm``: the network predicts the noise added by ``DDPMScheduler.add_noise`` (cosine betas).
- ``flow``: rectified flow; the network predicts the velocity ``noise - x0`` along the straight path
  ``x_t = (1 - s) x0 + s noise`` that ``FlowMatchEulerDiscreteScheduler`` integrates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from genkit.datasets import PICTURE_SIZES
from genkit.models import ModelFormat, bounded, one_of

OBJECTIVES = ("ddpm", "flow")
TRAIN_TIMESTEPS = 1000
# The schedulers each objective's sampling may use, the default first.
SAMPLERS = {
    "ddpm": ("DDIMScheduler", "DPMSolverMultistepScheduler", "DDPMScheduler", "EulerDiscreteScheduler"),
    "flow": ("FlowMatchEulerDiscreteScheduler", "FlowMatchHeunDiscreteScheduler"),
}
_BLOCKS = ("DownBlock2D", "UpBlock2D")
MAX_WIDTH = 1024


@dataclass
class DiffusionConfig:
    """The config a genkit diffusion weights file carries (``unet`` is checked by ``check_config``)."""

    arch: str = one_of("unet")
    objective: str = one_of(*OBJECTIVES)
    size: int = one_of(*PICTURE_SIZES)
    channels: int = one_of(1, 3)
    num_classes: int = bounded(0, 10_000)
    class_names: list = field(default_factory=list)
    unet: dict = field(default_factory=dict)


def unet_arguments(size: int, channels: int, num_classes: int, width: int) -> dict[str, Any]:
    """UNet2DModel's arguments for pictures of this size: three levels up to 32 pixels, four above.

    Plain residual blocks at every level and self-attention only in the middle block (at 7x7 for
    28-pixel pictures): attention in the down and up blocks doubled a bf16 training step on the CPU
    and is left out, as is a second residual block per level (1.45x the step for the same pictures seen).
    One extra class embedding is the "no class" that guidance contrasts with.
    """
    levels = 3 if size <= 32 else 4
    return {
        "sample_size": size,
        "in_channels": channels,
        "out_channels": channels,
        "block_out_channels": [width * m for m in (1, 2, 4, 4)[:levels]],
        "down_block_types": [_BLOCKS[0]] * levels,
        "up_block_types": [_BLOCKS[1]] * levels,
        "layers_per_block": 1,
        "norm_num_groups": min(32, width // 2),
        "num_class_embeds": num_classes + 1 if num_classes else None,
    }


def check_config(config: DiffusionConfig) -> None:
    """The UNet's arguments a file may carry: the shapes genkit builds, within bounds (ValueError: why)."""
    unet = config.unet
    allowed = set(unet_arguments(config.size, config.channels, config.num_classes, 32))
    if set(unet) != allowed:
        raise ValueError(f"has unet arguments {sorted(unet)}, expected {sorted(allowed)}")
    widths = unet["block_out_channels"]
    if not (isinstance(widths, list) and 2 <= len(widths) <= 5 and all(isinstance(w, int) for w in widths)):
        raise ValueError("unet block_out_channels must be 2 to 5 whole numbers")
    if not all(1 <= w <= MAX_WIDTH for w in widths) or any(w % unet["norm_num_groups"] for w in widths):
        raise ValueError(f"unet block_out_channels {widths} must be 1 to {MAX_WIDTH}, multiples of norm_num_groups")
    if config.size % 2 ** (len(widths) - 1):
        raise ValueError(f"size {config.size} cannot be halved {len(widths) - 1} times")
    for name, kind in (("down_block_types", _BLOCKS[0]), ("up_block_types", _BLOCKS[1])):
        if unet[name] != [kind] * len(widths):
            raise ValueError(f"unet {name} must be {kind} at every level")
    expected_classes = config.num_classes + 1 if config.num_classes else None
    if unet["num_class_embeds"] != expected_classes or len(config.class_names) != config.num_classes:
        raise ValueError("unet num_class_embeds, num_classes and class_names disagree")
    checks = (
        unet["sample_size"] == config.size,
        unet["in_channels"] == unet["out_channels"] == config.channels,
        isinstance(unet["layers_per_block"], int) and 1 <= unet["layers_per_block"] <= 4,
        isinstance(unet["norm_num_groups"], int) and unet["norm_num_groups"] >= 1,
    )
    if not all(checks):
        raise ValueError("unet sample_size, channels, layers_per_block or norm_num_groups out of bounds")


def build_unet(config: DiffusionConfig):
    from diffusers import UNet2DModel

    return UNet2DModel(**config.unet)


# How a diffusion weights file becomes the network (every check before memory is taken).
WEIGHTS = ModelFormat("diffusion", DiffusionConfig, build=build_unet, check=check_config, max_parameters=200_000_000)


def training_scheduler(objective: str):
    """The scheduler that noises pictures in training (and whose config sampling schedulers start from)."""
    import diffusers

    if objective == "flow":
        return diffusers.FlowMatchEulerDiscreteScheduler(num_train_timesteps=TRAIN_TIMESTEPS, shift=1.0)
    return diffusers.DDPMScheduler(
        num_train_timesteps=TRAIN_TIMESTEPS, beta_schedule="squaredcos_cap_v2", prediction_type="epsilon"
    )


def sampling_scheduler(objective: str, name: str | None = None):
    """A diffusers scheduler for sampling (default: the objective's first), built from the training one's config."""
    import diffusers

    from genkit import GenkitError

    usable = SAMPLERS[objective]
    name = name or usable[0]
    if name not in usable:
        raise GenkitError(f"--scheduler {name}: a {objective} model samples with {', '.join(usable)}")
    base = training_scheduler(objective)
    # lambda_min_clipped: without it DPM-Solver leaves the noise of the cosine schedule's last step in the picture.
    extra = (
        {"algorithm_type": "dpmsolver++", "lambda_min_clipped": -5.1} if name == "DPMSolverMultistepScheduler" else {}
    )
    return getattr(diffusers, name).from_config(base.config, **extra)
