"""`genkit NAME ...`: one command per registered generator, built from its spec and its writers.

A third-party generator gets exactly what a built-in one gets: its own typed options, the run
options every generator shares, and the options of the writers of the formats it can write.
"""

from __future__ import annotations

import inspect
import json
import shlex
import sys
from typing import Annotated

import typer

from genkit.cli_params import make_command, parameter_for, plain
from genkit.spec import ArtifactKind, GeneratorSpec


def _complete_weights(ctx, incomplete: str) -> list:
    from genkit.completion import complete_weights

    return complete_weights(ctx, incomplete)


def _complete_generators(ctx, incomplete: str) -> list:
    from genkit.completion import complete_generators

    return complete_generators(ctx, incomplete)


def _run_parameters(spec: GeneratorSpec) -> list[inspect.Parameter]:
    def p(name, annotation, default):
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)

    params = [
        p("n", Annotated[int, typer.Option("--n", "-n", help="How many items to generate.")], 1),
        p(
            "seed",
            Annotated[
                int | None, typer.Option("--seed", help="Seed for reproducible output (default: random, recorded).")
            ],
            None,
        ),
        p(
            "device",
            Annotated[
                str | None,
                typer.Option("--device", help="auto, cpu, cuda, cuda:N or mps (default: $GENKIT_DEVICE or auto)."),
            ],
            None,
        ),
        p(
            "output",
            Annotated[
                list[str] | None,
                typer.Option(
                    "--output",
                    "-o",
                    metavar="PATH",
                    help="A folder, a file name, or a pattern such as 'img_{i:03d}.png'; repeat for several formats (-o a.mid -o a.wav).",
                ),
            ],
            None,
        ),
        p("overwrite", Annotated[bool, typer.Option("--overwrite", help="Replace files that already exist.")], False),
        p(
            "weights",
            Annotated[
                str | None,
                typer.Option(
                    "--weights",
                    help="Shipped weights or your alias by name, a .safetensors file, or a training run's folder "
                    "(see genkit models NAME).",
                    autocompletion=_complete_weights,
                ),
            ],
            None,
        ),
        p(
            "json",
            Annotated[bool, typer.Option("--json", help="Print a JSON manifest of what was written on stdout.")],
            False,
        ),
        p("quiet", Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")], False),
    ]
    if not (spec.default_weights or spec.trainable):  # nothing to choose between; --weights PATH is refused anyway
        params = [q for q in params if q.name != "weights"]
    return params


def _from_defaults(ctx: typer.Context, values: dict) -> dict:
    """The values this run took from the user's `genkit defaults` (the parser's default map)."""
    taken = {}
    for name, value in values.items():
        source = ctx.get_parameter_source(name)
        if source is not None and source.name == "DEFAULT_MAP":
            taken[name] = value
    return taken


def generator_command(spec: GeneratorSpec, kinds: list[ArtifactKind]):
    from genkit.writers import options_for

    writer_options = options_for(spec, kinds)

    def body(kwargs):
        from genkit.run import Request, echo_summary, execute

        ctx = kwargs.pop("ctx")
        values = {k: plain(v) for k, v in kwargs.items()}
        req = Request(
            spec=spec,
            n=values["n"],
            seed=values["seed"],
            device=values["device"],
            outputs=values["output"] or [],
            overwrite=values["overwrite"],
            weights=values.get("weights"),
            json=values["json"],
            quiet=values["quiet"],
            options={o.key: values[o.dest] for o in spec.options},
            writer_options={o.key: values[o.dest] for o in writer_options},
            typed=shlex.join(["genkit", *sys.argv[1:]]),
            defaults=_from_defaults(ctx, values),
        )
        manifest = execute(req)
        if req.json:
            print(json.dumps(manifest, indent=2))
        elif not req.quiet:
            echo_summary(manifest)

    source = _complete_generators if spec.weights_from else None  # --source names a generator
    params = [
        parameter_for(o, source if o.key == spec.weights_from else None) for o in [*spec.options, *writer_options]
    ]
    params += _run_parameters(spec)
    params.append(inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context))
    return make_command(params, body, spec.name, f"{spec.summary}\n\nPlugin: {spec.plugin}.")
