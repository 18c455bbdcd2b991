"""`genkit train NAME` and `genkit eval NAME`: their options, checks, and the calls into the loop.

Every numeric option is a ``genkit.spec.Option`` checked by the same ``Option.check`` as
generation options, so each range ``--help`` shows is enforced and inf/nan are refused. The
command that reproduces a run is rebuilt here from the parsed values (never from sys.argv) and
handed to the loop for the model card and the weights' metadata; ``--nproc`` relaunches that same
command under torchrun.
"""

from __future__ import annotations

import inspect
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from genkit.cli_params import make_command, parameter_for, plain
from genkit.spec import GeneratorSpec, Option
from genkit.train import precision
from genkit.validation import check_values as spec_check_values

MINUTES_IN_A_YEAR = 525_600.0

TRAIN_NUMBERS = (
    Option("epochs", "int", None, "Passes over the data (default: the generator's).", min=1, max=1_000_000),
    Option(
        "max-steps",
        "int",
        None,
        "Stop after this many optimizer steps (default: epochs x steps per epoch).",
        min=1,
        max=1_000_000_000,
    ),
    Option(
        "max-minutes",
        "float",
        None,
        "Stop training after this many minutes.",
        min=0,
        min_open=True,
        max=MINUTES_IN_A_YEAR,
    ),
    Option(
        "batch-size",
        "int",
        None,
        "Examples per optimizer step, all processes together (default: the generator's).",
        min=1,
        max=65_536,
    ),
    Option("lr", "float", None, "Peak learning rate (default: the generator's).", min=0, min_open=True, max=10),
    Option(
        "checkpoint-every",
        "float",
        5.0,
        "Minutes between checkpoints; 0 saves after every step.",
        min=0,
        max=MINUTES_IN_A_YEAR,
    ),
    Option("nproc", "int", 1, "Processes for DistributedDataParallel (relaunched under torchrun).", min=1, max=1024),
    Option("seed", "int", 0, "Seed for initialisation, data order and sampling.", min=0, max=1_000_000_000),
    Option(
        "precision",
        "choice",
        "auto",
        "Forward-pass precision: auto picks bf16 where this CPU or GPU runs it "
        "faster, fp16 (with loss scaling) or bf16 on CUDA; weights, optimizer state and evaluation stay fp32.",
        choices=precision.CHOICES,
    ),
)
EVAL_NUMBERS = (TRAIN_NUMBERS[7],)  # --seed
# Loop options each `genkit train --resume` says afresh, never taken from the run it continues: how
# many processes run it and this sitting's limits (--data, --out and --device are never recorded).
NOT_INHERITED = frozenset({"nproc", "max_minutes", "checkpoint_every", "precision"})


def eval_options(spec: GeneratorSpec) -> tuple[Option, ...]:
    """The train options `genkit eval` uses: those the spec names in ``eval_options`` (all if it names none).

    Architecture options of a new model mean nothing to eval (the weights carry their config), so
    a spec lists the ones its evaluation reads (image's --classifier, VAE's --eval-k).
    """
    wanted = spec.eval_options
    if wanted is None:
        return tuple(spec.train_options)
    return tuple(o for o in spec.train_options if o.name in wanted)


def _complete_weights(ctx, incomplete: str) -> list:
    from genkit.completion import complete_weights

    return complete_weights(ctx, incomplete)


