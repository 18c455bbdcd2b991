"""Option values checked before a model loads: ranges, then each option's own validator.

Validators are plugin code (``Option.validator = "module:function"``), so this is where they run,
isolated as every plugin call is (genkit.plugin_probe); the descriptions in genkit.spec stay pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from genkit.errors import GenkitError, RunError
from genkit.registry import call_plugin, import_object
from genkit.spec import Option


def check_values(options: Iterable[Option], values: dict[str, Any], plugin: str = "") -> None:
    """Range-check every option's value (by ``Option.key``) and run its validator; one GenkitError
    naming the first bad one. ``plugin`` names the owner of the options in a validator's failure."""
    for opt in options:
        value = values.get(opt.key)
        try:
            opt.check(value)
        except ValueError as exc:
            raise GenkitError(str(exc)) from None
        run_validator(opt, value, plugin)


def run_validator(opt: Option, value: Any, plugin: str) -> None:
    """Call ``opt.validator`` on a given value (each value of a ``multiple`` option).

    ValueError or GenkitError from it is the user's mistake (exit 2, its first line shown); any
    other exception, or a validator that cannot be imported, is the plugin's failure (exit 1).
    """
    if opt.validator is None or value is None or value == opt.default:
        return
    check = import_object(opt.validator, plugin, f"the validator of {opt.flag}")
    if not callable(check):
        raise RunError(f"plugin {plugin!r}: the validator of {opt.flag} ({opt.validator}) is not a function")
    for item in value if opt.multiple and isinstance(value, (list, tuple)) else [value]:
        try:
            call_plugin(partial(check, item), plugin, f"the validator of {opt.flag}", (ValueError, GenkitError))
        except RunError:
            raise
        except (ValueError, GenkitError) as exc:
            reason = (str(exc).splitlines() or ["invalid value"])[0][:300]
            raise GenkitError(reason if opt.flag in reason else f"{opt.flag} {item}: {reason}") from None
