"""Ctrl-C and SIGTERM that cannot get lost.

Python turns SIGINT into a KeyboardInterrupt wherever the main thread happens to be, and if that
is inside a __del__ or a garbage-collection callback the exception is printed as "ignored" and
the run goes on writing. The handler here also remembers the request, and the output loop checks
it between files, so a run always stops at the next file boundary. SIGTERM (what ``kill``, a job
scheduler or a container stop sends) is handled the same way: a clean stop at a file boundary,
one line, the run in the history, exit 143 instead of 130 (128 + the signal's number).
"""

from __future__ import annotations

import signal
import threading

HANDLED = (signal.SIGINT, signal.SIGTERM)
_requested: int | None = None  # the signal received, if any


def _on_signal(signum, frame):
    global _requested
    _requested = signum
    raise KeyboardInterrupt


def install():
    """Install the handlers (main thread only); returns the previous ones for ``restore``."""
    global _requested
    _requested = None
    if threading.current_thread() is not threading.main_thread():
        return None
    return {sig: signal.signal(sig, _on_signal) for sig in HANDLED}


def restore(previous) -> None:
    if previous is not None and threading.current_thread() is threading.main_thread():
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def requested() -> bool:
    """Whether the user really pressed Ctrl-C or sent SIGTERM (a plugin raising KeyboardInterrupt itself is not that)."""
    return _requested is not None


def exit_code() -> int:
    """130 after SIGINT (or a KeyboardInterrupt with no signal), 143 after SIGTERM."""
    return 128 + int(_requested) if _requested is not None else 130


def signal_name() -> str:
    return signal.Signals(_requested).name if _requested is not None else "SIGINT"


def check() -> None:
    """Raise KeyboardInterrupt if a stop was asked for, even when its first raise was swallowed."""
    if _requested is not None:
        raise KeyboardInterrupt
