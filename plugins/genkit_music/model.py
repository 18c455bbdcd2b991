"""A melody LSTM with meter and lookback inputs.

References:
- E. Waite et al., "Generating Long-Term Structure in Songs and Stories" (Magenta blog, 2016):
  the melody event encoding and the *lookback* inputs (the event one and two bars back), which make
  repeating a bar, the backbone of folk tunes, a cheap thing to learn.
- S. Hochreiter and J. Schmidhuber, "Long Short-Term Memory" (1997); torch.nn.LSTM.

Shapes: B batch, T sixteenth-note steps, E embedding width, H hidden width, V = data.VOCAB.
At step t the model sees the previous event (or START), the events one and two bars before step t,
and step t's meter and position in its bar; it predicts the event at step t.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from genkit_music import data


class MelodyLSTM(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        E, H = config["embed"], config["hidden"]
        tokens = data.VOCAB + 1  # + START
        self.lookbacks = tuple(config.get("lookbacks", (1, 2)))
        self.event = nn.Embedding(tokens, E)
        # Lookbacks get their own tables: "what was here a bar ago" is a different question.
        for k in self.lookbacks:
            setattr(self, f"back{k}", nn.Embedding(tokens, E))
        self.meter = nn.Embedding(len(data.METERS), 8)
        self.position = nn.Embedding(data.MAX_BAR_STEPS, 16)
        self.lstm = nn.LSTM(
            (1 + len(self.lookbacks)) * E + 8 + 16,
            H,
            num_layers=config["layers"],
            batch_first=True,
            dropout=config["dropout"] if config["layers"] > 1 else 0.0,
        )
        self.drop = nn.Dropout(config["dropout"])
        self.head = nn.Linear(H, data.VOCAB)

    def forward(self, prev, backs, meter, position, state=None):
        """prev, meter, position (B, T) and backs (B, T, K) int64 -> logits (B, T, V), LSTM state.

        backs[..., j] is the event ``self.lookbacks[j]`` bars before each step (K lookbacks).
        """
        h, state = self.lstm(self._inputs(prev, backs, meter, position), state)  # (B, T, H)
        return self.head(self.drop(h)), state

    def _inputs(self, prev, backs, meter, position):
        looked = [getattr(self, f"back{k}")(backs[..., j]) for j, k in enumerate(self.lookbacks)]
        return torch.cat(
            [self.event(prev), *looked, self.meter(meter), self.position(position)], dim=-1
        )  # (B, T, (1+K)E + 24)

    def _step(self, x, state):
        """One time step of self.lstm from its own weights: x (B, In) -> h (B, H), new state.

        The same equations as nn.LSTM (gates i, f, g, o; no dropout in eval), written out because
        a call of nn.LSTM on CPU costs about 0.8 ms per layer for a single step, several times
        the arithmetic; sampling makes one call per sixteenth.
        """
        hs, cs = state
        new_h, new_c = [], []
        for layer in range(self.lstm.num_layers):
            w_ih, w_hh = getattr(self.lstm, f"weight_ih_l{layer}"), getattr(self.lstm, f"weight_hh_l{layer}")
            bias = getattr(self.lstm, f"bias_ih_l{layer}") + getattr(self.lstm, f"bias_hh_l{layer}")
            gates = torch.addmm(bias, x, w_ih.t()) + hs[layer] @ w_hh.t()  # (B, 4H)
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * cs[layer] + torch.sigmoid(i) * torch.tanh(g)
            x = torch.sigmoid(o) * torch.tanh(c)
            new_h.append(x)
            new_c.append(c)
        return x, (new_h, new_c)

    @torch.no_grad()
    def generate(self, meters, steps: int, uniforms, primer=(), temperature: float = 1.0, on_step=None):
        """Sample B melodies of ``steps`` steps at once: (B,) meter indices -> (B, steps) events.

        uniforms: (B, steps) numbers in [0, 1), drawn by the caller from each item's own seed, so
        that item i's tune does not depend on which batch it shares. Sampling inverts the CDF.
        primer: events forced at the first steps (the model still reads them, to set its state).
        on_step: called after each step (a progress bar: a batch of tunes is made all at once).
        """
        dev = self.head.weight.device
        meters = torch.as_tensor(meters, dtype=torch.long, device=dev)
        B = meters.shape[0]
        rows = torch.arange(B, device=dev)
        bar = torch.tensor([data.bar_steps(data.METERS[int(m)]) for m in meters], device=dev)  # (B,)
        uniforms = torch.as_tensor(uniforms, dtype=torch.float32, device=dev)
        events = torch.full((B, steps), data.NO_EVENT, dtype=torch.long, device=dev)
        prev = torch.full((B,), data.START, dtype=torch.long, device=dev)
        sounding = torch.zeros(B, dtype=torch.bool, device=dev)
        start = torch.full((B,), data.START, dtype=torch.long, device=dev)
        H, L = self.lstm.hidden_size, self.lstm.num_layers
        state = ([torch.zeros(B, H, device=dev)] * L, [torch.zeros(B, H, device=dev)] * L)
        for t in range(steps):
            backs = torch.stack(
                [
                    torch.where(t - k * bar >= 0, events[rows, (t - k * bar).clamp(min=0)], start)
                    for k in self.lookbacks
                ],
                dim=-1,
            )  # (B, K)
            h, state = self._step(self._inputs(prev, backs, meters, t % bar), state)
            logits = self.head(h)  # (B, V)
            if t < len(primer):
                ev = torch.full((B,), int(primer[t]), dtype=torch.long, device=dev)
            else:
                # Dividing the gap to each row's best logit keeps a tiny temperature (1e-45 is a float32
                # denormal, 1e-50 is zero) finite: it tends to greedy choice instead of inf/NaN.
                logits = logits.float()
                logits = (logits - logits.max(-1, keepdim=True).values) / max(
                    temperature, torch.finfo(torch.float32).tiny
                )
                logits[:, data.NOTE_OFF] = logits[:, data.NOTE_OFF].masked_fill(~sounding, float("-inf"))
                cdf = torch.softmax(logits, dim=-1).cumsum(-1)
                ev = torch.searchsorted(cdf, (uniforms[:, t] * cdf[:, -1])[:, None]).squeeze(1)
                ev = ev.clamp(max=data.VOCAB - 1)
            events[:, t] = ev
            sounding = (ev >= data.FIRST_PITCH_TOKEN) | (sounding & (ev == data.NO_EVENT))
            prev = ev
            if on_step is not None:
                on_step()
        return events

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


DEFAULT_CONFIG = {"embed": 32, "hidden": 256, "layers": 2, "dropout": 0.3, "window": 256, "lookbacks": [1, 2, 4, 8]}
