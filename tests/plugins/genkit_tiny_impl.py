"""The heavy half of the tiny test generator."""

import os

import torch

from genkit.artifacts import TextChunk
from genkit.device import item_seed
from genkit.errors import GenkitError
from genkit.train.protocol import TrainingTask


class Net(torch.nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))

    def forward(self, x):
        return self.body(x)


class Task(TrainingTask):
    def __init__(self, data, options, config):
        text = data.read_text() if data.is_file() else ""
        try:
            numbers = [float(t) for t in text.split()]
        except ValueError:
            numbers = []
        if len(numbers) < 8:
            raise GenkitError(f"--data {data}: needs a text file with at least 8 numbers")
        self.config = config or {"hidden": options.get("hidden", 8)}
        self.defaults = {"epochs": 3, "batch_size": 8, "lr": 0.05}
        if os.environ.get("GENKIT_TINY_MIN_STEPS"):  # lets a test see a default length that follows the data
            self.defaults["min_steps"] = int(os.environ["GENKIT_TINY_MIN_STEPS"])
        g = torch.Generator().manual_seed(len(numbers))
        self.x = torch.randn(64, 4, generator=g)
        w = torch.tensor(numbers[:4])
        self.y = (self.x @ w).unsqueeze(1)

    def build_model(self):
        return Net(self.config["hidden"])

    def train_data(self):
        return list(zip(self.x[:48], self.y[:48]))

    def loss(self, model, batch):
        x, y = batch
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls > int(os.environ.get("GENKIT_TINY_NAN_AFTER", 1 << 62)):  # lets a test make a run diverge
            return torch.nn.functional.mse_loss(model(x), y) * float("nan"), {}
        return torch.nn.functional.mse_loss(model(x), y), {}

    def evaluate(self, model, device):
        if os.environ.get("GENKIT_TINY_EVAL_FAILS"):  # lets a test see what a failed evaluation leaves
            raise GenkitError("tiny: the evaluation data is unreadable")
        return {"mse": float(torch.nn.functional.mse_loss(model(self.x[48:].to(device)), self.y[48:].to(device)))}

    def sample(self, model, seed):
        return f"prediction {float(model(self.x[:1])[0, 0]):.4f}\n"


class Tiny:
    def __init__(self, device, weights=None):
        self.device = device

    def generate(self, n, seed, options, format):
        for i in range(n):
            yield TextChunk(text=f"tiny {item_seed(seed, i)}\n", index=i, seed=item_seed(seed, i), done=True)

    @classmethod
    def training_task(cls, data, options, config):
        return Task(data, options, config)
