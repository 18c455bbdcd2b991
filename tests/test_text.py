"""`genkit text`: streaming, seeds, files, stop strings, stdin, the cache, training, bad input.

Most tests use a tiny model trained in a few steps by the real `genkit train text` on a small
corpus made here; the shipped Tiny Shakespeare weights get their own quality checks.
"""

from __future__ import annotations

import json
import math
import re
import shlex

import pytest
from conftest import DATA, REPO, assert_user_error, needs_data, run_genkit

SHIPPED = REPO / "plugins" / "genkit_text" / "weights" / "text-shakespeare.safetensors"
SHAKESPEARE = "text/tinyshakespeare.txt"
LINES = [
    "the quick brown fox jumps over the lazy dog.",
    "ROMEO: what light through yonder window breaks?",
    "JULIET: a rose by any other name would smell as sweet!",
    "all the world's a stage, and all the men and women merely players;",
]


# A 1-layer model with a 16-character context: trains in a second.
TINY_MODEL = ("--layers", "1", "--width", "16", "--heads", "2", "--block-size", "16")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(corpus path, weights path) of a 1-layer model with a 16-character context."""
    folder = tmp_path_factory.mktemp("text")
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(LINES * 12) + "\n", encoding="utf-8")
    run_genkit(
        "train",
        "text",
        "--data",
        corpus,
        *TINY_MODEL,
        "--max-steps",
        "3",
        "--batch-size",
        "8",
        "--out",
        folder / "run",
        "--quiet",
        check=0,
    )
    return corpus, folder / "run" / "text.safetensors"


def sample(weights, *args, input=None):
    proc = run_genkit("text", *args, "--weights", weights, input=input, check=0)
    assert proc.stdout.endswith("\n")
    return proc.stdout[:-1]  # the core ends the stream with one newline


# ---------------------------------------------------------------- generating


@pytest.fixture(scope="module")
def reference(tiny):
    """One streamed sample every test compares against: prompt ROMEO:, 60 characters, seed 7."""
    return sample(tiny[1], "ROMEO:", "--max-tokens", "60", "--seed", "7")


def test_streams_reproducible_samples_each_with_its_own_seed(tiny, reference):
    two = sample(tiny[1], "ROMEO:", "--max-tokens", "60", "--seed", "7", "--n", "2")
    parts = re.split(r"(?:^|\n\n)--- sample (\d) of 2: (.*) ---\n", two)  # '', 1, cmd1, text1, 2, cmd2, text2
    assert parts[0] == "" and parts[1::3] == ["1", "2"], two
    first, second = parts[3], parts[6]
    assert len(reference) == 60
    assert first == reference  # same seed, same text, and sample 1 does not depend on --n
    assert len(second) == 60 and second != reference
    # The header names a command that reproduces what it labels: sample 2 is that command's last sample.
    again = run_genkit(*shlex.split(parts[5])[1:], check=0).stdout
    assert again.endswith(second + "\n"), (parts[5], again)


def test_writes_files_with_provenance(tiny, tmp_path):
    _, weights = tiny
    proc = run_genkit(
        "text",
        "ROMEO:",
        "--weights",
        weights,
        "--max-tokens",
        "25",
        "--n",
        "2",
        "--seed",
        "1",
        "--top-k",
        "5",
        "--top-p",
        "0.9",
        "-o",
        tmp_path / "out.txt",
        check=0,
    )
    assert proc.stdout == ""
    texts = [(tmp_path / f"out-00{i}.txt").read_text(encoding="utf-8") for i in range(2)]
    assert all(len(t) == 25 for t in texts) and texts[0] != texts[1]
    meta = json.loads((tmp_path / "out-001.txt.genkit.json").read_text())
    assert meta["generator"] == "text" and meta["index"] == 1
    assert meta["options"]["prompt"] == "ROMEO:" and meta["options"]["top_k"] == 5


def test_stop_string_ends_the_sample_before_it(tiny, reference):
    stop = reference[20:22]
    cut = sample(tiny[1], "ROMEO:", "--max-tokens", "60", "--seed", "7", "--stop", stop)
    assert cut == reference[: reference.index(stop)]


def test_stop_filter_holds_back_a_partial_stop_and_reads_escapes():
    from genkit_text.generator import StopFilter, unescape

    def stream(text, stop):
        f = StopFilter(unescape(stop))
        shown = []
        for ch in text:
            shown.append(f.feed(ch))
            if f.stopped:
                break
        return shown + [f.flush()]

    shown = stream("ab\ncd\n\nef", r"\n\n")  # typed as backslash-n on a command line
    assert "".join(shown) == "ab\ncd" and "\n" not in shown[2]  # the lone newline waited to be cleared
    assert "".join(stream("ab\ncd", r"\n\n")) == "ab\ncd"  # held back, then released at the end


def test_prompt_from_stdin_and_echo_and_sliding_context(tiny):
    _, weights = tiny
    # Longer than the model's 16-character context, and so is the output: both slide.
    prompt = LINES[1] + "\n" + LINES[2]
    out = sample(weights, "-", "--max-tokens", "40", "--seed", "2", "--echo", input=prompt)
    assert out.startswith(prompt) and len(out) == len(prompt) + 40


def test_empty_prompt_starts_from_a_newline(tiny):
    import torch

    from genkit_text.generator import TextGenerator

    _, weights = tiny
    out = sample(weights, "--max-tokens", "15", "--seed", "4")
    gen = TextGenerator(torch.device("cpu"), weights)
    from_newline = gen.generate(1, 4, {"prompt": "\n", "max_tokens": 15, "temperature": 0.8}, "txt")
    assert len(out) == 15 and out == "".join(c.text for c in from_newline)


def test_chunks_arrive_one_by_one_and_end_with_done(tiny):
    import torch

    from genkit_text.generator import TextGenerator

    _, weights = tiny
    gen = TextGenerator(torch.device("cpu"), weights)
    chunks = list(gen.generate(2, 9, {"prompt": "the", "max_tokens": 12, "temperature": 1.0}, "txt"))
    for i in range(2):
        mine = [c for c in chunks if c.index == i]
        assert len(mine) >= 12 and len("".join(c.text for c in mine)) == 12
        assert [c.done for c in mine] == [False] * (len(mine) - 1) + [True]
    assert [c.index for c in chunks] == sorted(c.index for c in chunks)  # sample 1 ends before sample 2


# ---------------------------------------------------------------- the cache


def test_cached_and_uncached_sampling_give_the_same_tokens():
    import torch

    from genkit_text.model import GPT, GPTConfig

    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=11, block_size=48, n_layer=2, n_head=2, n_embd=16)).eval()
    for seed, kwargs in [(0, {}), (1, {"temperature": 0.7, "top_k": 4}), (2, {"top_p": 0.8})]:
        runs = [
            list(model.sample([1, 2, 3], 45, torch.Generator().manual_seed(seed), use_cache=cache, **kwargs))
            for cache in (True, False)
        ]
        assert runs[0] == runs[1]  # 3 + 45 = 48 positions: the whole context fits
        assert len(set(runs[0])) > 1


def test_cache_step_matches_a_full_forward():
    import torch

    from genkit_text.model import GPT, Decoder, GPTConfig, KVCache

    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=7, block_size=12, n_layer=2, n_head=2, n_embd=8)).eval()
    ids = torch.randint(0, 7, (1, 12))
    with torch.no_grad():
        full = model(ids)
        cache = KVCache(model.config, 1, "cpu")
        parts = [model(ids[:, :5], cache), model(ids[:, 5:6], cache), model(ids[:, 6:9], cache)]
        decoder = Decoder(model)  # the sampler's one-position steps
        parts += [decoder.step(int(t), cache)[None, None] for t in ids[0, 9:]]
    assert cache.length == 12
    assert torch.allclose(torch.cat(parts, dim=1), full, atol=1e-5)


def test_dropout_acts_on_the_attention_weights_only_while_training(monkeypatch):
    """Dropout changes training outputs and reaches the attention as dropout_p; evaluation is exact."""
    import torch
    import torch.nn.functional as F

    from genkit_text.model import GPT, GPTConfig

    calls, sdpa = [], F.scaled_dot_product_attention
    monkeypatch.setattr(
        F, "scaled_dot_product_attention", lambda *a, **kw: calls.append(kw.get("dropout_p", 0.0)) or sdpa(*a, **kw)
    )
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=7, block_size=12, n_layer=2, n_head=2, n_embd=8, dropout=0.5, dropout_at="weights")
    model = GPT(config)
    ids = torch.randint(0, 7, (2, 12))
    assert not torch.allclose(model.train()(ids), model(ids))  # dropout acts while training
    assert calls == [0.5] * 4  # two training passes of two layers, each dropping attention weights
    assert torch.equal(model.eval()(ids), model(ids))  # and not when evaluating
    assert calls[4:] == [0.0] * 4


def test_dropout_on_the_attention_output_keeps_the_fused_kernel(monkeypatch):
    """The default placement never hands SDPA a dropout_p (its fused path), yet drops the attention's output."""
    import torch
    import torch.nn.functional as F

    from genkit_text.model import GPT, GPTConfig

    calls, sdpa = [], F.scaled_dot_product_attention
    monkeypatch.setattr(
        F, "scaled_dot_product_attention", lambda *a, **kw: calls.append(kw.get("dropout_p", 0.0)) or sdpa(*a, **kw)
    )
    config = GPTConfig(vocab_size=7, block_size=12, n_layer=2, n_head=2, n_embd=8, dropout=0.5)
    assert config.dropout_at == "output"
    model = GPT(config)
    for block in model.blocks:  # only the attention may drop, so a changed output is the attention's doing
        block.mlp.dropout.p = 0.0
    model.drop.p = 0.0
    ids = torch.randint(0, 7, (2, 12))
    assert not torch.allclose(model.train()(ids), model(ids))
    assert calls == [0.0] * 4
    assert torch.equal(model.eval()(ids), model(ids))


