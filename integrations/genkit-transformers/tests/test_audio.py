"""genkit audio on a tiny random-weight MusicGen, through the real command line."""

from __future__ import annotations

import wave

from tiny_transformers import AUDIO_COMMIT, AUDIO_ID, LM_ID, models_fixture  # noqa: F401 (the models fixture)

from genkit import testing

SECONDS = 0.25
ARGS = ["a cat", "--model", AUDIO_ID, "--seconds", str(SECONDS), "--precision", "fp32"]


def test_audio_conforms_offline_and_writes_wav_with_provenance(models, tmp_path):
    bad = [
        ["x", "--model", "nobody/nothing"],
        ["x", "--model", LM_ID],  # a causal LM is no MusicGen
        ["x", "--model", AUDIO_ID, "--seconds", "0"],
    ]
    heavy = ("torch", "transformers")
    files = testing.check_all("audio", tmp_path, args=ARGS, bad_options=bad, env=models["env"], heavy=heavy)
    with wave.open(str(files[0])) as clip:
        assert clip.getnframes() == round(SECONDS * clip.getframerate()) and clip.getframerate() == 800
    record = testing.check_provenance(files[0], "audio", models["env"])
    assert record["model"]["source"] == AUDIO_ID and record["model"]["revision"] == AUDIO_COMMIT
    assert record["model"]["class"] == "MusicgenForConditionalGeneration"
    assert testing.network_attempts(models["env"]) == []
