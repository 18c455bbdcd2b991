"""Ctrl-C that cannot get lost.

Python turns SIGINT into a KeyboardInterrupt wherever the main thread happens to be, and if that
is inside a __del__ or a garbage-collection callback the exception is printed as "ignored" and
the run goes on writing. The handler here also remembers the request, and the output loop checks
it between files, so a run always stops at the next file boundary.
"""

from __future__ import annotations

import signal
import threading

_requested = False


def _on_sigint(signum, frame):
    global _requested
    _requested = True
    raise KeyboardInterrupt


def install():
    """Install the handler (main thread only); returns the previous one for ``restore``."""
    global _requested
    _requested = False
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, _on_sigint)


def restore(previous) -> None:
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, previous)


def requested() -> bool:
    """Whether the user really pressed Ctrl-C (a plugin raising KeyboardInterrupt itself is not that)."""
    return _requested


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed, even when its first raise was swallowed."""
    if _requested:
        raise KeyboardInterrupt
