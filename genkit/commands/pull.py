"""`genkit pull ORG/NAME`: the one command that fetches a model, into the Hugging Face cache.

Everything else reads models from disk only; this asks the Hub for the repo's safetensors weights
and configs (never its pickles), resumes a download that was cut, and prints where it landed.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def pull_command(
    model: Annotated[str, typer.Argument(help="A Hugging Face repo id, ORG/NAME or ORG/NAME@REVISION.")],
    include: Annotated[
        list[str] | None,
        typer.Option("--include", metavar="PATTERN", help="Fetch only files matching this pattern (repeatable)."),
    ] = None,
):
    """Fetch a model from the Hugging Face Hub into your cache (safetensors only, resumable)."""
    from genkit import hub

    folder = hub.pull(model, include or None)
    print(folder)
    print(f"pulled {model}; run it with --model {model}", file=sys.stderr)
