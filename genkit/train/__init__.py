"""Training and evaluation of trainable generators (``genkit train`` / ``genkit eval``).

protocol.py   the TrainingTask a plugin hands the loop, with its documented defaults (no torch)
settings.py   the run's settings
loop.py       the shared loop: data order, schedule, steps, epoch ends, checkpoints, the final outputs
step.py       what a step gets: autocast, backward/clip/step, gradient averaging, noise
precision.py  --precision auto|fp32|bf16|fp16
checkpoint.py checkpoints read and written (safetensors + JSON, never pickle)
distributed.py torchrun relaunch for --nproc and the process group
signals.py    SIGINT/SIGTERM save a checkpoint and exit 130/143
outputs.py    the run folder's planned names and the --data checks
report.py     samples, loss curve, model card
evaluation.py genkit eval
command.py    the two CLI commands and their typed options

Importing this package (or protocol.py) never imports torch.
"""

from genkit.train.protocol import TrainingTask

__all__ = ["TrainingTask"]
