"""Progress bars on stderr, shown only to a person watching a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def wanted(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


@contextmanager
def bar(description: str, total: int | None, enabled: bool) -> Iterator[Callable[..., None]]:
    """Yield ``advance(k=1)``; draws a rich bar on stderr when enabled, else does nothing."""
    if not enabled:
        yield lambda k=1, **_: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total)

        def advance(k: int = 1, total: int | None = None, description: str | None = None) -> None:
            progress.update(task, advance=k, total=total, description=description)

        yield advance