# ---------------------------------------------------------------- training and evaluation


def test_eval_reports_nats_and_bits_on_the_validation_split(tiny):
    corpus, weights = tiny
    from safetensors import safe_open

    proc = run_genkit("eval", "text", "--data", corpus, "--weights", weights, "--json", check=0)
    metrics = json.loads(proc.stdout)
    text = corpus.read_text(encoding="utf-8")
    validation = text[int(0.9 * len(text)) :]
    assert metrics["val_characters_scored"] == len(validation) - 1  # every character after the first
    assert 0 < metrics["val_loss_nats_per_char"] < 2 * math.log(len(set(text)))
    assert metrics["val_bits_per_char"] == pytest.approx(metrics["val_loss_nats_per_char"] / math.log(2))
    with safe_open(str(weights), "pt") as fh:
        assert json.loads(fh.metadata()["vocab"]) == "".join(sorted(set(text)))


def test_eval_names_characters_the_vocabulary_lacks(tiny, tmp_path):
    _, weights = tiny
    other = tmp_path / "other.txt"
    other.write_text("the fox ü\n" * 50, encoding="utf-8")
    assert_user_error(run_genkit("eval", "text", "--data", other, "--weights", weights), "U+00FC")


def test_new_models_train_with_the_shipped_dropout_unless_told(tiny, tmp_path):
    """Default --dropout is the shipped recipe's 0.1, on the attention output; an explicit 0 means none."""
    from safetensors import safe_open

    corpus, weights = tiny
    run_genkit(
        "train",
        "text",
        "--data",
        corpus,
        *TINY_MODEL,
        "--max-steps",
        "1",
        "--batch-size",
        "8",
        "--dropout",
        "0",
        "--dropout-at",
        "weights",
        "--out",
        tmp_path / "run",
        "--quiet",
        "--no-eval",
        check=0,
    )
    configs = []
    for path in (weights, tmp_path / "run" / "text.safetensors"):
        with safe_open(str(path), "pt") as fh:
            configs.append(json.loads(fh.metadata()["config"]))
    assert [c["dropout"] for c in configs] == [0.1, 0.0]
    assert [c["dropout_at"] for c in configs] == ["output", "weights"]  # the fast placement unless told


