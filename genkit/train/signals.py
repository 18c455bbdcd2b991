"""SIGINT and SIGTERM during training: finish the step, save a checkpoint, exit 130 or 143.

While the loop runs, both signals only set a flag; the loop looks at it between steps (and once
before the first), so an interrupt always leaves a whole, resumable checkpoint, even one that
arrives before the first periodic checkpoint.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from genkit.errors import GenkitError

EXIT_CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(GenkitError):
    """Training stopped by a signal after saving its checkpoint; exit 130 (SIGINT) or 143 (SIGTERM)."""

    def __init__(self, signum: int, message: str):
        super().__init__(message)
        self.exit_code = EXIT_CODES.get(signum, 130)


class StopFlag:
    def __init__(self):
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def set(self, signum, frame) -> None:
        self.signum = signum


@contextmanager
def trapped():
    """Yield a StopFlag that SIGINT/SIGTERM set instead of killing the run (main thread only)."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {sig: signal.signal(sig, flag.set) for sig in EXIT_CODES}
    try:
        yield flag
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def name(signum: int) -> str:
    return signal.Signals(signum).name