def _param(name, annotation, default=None):
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def _training_parameters(spec: GeneratorSpec, evaluating: bool) -> list[inspect.Parameter]:
    """The parameters of `genkit train NAME` or, with ``evaluating``, of `genkit eval NAME`."""
    params = [
        _param(
            "data",
            Annotated[Path, typer.Option("--data", help="Training data (a file or folder; see the generator's docs).")],
            inspect.Parameter.empty,
        ),
        _param("device", Annotated[str | None, typer.Option("--device", help="auto, cpu, cuda, cuda:N or mps.")]),
    ]
    if evaluating:
        params += [parameter_for(o) for o in EVAL_NUMBERS] + [
            _param(
                "weights",
                Annotated[
                    Path | None,
                    typer.Option(
                        "--weights",
                        help="Weights to measure: a shipped name, your alias, a file or a run folder "
                        "(default: the shipped default).",
                        autocompletion=_complete_weights,
                    ),
                ],
            ),
            _param("json", Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")], False),
            _param("quiet", Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")], False),
        ]
    else:
        params += [parameter_for(o) for o in TRAIN_NUMBERS] + [
            _param(
                "out",
                Annotated[
                    Path,
                    typer.Option("--out", help="Folder for weights, checkpoint, model card, loss curve and samples."),
                ],
                Path("runs") / spec.name,
            ),
            _param(
                "resume",
                Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint in --out.")],
                False,
            ),
            _param(
                "overwrite", Annotated[bool, typer.Option("--overwrite", help="Replace a run already in --out.")], False
            ),
            _param(
                "no_eval", Annotated[bool, typer.Option("--no-eval", help="Skip the evaluation at the end.")], False
            ),
            _param("quiet", Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")], False),
        ]
    own = eval_options(spec) if evaluating else spec.train_options
    return params + [parameter_for(o) for o in own]


def check_values(options: tuple[Option, ...], values: dict, plugin: str = "") -> None:
    """genkit.validation.check_values for the parser's values, which are keyed by ``Option.dest``."""
    spec_check_values(options, {opt.key: values.get(opt.dest) for opt in options}, plugin)


def command_args(spec: GeneratorSpec, values: dict, *, keep_flags: bool, drop: tuple[str, ...] = ()) -> list[str]:
    """The `genkit train NAME ...` arguments that give ``values``: only what differs from the defaults."""
    args = ["train", spec.name, "--data", str(values["data"]), "--out", str(values["out"])]
    for opt in TRAIN_NUMBERS + tuple(spec.train_options):
        value = values.get(opt.dest)
        if opt.dest in drop or value is None or value == opt.default:
            continue
        if opt.type == "bool":
            args.append(opt.flag if value else f"--no-{opt.flag[2:]}")
        else:
            args += [opt.flag, str(value)]
    if values.get("device"):
        args += ["--device", values["device"]]
    if keep_flags:
        args += ["--" + f.replace("_", "-") for f in ("resume", "overwrite", "no_eval", "quiet") if values.get(f)]
    return args


def train_from_cli(spec: GeneratorSpec, values: dict, options: dict, ctx: typer.Context | None = None) -> None:
    from genkit.train import distributed, lock

    if values["resume"] and ctx is not None:
        values, options = resumed_values(spec, values, options, ctx)
    check_values(TRAIN_NUMBERS + tuple(spec.train_options), {**values, **options}, spec.plugin)
    values = {**values, **options}
    if values["nproc"] > 1 and not distributed.under_torchrun():
        from genkit.train.outputs import RunFiles, check_data

        distributed.check_nproc(values["nproc"], values["device"])
        check_data(values["data"])  # user mistakes get their one line here, before the relaunch
        RunFiles.plan(values["out"], spec.name).check(values["resume"], values["overwrite"])
        with lock.holding(values["out"]):  # one trainer per folder; the workers know it is held
            distributed.relaunch(values["nproc"], command_args(spec, values, keep_flags=True, drop=("nproc",)))
        return
    summary = _train(spec, values, options)
    if "weights" in summary:
        print(json.dumps(summary, indent=2))
        if not values["quiet"]:
            print(use_it(spec, values["out"]), file=sys.stderr)


def use_it(spec: GeneratorSpec, out) -> str:
    """The line a finished run ends with: the command that generates from it, and how to name it."""
    from genkit.lookup import is_path

    folder = str(out) if is_path(str(out)) else f"./{out}"  # a bare word would be read as a name
    return (
        f"use it: genkit {spec.name} --weights {shlex.quote(folder)}"
        f"   (or name it: genkit aliases set NAME {shlex.quote(folder)})"
    )


def _train(spec: GeneratorSpec, values: dict, options: dict) -> dict:
    from genkit.train import lock
    from genkit.train.loop import train
    from genkit.train.settings import RunSettings

    command = "genkit " + shlex.join(command_args(spec, values, keep_flags=False))
    if "WORLD_SIZE" in os.environ:  # relaunched by --nproc N (or started by torchrun): say so
        command += f" --nproc {os.environ['WORLD_SIZE']}"
    settings = RunSettings(
        data=Path(values["data"]),
        out=Path(values["out"]),
        device=values["device"],
        epochs=values["epochs"],
        max_steps=values["max_steps"],
        max_minutes=values["max_minutes"],
        batch_size=values["batch_size"],
        lr=values["lr"],
        seed=values["seed"],
        precision=values["precision"],
        resume=values["resume"],
        overwrite=values["overwrite"],
        checkpoint_every=values["checkpoint_every"],
        evaluate=not values["no_eval"],
        quiet=values["quiet"],
        options=options,
        command=command,
    )
    return _recorded(spec, settings, values, options, lambda: lock.run_locked(settings.out, train, spec, settings))


def _recorded(spec: GeneratorSpec, settings, values: dict, options: dict, run) -> dict:
    """``run()``, added to the history (genkit logs) by the main process, failed or not; a refused
    command (a user mistake, exit 2) ran nothing and is not recorded."""
    import time

    from genkit.history import record_training

    started, main = time.time(), os.environ.get("RANK", "0") == "0"
    record = {"command": settings.command, "out": settings.out, "options": options, "seed": values["seed"]}
    try:
        summary = run()
    except BaseException as exc:
        if main and getattr(exc, "exit_code", 1) != 2:
            record_training(spec.name, started=started, error=exc, **record)
        raise
    if main:
        record_training(spec.name, started=started, summary=summary, **record)
    return summary


def resumed_values(spec: GeneratorSpec, values: dict, options: dict, ctx: typer.Context) -> tuple[dict, dict]:
    """On --resume, each option the user does not give again takes the value the run was started with.

    The checkpoint records them (``recorded_options``). A recorded value must have its option's
    type, then meets the same range checks as typed text: a checkpoint may come from elsewhere.
    """
    from genkit.errors import GenkitError
    from genkit.train import checkpoint
    from genkit.train.outputs import RunFiles

    path = RunFiles.plan(values["out"], spec.name).checkpoint
    recorded = checkpoint.recorded_options(checkpoint.check(path, spec.name))
    declared = {o.dest: o for o in TRAIN_NUMBERS + tuple(spec.train_options) if o.dest not in NOT_INHERITED}
    values, options = dict(values), dict(options)
    if recorded.get("no_eval") is True and not _given(ctx, "no_eval"):  # a flag the run was started with
        values["no_eval"] = True
    for dest, value in recorded.items():
        if dest not in declared or _given(ctx, dest):
            continue
        try:
            parsed = _recorded_value(declared[dest], value)
        except ValueError:
            raise GenkitError(
                f"--resume: {path} records an unusable value for {declared[dest].flag} "
                f"({value!r}); give the option again"
            ) from None
        (options if dest in options else values)[dest] = parsed
    return values, options


_JSON_KINDS: dict[str, type | tuple[type, ...]] = {
    "int": int,
    "float": (int, float),
    "bool": bool,
    "str": str,
    "path": str,
    "choice": str,
}


def _recorded_value(opt: Option, value):
    """A value read back from a checkpoint, as the command line would have parsed it; ValueError if not one."""
    wrong_kind = not isinstance(value, _JSON_KINDS[opt.type]) or (isinstance(value, bool) and opt.type != "bool")
    if wrong_kind or (opt.type == "choice" and value not in (opt.choices or ())):
        raise ValueError(value)
    return Path(value) if opt.type == "path" else float(value) if opt.type == "float" else value


def _given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)  # click's ParameterSource (typer may carry its own click)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def evaluate_from_cli(spec: GeneratorSpec, values: dict, options: dict) -> None:
    from genkit.train.evaluation import evaluate

    check_values(EVAL_NUMBERS + eval_options(spec), {**values, **options}, spec.plugin)
    metrics = evaluate(
        spec,
        data=values["data"],
        weights_path=values["weights"],
        options=options,
        device=values["device"],
        seed=values["seed"],
        quiet=values["quiet"],
    )
    if values["json"]:
        print(json.dumps(metrics, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from genkit.printable import printable

    table = Table("metric", "value", title=f"genkit eval {spec.name}")
    for key, value in metrics.items():
        shown = [key, f"{value:.4f}" if isinstance(value, float) else str(value)]
        table.add_row(*(escape(printable(text)) for text in shown))  # a plugin's metric names and values
    Console().print(table)


def _split(own: tuple[Option, ...], kwargs: dict) -> tuple[dict, dict]:
    """(the command's own values, the generator's train options): a train option named like one of the
    command's own (image's --weights to fine-tune from) is only offered where the command has none."""
    options = {o.dest: plain(kwargs.pop(o.dest)) for o in own if o.dest in kwargs}
    return {k: plain(v) for k, v in kwargs.items()}, options


def train_command(spec: GeneratorSpec):
    def body(kwargs):
        ctx = kwargs.pop("ctx")
        train_from_cli(spec, *_split(spec.train_options, kwargs), ctx)

    params = [_param("ctx", typer.Context, inspect.Parameter.empty), *_training_parameters(spec, False)]
    return make_command(params, body, spec.name, f"Train {spec.name}: {spec.summary}")


def eval_command(spec: GeneratorSpec):
    def body(kwargs):
        evaluate_from_cli(spec, *_split(eval_options(spec), kwargs))

    return make_command(_training_parameters(spec, True), body, spec.name, f"Measure {spec.name} with its own metrics.")
