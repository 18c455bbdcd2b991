"""Property-based fuzzing of every trainable generator's `genkit train` options, in-process.

Values come from the options' own specs (the loop's Options and the generator's train options):
bounds and just past them, 0, NaN, infinities, non-numbers and random text. `--data` names a file
that does not exist, so a run whose options are all valid stops at the data check: every run must
be a user error (exit 2, one line), naming the bad option when there is one, and create nothing.
"""

from __future__ import annotations

import contextlib
import io
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genkit.cli import main
from genkit.registry import load_registry
from genkit.train.command import TRAIN_NUMBERS

TRAINABLE = sorted(name for name, spec in load_registry().generators.items() if spec.trainable)
EXAMPLES = int(os.environ.get("GENKIT_FUZZ_EXAMPLES", "20"))


def words(opt):
    """A strategy of command-line words for one numeric or choice option ([] leaves it out)."""
    if opt.type == "choice":
        values = st.one_of(st.sampled_from(opt.choices), st.text(max_size=5))
    else:
        edges = [0, -1, 1, 0.5, "nan", "inf", "-inf", "1e309", "x", ""]
        for bound in (opt.min, opt.max):
            if bound is not None:
                edges += [bound, bound - 1, bound + 1] if opt.type == "int" else [bound, bound * 1.5 + 1, -bound - 1]
        values = st.sampled_from(edges)
    return st.one_of(st.just([]), values.map(lambda v: [opt.flag, str(v)]))


def valid(opt, word: str) -> bool:
    try:
        value = int(word) if opt.type == "int" else float(word) if opt.type == "float" else word
    except ValueError:
        return False
    if opt.type == "choice":
        return value in opt.choices
    if not math.isfinite(value):
        return False
    try:
        opt.check(value)
    except ValueError:
        return False
    return not (opt.flag == "--nproc" and value > (os.cpu_count() or 1))  # more processes than cores


def run(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code, err.getvalue()


@pytest.mark.parametrize("name", TRAINABLE)
def test_fuzzed_training_options_are_refused_in_one_line_or_reach_the_data_check(name, tmp_path):
    spec = load_registry().generators[name]
    options = [o for o in TRAIN_NUMBERS + tuple(spec.train_options) if o.type in ("int", "float", "choice")]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.tuples(*(words(o) for o in options)))
    def check(chosen):
        argv = ["train", name, "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]
        for part in chosen:
            argv += part
        code, err = run(argv)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("genkit: error: "), (argv, code, err)
        bad = [o.flag for o, part in zip(options, chosen) if part and not valid(o, part[1])]
        if bad:
            assert any(flag in lines[0] for flag in bad), (argv, lines[0])
        else:
            assert "no such file" in lines[0], (argv, lines[0])
        assert not (tmp_path / "out").exists()

    check()
