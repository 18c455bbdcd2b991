"""Progress bars on stderr, shown only to a person watching a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress

# The rich Progress of the run being drawn: step_progress adds its line under the run's bar.
_live: Progress | None = None


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
    global _live
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total)

        def advance(k: int = 1, total: int | None = None, description: str | None = None) -> None:
            progress.update(task, advance=k, total=total, description=description)

        _live = progress
        try:
            yield advance
        finally:
            _live = None


@contextmanager
def step_progress(total: int | None, description: str = "steps") -> Iterator[Callable[..., None]]:
    """Progress inside one item (denoising steps, tokens) for a generator to report: yields
    ``advance(k=1)``, drawn as a second line under the run's bar when that bar is shown (a terminal,
    no --quiet), else silent. Each advance is also where Ctrl-C stops the run, even inside a library
    call that swallowed the first KeyboardInterrupt, so no half-made item is ever written."""
    from genkit import interrupts

    progress = _live
    task = progress.add_task(description, total=total) if progress is not None else None

    def advance(k: int = 1) -> None:
        if progress is not None and task is not None:
            progress.update(task, advance=k)
        interrupts.check()

    try:
        yield advance
    finally:
        if progress is not None and task is not None:
            progress.remove_task(task)
