"""genkit lm on a tiny random-weight GPT-2, through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_transformers import CONTEXT, LM_COMMIT, LM_ID, models_fixture  # noqa: F401 (the models fixture)

from genkit import item_seed, testing

PROMPT = "the cat"
ARGS = [PROMPT, "--model", LM_ID, "--max-tokens", "12", "--precision", "fp32"]
HEAVY = ("torch", "transformers")


def one_line_error(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genkit: error: "), proc.stderr
    return lines[0]


def newlines(text: str) -> str:
    """Text as a text-mode pipe delivers it (a random model emits carriage returns too)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.fixture(scope="module")
def seeded(models, tmp_path_factory):
    """The conformance kit's run (seed 7, samples 0 and 1 of --n 2 and --n 3, bad options), its .txt files."""
    bad = [
        ["x", "--model", "nobody/nothing"],  # not on disk: one line naming genkit pull
        ["x", "--model", str(models["pickled"])],
        ["x", "--model", str(models["not_a_model"])],
        ["x", "--model", str(models["musicgen"])],  # a model, but not a causal LM
        ["x", "--model", LM_ID, "--top-p", "2"],
    ]
    folder = tmp_path_factory.mktemp("lm-seeded")
    return testing.check_all("lm", folder, args=ARGS, bad_options=bad, env=models["env"], heavy=HEAVY)


def test_lm_conforms_offline_and_records_the_model(models, seeded):
    record = testing.check_provenance(seeded[0], "lm", models["env"])
    model = record["model"]
    assert model["source"] == LM_ID and model["revision"] == LM_COMMIT
    blobs = {p.name for p in (models["cache"] / "models--tiny-org--tiny-gpt2" / "blobs").iterdir()}
    assert list(model["files"]) == ["model.safetensors"] and set(model["files"].values()) <= blobs
    assert model["class"] == "GPT2LMHeadModel" and model["dtype"] == "fp32"
    assert record["weights_sha256"] == model["files"]["model.safetensors"]
    assert record["item_seed"] == item_seed(7, 0)
    assert testing.network_attempts(models["env"]) == []


def test_the_text_is_transformers_own_for_the_seed_and_streams_the_same(models, seeded):
    """transformers' generate, seeded with sample 0's seed, writes the same text; stdout streams it too."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(models["lm"])
    model = AutoModelForCausalLM.from_pretrained(models["lm"], use_safetensors=True).eval()
    torch.manual_seed(item_seed(7, 0))
    ids = tokenizer(PROMPT, return_tensors="pt").input_ids
    out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0, max_new_tokens=12)
    own = tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True, clean_up_tokenization_spaces=False)
    assert Path(seeded[0]).read_bytes().decode() == own
    streamed = testing.run("lm", *ARGS, "--seed", "7", env=models["env"])
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout == newlines(own) + "\n"


@pytest.mark.slow
def test_chat_template_and_stop(models, tmp_path):
    out = tmp_path / "chat.txt"
    proc = testing.run("lm", "hi", "--model", str(models["lm"]), "--chat", "--max-tokens", "20", "--stop", "a",
                       "--temperature", "0", "-o", out, env=models["env"])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "a" not in out.read_bytes().decode()  # the sample ends where the stop text would begin
    record = testing.check_provenance(out, "lm", models["env"])
    assert "--chat" in record["command"] and record["model"]["revision"] is None


@pytest.mark.parametrize(
    "args, words",
    [
        (["cat " * CONTEXT, "--model", LM_ID], f"at most {CONTEXT}"),  # longer than the model reads
        (["x", "--model", "HOSTILE"], "parameters"),  # a config claiming far more than its weights hold
    ],
)
def test_refused_after_looking_at_the_model(models, tmp_path, args, words):
    args = [str(models["hostile"]) if a == "HOSTILE" else a for a in args]
    proc = testing.run("lm", *args, "--precision", "fp32", "-o", tmp_path / "x.txt", env=models["env"])
    assert words in one_line_error(proc)
    assert list(tmp_path.iterdir()) == []


def test_models_lists_the_cached_models_by_kind(models):
    for generator, wanted in (("lm", (LM_ID, "GPT2LMHeadModel")), ("audio", ("tiny-org/tiny-musicgen", None))):
        proc = testing.run("models", generator, "--json", env=models["env"])
        assert proc.returncode == 0, proc.stderr
        rows = json.loads(proc.stdout)["local_models"]
        assert [r["id"] for r in rows] == [wanted[0]], rows
        assert wanted[1] is None or rows[0]["class"] == wanted[1]
