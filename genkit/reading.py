"""Reading a user's file: only a regular file, opened without blocking, never more than a budget.

A FIFO or a device given where a file is expected would block a reader forever (or feed it without
end), so every reader of user input goes through here: a path that is not a regular file, or one
larger than the reader's budget, is one line (GenkitError, exit 2) before anything is decoded.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from genkit.errors import GenkitError

_NOT_REGULAR = "is not a regular file (a pipe, device or socket); genkit reads only files"


def check_regular(path: Path, what: str = "file") -> None:
    """Refuse anything but a regular file (a FIFO would block the reader forever)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise GenkitError(f"no such {what}: {path}") from None
    except OSError as exc:
        raise GenkitError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise GenkitError(f"{path} {_NOT_REGULAR}")


def open_regular(path: Path, what: str = "file") -> BinaryIO:
    """A regular file opened for reading; a FIFO, device or socket is refused instead of waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise GenkitError(f"no such {what}: {path}") from None
    except OSError as exc:
        raise GenkitError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise GenkitError(f"{path} {_NOT_REGULAR}")
    return os.fdopen(fd, "rb")


def read_regular(path: Path, limit: int, what: str = "file") -> bytes:
    """A regular file's bytes, at most ``limit`` of them; a larger file is refused before it is read."""
    path = Path(path)
    with open_regular(path, what) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise GenkitError(f"{what} {path} is {size:,} bytes, larger than genkit reads: at most {limit:,}")
        data = fh.read(limit + 1)
    if len(data) > limit:  # it grew while being read
        raise GenkitError(f"{what} {path} is larger than the {limit:,} bytes genkit reads at most")
    return data
