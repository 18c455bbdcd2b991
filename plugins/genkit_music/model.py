"""A melody LSTM with meter and lookback inputs.

References:
- E. Waite et al., "Generating Long-Term Structure in Songs and Stories" (Magenta blog, 2016):
  the melody event encoding and the *lookback* inputs (the event one and two bars back), which make
  repeating a bar, the backbone of folk tunes, a cheap thing to learn.
- S. Hochreiter and J. Schmidhuber, "Long Short-Term Memory" (1997); torch.nn.LSTM.

Shapes: B batch, T sixteenth-note steps, E embedding width, H hidden width, V = data.VOCAB.
At step t the model sees the previous event (or START), the events one and two bars before step t,
and step t's meter and position in its bar; it predicts the event at step t. A model whose config
has ``countdown: C > 0`` also reads how many whole bars follow step t's bar before the tune ends
(capped at C), so it learns how tunes end; the first weights have no such input (C = 0).
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
        # Bars left after this one, 0..C ("C or more"): the generator knows --bars, so it can feed it.
        self.countdown_cap = int(config.get("countdown", 0))
        if self.countdown_cap:
            self.countdown = nn.Embedding(self.countdown_cap + 1, COUNTDOWN_WIDTH)
        # The chord sounding at step t (data.CHORD_FEATURES: pitch classes and root; zero: none).
        self.chord_width = int(config.get("chords", 0))
        if self.chord_width:
            self.chord = nn.Linear(data.CHORD_FEATURES, self.chord_width)
        self.lstm = nn.LSTM(
            (1 + len(self.lookbacks)) * E + 8 + 16 + (COUNTDOWN_WIDTH if self.countdown_cap else 0) + self.chord_width,
            H,
            num_layers=config["layers"],
            batch_first=True,
            dropout=config["dropout"] if config["layers"] > 1 else 0.0,
        )
        self.drop = nn.Dropout(config["dropout"])
        self.head = nn.Linear(H, data.VOCAB)

    def forward(self, prev, backs, meter, position, left=None, chords=None, state=None):
        """prev, meter, position, left (B, T) and backs (B, T, K) int64 -> logits (B, T, V), LSTM state.

        backs[..., j] is the event ``self.lookbacks[j]`` bars before each step (K lookbacks); left is
        the number of whole bars after each step's bar (data.bars_left), read only by a countdown model;
        chords (B, T, data.CHORD_FEATURES) float, read only by a chord model.
        """
        h, state = self.lstm(self._inputs(prev, backs, meter, position, left, chords), state)  # (B, T, H)
        return self.head(self.drop(h)), state

    def _inputs(self, prev, backs, meter, position, left=None, chords=None):
        looked = [getattr(self, f"back{k}")(backs[..., j]) for j, k in enumerate(self.lookbacks)]
        parts = [self.event(prev), *looked, self.meter(meter), self.position(position)]
        if self.countdown_cap:
            parts.append(self.countdown(left.clamp(0, self.countdown_cap)))
        if self.chord_width:
            if chords is None:
                chords = torch.zeros(*prev.shape, data.CHORD_FEATURES, device=prev.device)
            parts.append(self.chord(chords.to(self.chord.weight.dtype)))
        return torch.cat(parts, dim=-1)  # (B, T, (1+K)E + 24 [+ COUNTDOWN_WIDTH] [+ chord width])

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
    def generate(
        self,
        meters,
        steps: int,
        uniforms,
        primer=(),
        temperature: float = 1.0,
        on_step=None,
        bars: int | torch.Tensor | None = None,
        closing=None,
        chords=None,
    ):
        """Sample B melodies of ``steps`` steps at once: (B,) meter indices -> (B, steps) events.

        uniforms: (B, steps) numbers in [0, 1), drawn by the caller from each item's own seed, so
        that item i's tune does not depend on which batch it shares. Sampling inverts the CDF.
        primer: events forced at the first steps (the model still reads them, to set its state).
        on_step: called after each step (a progress bar: a batch of tunes is made all at once).
        bars: the whole bars data.decode will keep after a pickup, one count or (B,) counts; a countdown
        model is told how many are left (a tune whose first step is not a note-on has a pickup bar, so
        one bar more).
        closing: (accept, close_uniforms) to redraw the last bar (needs ``bars``): accept maps the (B, steps)
        events to a (B,) bool tensor, true where a tune ends as wanted; close_uniforms is (B, R, max bar),
        so an item whose last bar is refused draws it again from the model, up to R times (its last draw
        stands). Constrained sampling, not an edit: every kept bar is one the model drew.
        chords: (B, steps, data.CHORD_FEATURES), the chord under each step, for a chord model; or a pair
        of them, for tunes that open with a pickup and for those that do not (step 0 decides).
        """
        dev = self.head.weight.device
        meters = torch.as_tensor(meters, dtype=torch.long, device=dev)
        B = meters.shape[0]
        chords, choices = self._chord_inputs(chords, B, steps, dev)
        bar = torch.tensor([data.bar_steps(data.METERS[int(m)]) for m in meters], device=dev)  # (B,)
        uniforms = torch.as_tensor(uniforms, dtype=torch.float32, device=dev)
        events, prev, sounding, state = self._start(B, steps, dev)
        snapshot = None
        for t in range(steps):
            if t == 1 and choices is not None:
                chords = torch.where((events[:, 0] < data.FIRST_PITCH_TOKEN)[:, None, None], *choices)
            if closing is not None and t == 0:
                snapshot = _Snapshot.empty(state, prev, sounding)
            elif snapshot is not None:
                if t == 1:  # the last bar's place is known once step 0 says whether there is a pickup
                    last = self._last_bar_start(events, bar, bars)
                snapshot.take(last == t, state, prev, sounding)
            left = self._bars_left(events, t, bar, bars, primer) if self.countdown_cap else None
            at = torch.full((B,), t, dtype=torch.long, device=dev)
            forced = int(primer[t]) if t < len(primer) else None
            ev, state = self._draw(
                events, at, bar, meters, prev, sounding, state, left, uniforms[:, t], temperature, forced, chords
            )
            events[:, t] = ev
            sounding = (ev >= data.FIRST_PITCH_TOKEN) | (sounding & (ev == data.NO_EVENT))
            prev = ev
            if on_step is not None:
                on_step()
        if snapshot is not None:
            self._redraw_last_bars(events, bar, meters, last, snapshot, closing, temperature, chords)
        return events

    def _start(self, B: int, steps: int, dev):
        """Before step 0: no events yet, START as the previous event, nothing sounding, a zero LSTM state."""
        events = torch.full((B, steps), data.NO_EVENT, dtype=torch.long, device=dev)
        prev = torch.full((B,), data.START, dtype=torch.long, device=dev)
        sounding = torch.zeros(B, dtype=torch.bool, device=dev)
        H, L = self.lstm.hidden_size, self.lstm.num_layers
        return events, prev, sounding, ([torch.zeros(B, H, device=dev)] * L, [torch.zeros(B, H, device=dev)] * L)

    def _chord_inputs(self, chords, B: int, steps: int, dev):
        """(the chords to read, None or the pair to choose from after step 0) for a chord model; (None, None) else."""
        if not self.chord_width:
            return None, None
        if isinstance(chords, tuple):  # (with a pickup, without): chosen per row once step 0 says which
            choices = [torch.as_tensor(c, dtype=torch.float32, device=dev) for c in chords]
            return choices[0], choices
        chords = torch.zeros(B, steps, data.CHORD_FEATURES) if chords is None else chords
        return torch.as_tensor(chords, dtype=torch.float32, device=dev), None

    def _draw(
        self, events, at, bar, meters, prev, sounding, state, left, uniform, temperature, forced=None, chords=None
    ):
        """One step for every row at its own step ``at`` (B,): the event drawn (or forced) and the new state."""
        rows = torch.arange(events.shape[0], device=events.device)
        chord = None if chords is None else chords[rows, at.clamp(max=chords.shape[1] - 1)]
        start = torch.full_like(prev, data.START)
        backs = torch.stack(
            [torch.where(at - k * bar >= 0, events[rows, (at - k * bar).clamp(min=0)], start) for k in self.lookbacks],
            dim=-1,
        )  # (B, K)
        h, state = self._step(self._inputs(prev, backs, meters, at % bar, left, chord), state)
        if forced is not None:
            return torch.full_like(prev, forced), state
        # Dividing the gap to each row's best logit keeps a tiny temperature (1e-45 is a float32
        # denormal, 1e-50 is zero) finite: it tends to greedy choice instead of inf/NaN.
        logits = self.head(h).float()
        logits = (logits - logits.max(-1, keepdim=True).values) / max(temperature, torch.finfo(torch.float32).tiny)
        logits[:, data.NOTE_OFF] = logits[:, data.NOTE_OFF].masked_fill(~sounding, float("-inf"))
        cdf = torch.softmax(logits, dim=-1).cumsum(-1)
        ev = torch.searchsorted(cdf, (uniform * cdf[:, -1])[:, None]).squeeze(1)
        return ev.clamp(max=data.VOCAB - 1), state

    @staticmethod
    def _last_bar_start(events, bar, bars):
        """(B,) the first step of the last bar data.decode keeps: bar ``bars`` after a pickup, else ``bars - 1``."""
        pickup = (events[:, 0] < data.FIRST_PITCH_TOKEN).long()
        return (torch.as_tensor(bars, device=events.device) + pickup - 1) * bar

    def _redraw_last_bars(self, events, bar, meters, last, snapshot, closing, temperature, chords=None):
        """Redraw, from the state the model had at its start, the last bar of every tune ``accept`` refuses.

        Each attempt runs only the refused rows, so a try costs one bar of the tunes still open."""
        accept, close_uniforms = closing
        close_uniforms = torch.as_tensor(close_uniforms, dtype=torch.float32, device=events.device)
        # A one-bar tune without a pickup is not redrawn: a redraw could open on a rest and move the bar.
        inside = (last > 0) & (last + bar <= events.shape[1])
        for attempt in range(close_uniforms.shape[1]):
            rows = (inside & ~torch.as_tensor(accept(events), device=events.device)).nonzero().squeeze(1)
            if not len(rows):
                return
            events[rows] = self._redraw_bar(
                events[rows], bar[rows], meters[rows], last[rows], snapshot.restore(rows),
                close_uniforms[rows, attempt], temperature, None if chords is None else chords[rows],
            )  # fmt: skip

    def _redraw_bar(self, events, bar, meters, last, saved, uniforms, temperature, chords=None):
        """These rows' events with the bar at ``last`` drawn again from ``saved`` (state, prev, sounding)."""
        state, prev, sounding = saved
        left = torch.zeros_like(last)  # the last bar: no whole bar follows it
        rows = torch.arange(len(last), device=events.device)
        for r in range(int(bar.max())):
            at = (last + r).clamp(max=events.shape[1] - 1)
            ev, state = self._draw(
                events, at, bar, meters, prev, sounding, state, left, uniforms[:, r], temperature, None, chords
            )
            ev = torch.where(r < bar, ev, events[rows, at])  # a row with a shorter bar keeps what follows it
            events[rows, at] = ev
            sounding = (ev >= data.FIRST_PITCH_TOKEN) | (sounding & (ev == data.NO_EVENT))
            prev = ev
        return events

    def _bars_left(self, events, t: int, bar, bars: int | torch.Tensor | None, primer):
        """(B,) whole bars after step t's bar until the end data.decode will cut at; the cap when unknown.

        The end depends on the pickup, known once step 0 is drawn: at step 0 a pickup is assumed
        (most tunes open with one) unless the primer's first event is a note."""
        if bars is None:
            return torch.full_like(bar, self.countdown_cap)
        if t == 0:
            pickup = torch.full_like(bar, 0 if primer and primer[0] >= data.FIRST_PITCH_TOKEN else 1)
        else:
            pickup = (events[:, 0] < data.FIRST_PITCH_TOKEN).long()
        return bars + pickup - 1 - t // bar

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class _Snapshot:
    """Per row, the LSTM state, previous event and sounding flag at the start of its last bar."""

    def __init__(self, h, c, prev, sounding):
        self.h, self.c, self.prev, self.sounding = h, c, prev, sounding

    @classmethod
    def empty(cls, state, prev, sounding):
        return cls([x.clone() for x in state[0]], [x.clone() for x in state[1]], prev.clone(), sounding.clone())

    def take(self, rows, state, prev, sounding):
        for saved, now in zip(self.h + self.c, state[0] + state[1]):
            saved[rows] = now[rows]
        self.prev[rows], self.sounding[rows] = prev[rows], sounding[rows]

    def restore(self, rows):
        """(state, prev, sounding) of these rows, as copies."""
        return ([x[rows] for x in self.h], [x[rows] for x in self.c]), self.prev[rows], self.sounding[rows]


COUNTDOWN_WIDTH = 8
DEFAULT_CONFIG = {
    "embed": 32,
    "hidden": 256,
    "layers": 2,
    "dropout": 0.3,
    "window": 256,
    "lookbacks": [1, 2, 4, 8],
    "countdown": 16,
}
CHORD_WIDTH = 16  # a model trained on data with chord symbols reads them (config "chords")
