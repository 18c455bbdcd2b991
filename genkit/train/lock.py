"""One trainer per run folder: an advisory lock on ``RUN/.genkit-train.lock``.

The lock is ``fcntl.flock`` on an open file, so the kernel drops it when the process ends, however
it ends (a SIGKILL or a crash cannot leave a folder locked), and a second ``genkit train --out
RUN`` started beside a running one is refused in one line instead of overwriting its checkpoint.
The lock file is left in place (removing it would let a third process lock a new file while a
second still holds the old one); it is empty and genkit never reads it. The one exception: a run
refused before it wrote anything removes the folder it created for the lock, lock file included,
so a mistyped command leaves nothing behind.

A run relaunched under torchrun (``--nproc``) is locked once, by the command that starts the
workers; they know it from ``LOCKED_ENV``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from pathlib import Path

from genkit.errors import GenkitError

LOCK_NAME = ".genkit-train.lock"
LOCKED_ENV = "GENKIT_RUN_LOCKED"  # the folder a parent genkit already holds the lock of
_NO_LOCKS = {errno.ENOLCK, errno.ENOTSUP, getattr(errno, "EOPNOTSUPP", errno.ENOTSUP), errno.EINVAL}


@contextlib.contextmanager
def holding(out: Path):
    """Hold the run folder ``out``'s lock for the block; GenkitError if another process holds it.

    A folder that does not exist yet is created for the lock, and removed again (with the lock file)
    if the block fails and left nothing else in it, so a refused run leaves nothing behind.
    """
    import fcntl

    out = Path(out)
    if os.environ.get(LOCKED_ENV) == str(out.resolve()):
        yield
        return
    created = _make_folder(out)
    path = out / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        _tidy(out, created)
        raise GenkitError(f"--out {out}: cannot create its lock file ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise GenkitError(
                    f"--out {out} is in use by another 'genkit train' (it holds {LOCK_NAME}); wait for it to "
                    "finish or give another --out"
                ) from None
            if exc.errno not in _NO_LOCKS:
                raise GenkitError(f"--out {out}: cannot lock it ({exc.strerror or exc})") from None
            print(  # some network file systems have no locks: train, but say that nothing guards the folder
                f"genkit: warning: the file system of --out {out} cannot lock it; make sure no other "
                "'genkit train' writes there",
                file=sys.stderr,
            )
        _clean_temporaries(out)
        previous = os.environ.get(LOCKED_ENV)
        os.environ[LOCKED_ENV] = str(out.resolve())  # torchrun workers started from here inherit it
        try:
            yield
        except BaseException:
            _tidy(out, created)
            raise
        finally:
            if previous is None:
                os.environ.pop(LOCKED_ENV, None)
            else:
                os.environ[LOCKED_ENV] = previous
    finally:
        os.close(fd)  # releases the lock


def _clean_temporaries(out: Path) -> None:
    """Temporaries a killed run left in its folder (checkpoint, weights, card, samples): the folder is ours now."""
    from genkit.files import clean_stale_temporaries

    for folder in (out, out / "samples"):
        clean_stale_temporaries(folder)


def _make_folder(out: Path) -> list[Path]:
    """Create ``out`` if needed (refusing one that is a file); the folders this call created, deepest first."""
    if out.is_dir():
        return []
    if out.exists() or out.is_symlink():
        raise GenkitError(f"--out {out} is a file, not a folder")
    missing = [out]
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise GenkitError(f"--out {out}: {parent} is a file, not a folder")
        if parent.exists():
            break
        missing.append(parent)
    try:
        out.mkdir(parents=True)
    except FileExistsError:
        return []
    except OSError as exc:
        raise GenkitError(f"--out {out}: cannot create it ({exc.strerror or exc})") from None
    return missing


def _tidy(out: Path, created: list[Path]) -> None:
    """Remove the folders this run created for its lock when nothing else landed in them."""
    if not created:
        return
    with contextlib.suppress(OSError):
        if [p.name for p in out.iterdir()] != [LOCK_NAME]:
            return
        (out / LOCK_NAME).unlink()
        for folder in created:
            folder.rmdir()


def run_locked(out: Path, function, *args):
    """``function(*args)`` while holding ``out``'s lock."""
    with holding(out):
        return function(*args)
