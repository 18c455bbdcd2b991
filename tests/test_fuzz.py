"""Property-based fuzzing of every registered generator's options through genkit's CLI entry point.

Values are drawn from each generator's own spec (so a new plugin is fuzzed without new code): its
bounds and the numbers just outside them, non-numbers, NaN and infinities, random text, valid
choices and garbage ones. Every run must either succeed and leave only complete files, or be a
user error: exit code 2, one line `genkit: error: ...`, and nothing written.

The runs are in-process (`genkit.cli.main`, the function the console script calls) so torch and
the weights load once per session; the subprocess tests elsewhere cover the script itself.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import wave

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from genkit.cli import main
from genkit.registry import load_registry

REGISTRY = load_registry()
GENERATORS = sorted(REGISTRY.generators)
EXAMPLES = int(os.environ.get("GENKIT_FUZZ_EXAMPLES", "20"))
_counter = itertools.count()


def junk():
    return st.one_of(st.text(max_size=6), st.sampled_from(["nan", "inf", "-inf", "1e309", "0x10", " 3", "-"]))


def number_values(opt):
    """Bounds, the values just outside them, small ordinary values and non-numbers."""
    integer = opt.type == "int"
    edges = [0, -1, 1, 2]
    for bound in (opt.min, opt.max):
        if bound is not None and (bound <= 256 or bound == opt.min):  # the top of a huge range is slow
            edges += [bound, bound - 1, bound + 1] if integer else [bound, bound - 0.5, bound + 0.5]
    if opt.max is not None:
        edges.append(opt.max + 1)
    ordinary = st.integers(1, 6) if integer else st.floats(0.05, 2.0)
    return st.one_of(st.sampled_from(sorted(set(edges))), ordinary, junk())


def option_values(opt):
    """A strategy of command-line words for one option: [] leaves it out."""
    if opt.type in ("int", "float"):
        values = number_values(opt)
    elif opt.type == "choice":
        values = st.one_of(st.sampled_from(opt.choices), junk())
    elif opt.type == "bool":
        return st.sampled_from([[], [opt.flag]])
    elif opt.type == "path":
        values = st.sampled_from(["missing.png", "garbage.bin"])
    else:
        values = st.one_of(st.just(str(opt.default)) if opt.default else junk(), junk())
    if opt.argument:
        return st.one_of(st.just([]), values.map(lambda v: [str(v)]))
    return st.one_of(st.just([]), values.map(lambda v: [opt.flag, str(v)]))


def complete(path):
    """Open a written file fully, the way a user's program would."""
    suffix = path.suffix
    if suffix in (".png", ".gif", ".webp"):
        with Image.open(path) as im:
            for k in range(getattr(im, "n_frames", 1)):
                im.seek(k)
                im.load()
    elif suffix == ".mid":
        import pretty_midi

        pretty_midi.PrettyMIDI(str(path))
    elif suffix == ".wav":
        with wave.open(str(path)) as w:
            assert w.getnframes() > 0
    elif suffix == ".json":
        json.loads(path.read_text())
    else:
        path.read_text(encoding="utf-8")


