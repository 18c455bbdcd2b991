"""`genkit train music` / `genkit eval music`: the task the shared loop drives (docs/plugins.md, 4).

Train on the train split, select on valid, report on test (the split rule of the data README).
Selection: at the end of every epoch (``end_epoch``) the task measures the validation NLL and keeps
a copy of the best epoch's weights, which are the ones evaluated and exported. That choice is part
of the task's state (``state_dict``), saved in every checkpoint, so a resumed run selects exactly
as an unbroken one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genkit.train import TrainingTask
from genkit_music import CLOSE_TRIES, chords, data, metrics
from genkit_music.model import CHORD_WIDTH, DEFAULT_CONFIG, MelodyLSTM

IGNORE = -100
EVAL_TUNES = 100
EVAL_MAX_BARS = 64


CHORDLESS_EVERY = 5  # one training window in five is shown without its chords, so a chord model also plays alone


def columns_of(tune: data.Tune, lookbacks) -> tuple[np.ndarray, ...]:
    """A tune's model inputs and target per step: prev, backs (lookbacks), meter, position, bars left,
    chords (float), target."""
    prev = np.concatenate([[data.START], tune.events[:-1]])
    extra = (data.bars_left(tune), tune.chord_columns())
    return (prev, data.lookbacks(tune, lookbacks), tune.meters, tune.positions, *extra, tune.events)


def tensors_of(tunes: list[data.Tune], window: int, lookbacks) -> list[torch.Tensor]:
    """Cut tunes into windows of ``window`` steps: the columns of ``columns_of``, the target last.

    The last window of a tune is padded; padded targets are IGNORE. A window that starts inside a
    tune gets the real previous event as its first input, not START.
    """
    cols: list[list[np.ndarray]] = [[] for _ in range(7)]
    for tune in tunes:
        parts = columns_of(tune, lookbacks)
        for s in range(0, len(tune.events), window):
            for k, arr in enumerate(parts):
                chunk = arr[s : s + window]
                if k == 5 and len(cols[5]) % CHORDLESS_EVERY == CHORDLESS_EVERY - 1:
                    chunk = np.zeros_like(chunk)
                pad = [(0, window - len(chunk))] + [(0, 0)] * (chunk.ndim - 1)
                cols[k].append(np.pad(chunk, pad, constant_values=IGNORE if k == 6 else 0))
    out = [torch.from_numpy(np.stack(c)) for c in cols]
    return [c.float() if k == 5 else c.long() for k, c in enumerate(out)]


def step_nll(model, tunes, device, window: int = 1024, chords: bool = True) -> list[np.ndarray]:
    """Per-step NLL (nats) of each tune under the LSTM, carrying the state across windows (without
    the tunes' chords when ``chords`` is false)."""
    out = []
    model.eval()
    for tune in tunes:
        columns = list(columns_of(tune, model.lookbacks))
        if not chords:
            columns[5] = np.zeros_like(columns[5])
        cols = [torch.from_numpy(np.asarray(a))[None].to(device) for a in columns]
        cols = [c.float() if k == 5 else c.long() for k, c in enumerate(cols)]
        state, nll = None, []
        for s in range(0, len(tune.events), window):
            logits, state = model(*(c[:, s : s + window] for c in cols[:6]), state=state)
            nll.append(F.cross_entropy(logits[0].float(), cols[6][0, s : s + window], reduction="none"))
        out.append(torch.cat(nll).cpu().numpy())
    return out


def generated_tunes(model, shapes: list[tuple[str, int]], device) -> tuple[list, list]:
    """(tunes as `genkit music` makes them, the same tunes' first draws): (events kept, meter) for each
    (meter, bars) in ``shapes``. As genkit music does, a last bar that does not close is redrawn up to
    CLOSE_TRIES times; the first draws show what the model does by itself."""
    g = torch.Generator().manual_seed(0)
    # One bar more than the tune's length, for a pickup; data.kept cuts what `genkit music` would.
    longest = max((b + 1) * data.bar_steps(m) for m, b in shapes)
    uniforms = torch.rand(len(shapes), longest, generator=g)
    lengths = torch.tensor([b for _, b in shapes], device=device)
    meters = [data.METERS.index(m) for m, _ in shapes]
    redraws = torch.rand(len(shapes), CLOSE_TRIES, max(data.bar_steps(m) for m, _ in shapes), generator=g)
    closing = (metrics.closes([m for m, _ in shapes], [b for _, b in shapes]), redraws)
    firsts = model.generate(meters, longest, uniforms, bars=lengths).cpu().numpy()
    events = model.generate(meters, longest, uniforms, bars=lengths, closing=closing).cpu().numpy()
    kept = [(data.kept(list(events[i]), m, b), m) for i, (m, b) in enumerate(shapes)]
    return kept, [(data.kept(list(firsts[i]), m, b), m) for i, (m, b) in enumerate(shapes)]


def nll_summary(nlls: list[np.ndarray], tunes: list[data.Tune]) -> tuple[float, float]:
    """(mean NLL per step, mean NLL over the steps whose event is a note-on), in nats."""
    allnll = np.concatenate(nlls)
    events = np.concatenate([t.events for t in tunes])
    return float(allnll.mean()), float(allnll[events >= data.FIRST_PITCH_TOKEN].mean())


class MusicTask(TrainingTask):
    def __init__(self, data_dir: Path, options: dict, config: dict | None):
        self.data_dir = Path(data_dir)
        self.splits = data.load_splits(self.data_dir)
        self.fallbacks = [s for s in ("valid", "test") if not self.splits[s]]
        for s in self.fallbacks:  # a tiny folder: measure on the training tunes, and say so
            self.splits[s] = self.splits["train"]
        if config:
            self.config = dict(config)
        else:
            self.config = dict(DEFAULT_CONFIG, meters=list(data.METERS), low=data.LOW, high=data.HIGH)
            if any(t.chords is not None for t in self.splits["train"]):  # the data has chord symbols: read them
                self.config["chords"] = CHORD_WIDTH
            for name in ("hidden", "layers"):
                if options.get(name) is not None:
                    self.config[name] = int(options[name])
        if list(self.config.get("meters", [])) != list(data.METERS) or self.config.get("low") != data.LOW:
            from genkit.errors import GenkitError

            raise GenkitError("these weights use a different event encoding than this version of genkit music")
        self.defaults = {
            "epochs": 16,
            "batch_size": 32,
            "lr": 2e-3,
            "schedule": "cosine",
            "warmup": 50,
            "grad_clip": 1.0,
        }
        self.best = None  # (valid NLL per step, epoch, state dict)
        self.valid_history: list[float] = []

    # ------------------------------------------------------------ training

    def build_model(self):
        return MelodyLSTM(self.config)

    def train_data(self):
        lookbacks = self.config.get("lookbacks", [1, 2])
        return torch.utils.data.TensorDataset(*tensors_of(self.splits["train"], self.config["window"], lookbacks))

    def loss(self, model, batch):
        prev, backs, meter, pos, left, chords, target = batch
        logits, _ = model(prev, backs, meter, pos, left, chords)  # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), target.reshape(-1), ignore_index=IGNORE)
        return loss, {}

    def end_epoch(self, model, epoch: int) -> dict:
        """Validation NLL of this epoch; keep a copy of the best epoch's weights."""
        device = model.head.weight.device
        nll, _ = nll_summary(step_nll(model, self.splits["valid"], device), self.splits["valid"])
        self.valid_history.append(nll)
        if self.best is None or nll < self.best[0]:
            self.best = (nll, epoch, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        return {"valid_nll_per_step": nll}

    def state_dict(self) -> dict:
        state = {"valid_history": self.valid_history}
        if self.best is not None:
            state.update(best_nll=self.best[0], best_epoch=self.best[1])
            state.update({f"best.{k}": v for k, v in self.best[2].items()})
        return state

    def load_state_dict(self, state: dict) -> None:
        self.valid_history = [float(v) for v in state.get("valid_history", [])]
        if "best_epoch" in state:
            weights = {k[5:]: v for k, v in state.items() if k.startswith("best.")}
            self.best = (float(state["best_nll"]), int(state["best_epoch"]), weights)

    def sample(self, model, seed: int) -> str:
        """An 8-bar melody as event text, headed by the epoch's validation NLL."""
        g = torch.Generator().manual_seed(seed)
        events = model.generate([0], 128, torch.rand(1, 128, generator=g))[0].tolist()
        names = {data.NO_EVENT: "-", data.NOTE_OFF: "off"}
        text = " ".join(names.get(e, str(data.LOW + e - data.FIRST_PITCH_TOKEN)) for e in events)
        epoch, nll = len(self.valid_history), self.valid_history[-1] if self.valid_history else float("nan")
        best = f"best {self.best[0]:.4f}, epoch {self.best[1]}" if self.best else "no best yet"
        return f"epoch {epoch}: valid NLL {nll:.4f} nats/step ({best})\n{text}\n"

    def _use_best(self, model):
        if self.best is not None:
            model.load_state_dict({k: v.to(model.head.weight.device) for k, v in self.best[2].items()})

    def export(self, model):
        self._use_best(model)
        return model.state_dict()

    def metadata(self) -> dict:
        keys = [t.key.name for t in self.splits["train"]]
        out = {
            "key_counts": {k: keys.count(k) for k in sorted(set(keys))},
            "selected_epoch": self.best[1] if self.best else None,
            "valid_history": [round(v, 5) for v in self.valid_history],
        }
        if self.config.get("chords"):
            out["chord_chain"] = chords.learn_chain(self.splits["train"])
        return out

    # ------------------------------------------------------------ evaluation

    def evaluate(self, model, device) -> dict:
        """Test NLL against an order-3 Markov chain, then Yang & Lerch statistics of 100 tunes each."""
        self._use_best(model)
        test, valid = self.splits["test"], self.splits["valid"]
        out = {}
        out["valid_nll_per_step"], _ = nll_summary(step_nll(model, valid, device), valid)
        lstm_step, lstm_note = nll_summary(step_nll(model, test, device), test)
        chain = metrics.MarkovChain([t.events for t in self.splits["train"]], order=3)
        markov_step, markov_note = nll_summary([chain.nll(t.events) for t in test], test)
        out.update(
            {
                "test_nll_per_step": lstm_step,
                "markov_nll_per_step": markov_step,
                "nll_per_step_reduction": 1 - lstm_step / markov_step,
                "test_nll_per_note_on": lstm_note,
                "markov_nll_per_note_on": markov_note,
                "nll_per_note_on_reduction": 1 - lstm_note / markov_note,
            }
        )
        # 100 tunes from each model, tune i taking the meter and length of test tune i (cycled).
        shapes = []
        for i in range(EVAL_TUNES):
            tune = test[i % len(test)]
            meter = data.METERS[int(tune.meters[0])]
            shapes.append((meter, min(tune.bars, EVAL_MAX_BARS)))
        real = metrics.feature_table(
            [
                (
                    t.events[: EVAL_MAX_BARS * data.bar_steps(data.METERS[int(t.meters[0])])],
                    data.METERS[int(t.meters[0])],
                )
                for t in test
            ]
        )
        lstm_tunes, first_tunes = generated_tunes(model, shapes, device)
        rng = np.random.default_rng(0)
        markov_tunes = [(chain.sample(b * data.bar_steps(m), rng), m) for m, b in shapes]
        out.update(metrics.statistics(real, metrics.feature_table(lstm_tunes), "lstm"))
        out.update(metrics.statistics(real, metrics.feature_table(markov_tunes), "markov"))
        whole_tests = [(t.events, data.METERS[int(t.meters[0])]) for t in test]
        named = (
            ("test", whole_tests),
            ("lstm", lstm_tunes),
            ("lstm_first_draw", first_tunes),
            ("markov", markov_tunes),
        )
        for name, tunes in named:
            out.update({f"{name}_end_{k}": v for k, v in metrics.endings(tunes).items()})
        for f in ("pitch_range", "in_scale", "bar_repetition"):
            out[f"test_{f}_mean"] = float(real[f].mean())
        if model.chord_width and any(t.chords is not None for t in test):
            out.update(self.chord_metrics(model, test, device))
        if self.fallbacks:
            out["measured_on_train_instead_of"] = ",".join(self.fallbacks)
        self.last_metrics = out
        return out

    def chord_metrics(self, model, test, device) -> dict:
        """What the chords buy a chord model: test NLL without them, chord tones on strong beats in 100
        melodies drawn over the test tunes' chords (and without them), and the chain's chord changes."""
        chorded = [t for t in test if t.chords is not None]
        without, _ = nll_summary(step_nll(model, chorded, device, chords=False), chorded)
        given, _ = nll_summary(step_nll(model, chorded, device), chorded)
        picks = [chorded[i % len(chorded)] for i in range(EVAL_TUNES)]
        meter_of = [data.METERS[int(t.meters[0])] for t in picks]
        bars = [min(t.bars, EVAL_MAX_BARS) for t in picks]
        longest = max((b + 1) * data.bar_steps(m) for m, b in zip(meter_of, bars))
        under = np.zeros((EVAL_TUNES, longest, data.CHORD_FEATURES), dtype=np.float32)
        for i, t in enumerate(picks):
            under[i, : min(longest, len(t.chords))] = t.chords[:longest]
        g = torch.Generator().manual_seed(1)
        uniforms = torch.rand(EVAL_TUNES, longest, generator=g)
        meters, lengths = [data.METERS.index(m) for m in meter_of], torch.tensor(bars, device=device)
        over = model.generate(meters, longest, uniforms, bars=lengths, chords=torch.from_numpy(under)).cpu().numpy()
        alone = model.generate(meters, longest, uniforms, bars=lengths).cpu().numpy()
        real = [(t.events, data.METERS[int(t.meters[0])], t.chords) for t in chorded]
        progressions = [chords.bar_chords(t) for t in chorded]
        chain = chords.Chain(chords.learn_chain(self.splits["train"]), "the training tunes")
        drawn = [chain.sample(len(p), g) for p in progressions if p]
        data_changes, drawn_changes = metrics.change_distribution(progressions), metrics.change_distribution(drawn)
        return {
            "chords_test_nll_per_step": given,
            "chords_test_nll_per_step_without_chords": without,
            "chords_nll_reduction": 1 - given / without,
            "test_chord_tone_share": metrics.chord_tone_share(real),
            "lstm_chord_tone_share": metrics.chord_tone_share(
                [(e, m, under[i]) for i, (e, m) in enumerate(zip(over, meter_of))]
            ),
            "lstm_without_chords_chord_tone_share": metrics.chord_tone_share(
                [(e, m, under[i]) for i, (e, m) in enumerate(zip(alone, meter_of))]
            ),
            "chain_change_tv_distance": metrics.total_variation(data_changes, drawn_changes),
            "test_chord_change_share": sum(data_changes.values()) / max(sum(len(p) - 1 for p in progressions), 1),
            "chain_chord_change_share": sum(drawn_changes.values()) / max(sum(len(p) - 1 for p in drawn), 1),
        }

    def card_notes(self) -> str:
        m = getattr(self, "last_metrics", None)
        lines = [
            "## Data, split and selection",
            "",
            f"Train/valid/test: {len(self.splits['train'])}/{len(self.splits['valid'])}/{len(self.splits['test'])} tunes "
            "(split by the data README's sha256 bucket rule). Every tune is transposed so its key's tonic is C.",
            f"Selected epoch by validation NLL: {self.best[1] if self.best else 'n/a'}; "
            f"validation NLL per epoch: {', '.join(f'{v:.4f}' for v in self.valid_history)}.",
            "",
        ]
        if m:
            lines += [
                "## Test NLL (nats) against the order-3 Markov chain",
                "",
                "| | LSTM | Markov-3 | reduction |",
                "| --- | ---: | ---: | ---: |",
                f"| per step | {m['test_nll_per_step']:.4f} | {m['markov_nll_per_step']:.4f} | {m['nll_per_step_reduction']:.1%} |",
                f"| per note-on step | {m['test_nll_per_note_on']:.4f} | {m['markov_nll_per_note_on']:.4f} | {m['nll_per_note_on_reduction']:.1%} |",
                "",
                "## 100 generated tunes against the test tunes (Yang & Lerch: OA higher, KL lower is better)",
                "",
                "| feature | LSTM OA | LSTM KL | Markov OA | Markov KL |",
                "| --- | ---: | ---: | ---: | ---: |",
            ]
            for f in metrics.FEATURES:
                lines.append(
                    f"| {f} | {m[f'lstm_{f}_oa']:.3f} | {m[f'lstm_{f}_kl']:.3f} | {m[f'markov_{f}_oa']:.3f} | {m[f'markov_{f}_kl']:.3f} |"
                )
            lines += ["", "| mean per tune | test | LSTM | Markov |", "| --- | ---: | ---: | ---: |"]
            for f in ("pitch_range", "in_scale", "bar_repetition"):
                lines.append(
                    f"| {f} | {m[f'test_{f}_mean']:.3f} | {m[f'lstm_{f}_mean']:.3f} | {m[f'markov_{f}_mean']:.3f} |"
                )
            lines += [
                "",
                "## How tunes end (the last note; a cadence is on the tonic and lasts a beat or more)",
                "",
                f"| | test | LSTM (last bar redrawn up to {CLOSE_TRIES} times) | LSTM, first draw | Markov |",
                "| --- | ---: | ---: | ---: | ---: |",
            ]
            for k in ("on_tonic", "cadence", "final_steps"):
                row = [m.get(f"{name}_end_{k}") for name in ("test", "lstm", "lstm_first_draw", "markov")]
                if None not in row:
                    lines.append(f"| {k} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
        return "\n".join(lines)


def make_task(data_dir: Path, options: dict, config: dict | None) -> MusicTask:
    return MusicTask(data_dir, options, config)
