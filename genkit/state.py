"""Files genkit keeps for itself (caches, probe results): read as untrusted, never followed, never waited on.

Anything under the user's cache folder may have been replaced by a FIFO, a device, a symlink to a
shell profile, or damaged JSON. So a state file is read only when it is a regular file (opened with
``O_NOFOLLOW | O_NONBLOCK``, so a link or a FIFO is refused instead of followed or waited on), at
most ``MAX_STATE_BYTES``; and it is written to a temporary in its folder that is then renamed over
the name, which replaces a symlink instead of writing through it. A state file that is unusable is
not an error: the caller rebuilds it, and one warning per file says so.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import sys
from pathlib import Path

from genkit.files import clean_stale_temporaries

CACHE_ENV = "GENKIT_CACHE_DIR"
MAX_STATE_BYTES = 8 << 20  # a plugin cache of a hundred plugins is a few hundred kB
_warned: set[str] = set()


def cache_root() -> Path:
    """``$GENKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/genkit``, else ``~/.cache/genkit``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "genkit"


def warn_rebuild(path: Path, why: str) -> None:
    """One line on stderr, once per file and process: the state file is set aside and rebuilt."""
    from genkit.printable import printable

    key = str(path)
    if key in _warned:
        return
    _warned.add(key)
    print(f"genkit: warning: {printable(path)} {why}; genkit rebuilds it", file=sys.stderr)


def usable_file(path: Path) -> str | None:
    """None when ``path`` is a regular file (not a link); else why it is not (missing files give '')."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a folder, FIFO, device or socket)"
    return None


def read_bytes(path: Path, limit: int = MAX_STATE_BYTES) -> bytes | None:
    """A state file's bytes, or None (missing, or unusable with one warning)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        why = "is a symbolic link" if exc.errno == errno.ELOOP else f"cannot be read ({exc.strerror or exc})"
        warn_rebuild(path, why)
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # before fdopen, which refuses a folder with an error
        os.close(fd)
        warn_rebuild(path, "is not a regular file (a folder, FIFO, device or socket)")
        return None
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            warn_rebuild(path, f"cannot be read ({exc.strerror or exc})")
            return None
    if len(data) > limit:
        warn_rebuild(path, f"is larger than {limit >> 20} MB")
        return None
    return data


def read_json(path: Path, kind: type = dict, limit: int = MAX_STATE_BYTES):
    """A state file's JSON value of type ``kind``, or None (missing, or damaged with one warning)."""
    data = read_bytes(path, limit)
    if data is None:
        return None
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        warn_rebuild(path, "is damaged (not valid JSON)")
        return None
    if not isinstance(value, kind):
        warn_rebuild(path, f"is damaged (holds a JSON {type(value).__name__}, not an object)")
        return None
    return value


def write_bytes(path: Path, data: bytes) -> bool:
    """Best effort: write through a temporary renamed over ``path`` (a link there is replaced, not
    followed); False when the folder is read-only or the name is a folder (the state is rebuilt
    next time)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temporaries(path.parent)  # those of a process killed while writing here
        tmp = path.with_name(f".gk-{os.getpid()}-{os.urandom(4).hex()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def write_json(path: Path, value) -> bool:
    return write_bytes(path, json.dumps(value).encode("utf-8"))