# ---------------------------------------------------------------- bad input


def test_prompt_characters_outside_the_vocabulary(tiny):
    _, weights = tiny
    assert_user_error(run_genkit("text", "naïve ~", "--weights", weights), "vocabulary", "'ï'", "'~'")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--max-tokens", "0"], "--max-tokens"),
        (["--max-tokens", "-5"], "--max-tokens"),
        (["--max-tokens", "1000000"], "10000"),
        (["--top-p", "0"], "--top-p"),
        (["--top-p", "1.5"], "--top-p"),
        (["--temperature", "0"], "--temperature"),
        (["--temperature", "-1"], "--temperature"),
    ],
)
def test_out_of_range_options(tiny, args, fragment):
    _, weights = tiny
    assert_user_error(run_genkit("text", "the", "--weights", weights, *args), fragment)


def test_invalid_utf8_on_stdin(tiny):
    import subprocess
    import sys

    _, weights = tiny
    proc = subprocess.run(
        [sys.executable, "-m", "genkit", "text", "-", "--weights", str(weights)],
        input=b"ROMEO \xff\xfe:",
        capture_output=True,
    )
    proc.stdout, proc.stderr = proc.stdout.decode(), proc.stderr.decode()
    assert_user_error(proc, "UTF-8")


@pytest.mark.parametrize(
    "content, fragment",
    [(b"", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"), (b"caf\xe9 latin-1", "UTF-8")],
)
def test_training_file_empty_or_binary(tmp_path, content, fragment):
    data = tmp_path / "corpus.txt"
    data.write_bytes(content)
    assert_user_error(run_genkit("train", "text", "--data", data, "--out", tmp_path / "run"), fragment)
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- the shipped weights


@pytest.mark.skipif(not SHIPPED.exists(), reason="shipped text weights not trained yet")
def test_shipped_weights_write_shakespeare_like_text():
    out = run_genkit("text", "ROMEO:", "--max-tokens", "300", "--seed", "0", check=0).stdout
    words = out.lower().split()
    common = {"the", "and", "i", "to", "of", "a", "my", "you", "that", "in", "is", "not", "me", "it", "with", "be"}
    assert len(words) > 30 and sum(w.strip(".,;:!?'") in common for w in words) / len(words) > 0.15


@pytest.mark.skipif(not SHIPPED.exists(), reason="shipped text weights not trained yet")
@needs_data(SHAKESPEARE)
def test_shipped_weights_reach_the_validation_target():
    proc = run_genkit("eval", "text", "--data", DATA / SHAKESPEARE, "--json", check=0)
    assert json.loads(proc.stdout)["val_loss_nats_per_char"] <= 1.70
