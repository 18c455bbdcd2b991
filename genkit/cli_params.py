"""Typed generator and training options turned into typer parameters (help, ranges, choices)."""

from __future__ import annotations

import enum
import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from genkit.classnames import CLASS_OPTIONS
from genkit.spec import Option

_PY_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "path": Path}


def _complete_classes(ctx, incomplete: str) -> list[str]:
    from genkit.completion import complete_class_names

    return complete_class_names(ctx, incomplete)


def help_for(opt: Option) -> str:
    extra = []
    if opt.min is not None or opt.max is not None:
        extra.append(f"range {opt.range_text()}")
    return opt.help + (f" [{'; '.join(extra)}]" if extra else "")


def _choices_enum(opt: Option) -> Any:
    """A str Enum of the option's choices: typer lists them in --help and refuses any other value."""
    return enum.Enum(f"{opt.dest}_choices", {c: c for c in opt.choices or ()}, type=str)


def parameter_for(opt: Option, complete=None) -> inspect.Parameter:
    """A signature parameter carrying a typer Option/Argument for one declared option.

    Shell completion of its value: ``complete`` when given, else class names (--class), the option's
    declared ``suggestions``, or weights names for an option called ``weights`` (a fine-tuning start).
    """
    if opt.type == "choice":
        py_type: Any = _choices_enum(opt)
        default = opt.default
    else:
        py_type = _PY_TYPES[opt.type]
        default = opt.default
    if opt.argument:
        if opt.multiple:
            py_type = list[py_type] | None
        info = typer.Argument(help=help_for(opt), show_default=False)
        required = opt.default is None and not opt.multiple
        annotation: Any = Annotated[py_type if required else py_type | None, info]  # built at run time
        return inspect.Parameter(
            opt.dest,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if required else default,
            annotation=annotation,
        )
    if opt.type == "bool":
        decl = f"{opt.flag}/--no-{opt.flag[2:]}"
        info = typer.Option(decl, help=help_for(opt))
    else:
        info = (
            typer.Option(opt.flag, help=help_for(opt), case_sensitive=False)
            if opt.type == "choice"
            else typer.Option(opt.flag, help=help_for(opt))
        )
    if opt.name in CLASS_OPTIONS:  # complete class names from the weights' header, lazily
        info = typer.Option(opt.flag, help=help_for(opt), autocompletion=_complete_classes)
    elif opt.type not in ("bool", "choice") and (complete or opt.suggestions or opt.name == "weights"):
        from genkit import completion

        chosen = complete or (completion.suggesting(opt.suggestions) if opt.suggestions else None)
        info = typer.Option(opt.flag, help=help_for(opt), autocompletion=chosen or completion.complete_weights)
    annotation = Annotated[py_type | None if default is None else py_type, info]
    return inspect.Parameter(opt.dest, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def make_command(params: list[inspect.Parameter], body, name: str, doc: str):
    # Arguments first, as Python requires, then options.
    params = sorted(params, key=lambda q: q.default is not inspect.Parameter.empty)
    params = [q.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for q in params]

    def command(**kwargs):
        return body(kwargs)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]  # typer reads it
    command.__annotations__ = {q.name: q.annotation for q in params}
    command.__name__ = name.replace("-", "_")
    command.__doc__ = doc
    return command


def plain(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [str(v) if isinstance(v, Path) else v for v in value]
    return value