def run_main(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in argv])
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", GENERATORS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_options_succeed_completely_or_fail_cleanly(tmp_path, monkeypatch, name, data):
    spec = REGISTRY.get(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "garbage.bin").write_bytes(os.urandom(64))
    out = tmp_path / f"out{next(_counter)}"
    argv = [name, "-o", out, "--quiet"]
    argv += data.draw(st.one_of(st.just([]), st.one_of(st.integers(-2, 3), junk()).map(lambda v: ["--n", v])))
    argv += data.draw(st.one_of(st.just([]), st.one_of(st.integers(-3, 2**64), junk()).map(lambda v: ["--seed", v])))
    for opt in spec.options:
        argv += data.draw(option_values(opt), label=opt.flag)
    code, _, err = run_main(argv)
    assert "Traceback" not in err, err
    if code == 0:
        written = [p for p in out.rglob("*") if p.is_file()] if out.is_dir() else []
        assert written, err
        for path in written:
            assert not path.name.startswith("."), f"temporary left behind: {path}"
            complete(path)
    else:
        assert code == 2, (argv, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("genkit: error: "), err
        assert not out.exists() or not any(out.iterdir()), argv


# ---------------------------------------------------------------- numbers at their edges (issue 14, class 4)

# Positive in Python, but a denormal (1e-45, 1e-39) or zero (5e-324) once a model computes in float32.
TINY = (5e-324, 1e-45, 1e-39)
BUILTINS = sorted(g for p in REGISTRY.plugins if p.builtin for g in p.generators)
FAST = {"text": ["--max-tokens", "20"], "music": ["--bars", "2"], "video": ["--frames", "4"]}


def inside_edges(opt):
    """The extreme values --help advertises as allowed: closed bounds, and tiny steps past open ones."""
    values = []
    if opt.min is not None:
        values += [opt.min + t for t in TINY] if opt.min_open else [opt.min]
    if opt.max is not None and not opt.max_open:
        values.append(opt.max)
    return [v for v in dict.fromkeys(values) if _accepted(opt, v)]


def _accepted(opt, value):
    try:
        opt.check(value)
        return True
    except ValueError:
        return False


FLOAT_EDGES = [
    (name, opt.name, value)
    for name in BUILTINS
    for opt in REGISTRY.get(name).options
    if opt.type == "float"
    for value in inside_edges(opt)
]


@pytest.mark.parametrize("name,option,value", FLOAT_EDGES)
def test_every_float_value_inside_an_advertised_range_works(tmp_path, name, option, value):
    out = tmp_path / "out"
    code, _, err = run_main(
        [name, f"--{option}", repr(value), "--seed", "1", "-o", out, "--quiet", *FAST.get(name, [])]
    )
    assert code == 0, err
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written
    for path in written:
        complete(path)


def test_a_tiny_temperature_samples_greedily_instead_of_garbage():
    """1e-45 used to overflow logits / T to inf and NaN and print 'zzzz...'; its limit is greedy choice."""
    greedy = run_main(["text", "--top-k", "1", "--max-tokens", "40", "--seed", "3"])[1]
    for tiny in ("1e-45", "1e-39", "5e-324"):
        code, text, err = run_main(["text", "--temperature", tiny, "--max-tokens", "40", "--seed", "3"])
        assert code == 0, err
        assert text == greedy
        code, text, err = run_main(["text", "--top-p", tiny, "--max-tokens", "40", "--seed", "3"])
        assert code == 0 and text == greedy, err
    assert len(set(greedy.strip())) > 3


# ---------------------------------------------------------------- weights metadata (issue 14, class 3)


def config_values():
    return st.one_of(
        st.integers(-2, 70_000),
        st.integers(-(2**70), 2**70),
        st.booleans(),
        st.none(),
        st.text(max_size=4),
        st.floats(allow_nan=True),
        st.lists(st.integers(-3, 70), max_size=4),
    )


def _tiny_weights(path, config, tensors):
    header = {"__metadata__": {"config": json.dumps(config)}}
    offset = 0
    for name, shape in tensors.items():
        size = 4 * int(np.prod(shape, dtype=np.int64))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + b"\0" * offset)


def _shipped_shapes(name):
    from genkit import weights
    from genkit.weights_check import declared_shapes

    return declared_shapes(weights.default_weights_path(REGISTRY.get(name)))


def _shipped_config(name):
    from genkit import weights

    spec = REGISTRY.get(name)
    return weights.metadata(weights.default_weights_path(spec)).get("config") or {}


import numpy as np


@pytest.mark.parametrize("name", [g for g in ("image", "music", "text", "vae") if g in REGISTRY.generators])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_weights_metadata_is_refused_cleanly_before_anything_is_built(tmp_path, name, data):
    """The shipped config with keys changed to hostile values, over tiny tensors or the shipped shapes:
    the generator loads (the change did not matter) or refuses with a GenkitError; memory stays small."""
    import resource

    import torch

    from genkit.errors import GenkitError
    from genkit.registry import import_implementation

    config = dict(_shipped_config(name))
    for key in data.draw(st.lists(st.sampled_from(sorted(config)), min_size=1, max_size=3, unique=True)):
        config[key] = data.draw(config_values(), label=key)
    random_tensors = st.dictionaries(
        st.sampled_from(["w", "net.0.weight", "G.fc.weight", "head.weight"]),
        st.lists(st.integers(0, 6), max_size=3).map(tuple),
        max_size=3,
    )
    tensors = data.draw(st.one_of(random_tensors, st.just(_shipped_shapes(name))))  # real shapes, hostile config
    path = tmp_path / f"w{next(_counter)}.safetensors"
    _tiny_weights(path, config, tensors)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # a key the model does not use may change harmlessly; anything else is a user error
    with contextlib.suppress(GenkitError):
        import_implementation(REGISTRY.get(name))(device=torch.device("cpu"), weights=path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 300_000  # kB
