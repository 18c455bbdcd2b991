"""Output files: names planned before any work, never-clobber atomic writes, stale temporaries.

A file is written to a hidden temporary name in its folder and then moved into place:
without ``--overwrite`` the move is ``os.link`` (fails if the name exists, so two runs in
one folder never overwrite each other), with it ``os.replace``. Leftover temporaries of
killed runs are removed by the next run that writes into the folder.
"""

from __future__ import annotations

import errno
import os
import re
import string
from pathlib import Path

from genkit.errors import GenkitError, RunError

DEFAULT_FOLDER = "genkit-out"
_TMP = re.compile(r"^\..+\.genkit-(\d+)-[0-9a-f]+\.tmp$")
_PATTERN_FIELDS = {"i", "seed", "n"}


# ---------------------------------------------------------------- planning names


class OutputPlan:
    """Maps item index -> file path for one run, decided before anything is generated."""

    def __init__(self, output: str | None, generator: str, extensions: tuple[str, ...], n: int, seed: int):
        self.n, self.seed = n, seed
        default_ext = extensions[0]
        # A name without an extension is a folder, whether or not it exists yet.
        if output is None or output.endswith(("/", os.sep)) or Path(output).is_dir() or (
            "{" not in output and not Path(output).suffix
        ):
            folder = Path(output) if output else Path(DEFAULT_FOLDER)
            self.pattern = str(folder / f"{generator}-{seed}-{{i:03d}}.{default_ext}")
        elif "{" in output:
            self.pattern = output
        else:
            path = Path(output)
            if n > 1:
                self.pattern = str(path.with_name(f"{path.stem}-{{i:03d}}{path.suffix}"))
            else:
                self.pattern = output.replace("{", "{{").replace("}", "}}")
        self._check_pattern()
        self.ext = self.path(0).suffix.lower().lstrip(".")
        if self.ext not in extensions:
            raise GenkitError(
                f"{generator} cannot write .{self.ext or '(none)'} files; it writes {', '.join('.' + e for e in extensions)}"
            )

    def _check_pattern(self):
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(self.pattern) if f is not None}
            if fields - _PATTERN_FIELDS:
                raise GenkitError(
                    f"output pattern may use {{i}}, {{seed}} and {{n}} only, not {', '.join(sorted(fields - _PATTERN_FIELDS))}"
                )
            for _, field, spec, conversion in string.Formatter().parse(self.pattern):
                if field is None:
                    continue
                if conversion:
                    raise GenkitError(f"output pattern {self.pattern!r}: conversions such as !{conversion} are not allowed")
                text = format(0, spec or "")
                if "/" in text or os.sep in text:
                    raise GenkitError(f"output pattern {self.pattern!r} would put path separators into file names")
            names = {self.path(0), self.path(self.n - 1)}
        except (ValueError, IndexError, KeyError) as exc:
            raise GenkitError(f"bad output pattern {self.pattern!r}: {exc}") from None
        if self.n > 1 and len(names) == 1:
            raise GenkitError(f"output pattern {self.pattern!r} gives every item the same name; add {{i}}")

    def path(self, index: int) -> Path:
        return Path(self.pattern.format(i=index, seed=self.seed, n=self.n))

    def check_free(self, overwrite: bool) -> None:
        """Fail before any work if a target exists (unless --overwrite) or cannot be made."""
        checked = set()
        for index in range(self.n):
            path = self.path(index)
            if path.parent not in checked:
                check_folder(path.parent)
                checked.add(path.parent)
            if path.is_dir():
                raise GenkitError(f"output {path} is a folder")
            if path.exists() and not overwrite:
                raise GenkitError(f"{path} already exists; pass --overwrite to replace it")


def check_folder(folder: Path) -> None:
    """Fail if ``folder`` could not be created or written, without creating anything."""
    folder = Path(folder)
    for parent in [folder, *folder.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise GenkitError(f"cannot create folder {folder}: {parent} is a file")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise GenkitError(f"cannot create folder {folder}: permission denied" if parent != folder
                                  else f"cannot write into {folder}: permission denied")
            return


def prepare_folder(folder: Path) -> None:
    folder = Path(folder)
    if folder.is_dir():
        return
    for parent in [folder, *folder.parents]:
        if parent.exists() and not parent.is_dir():
            raise GenkitError(f"cannot create folder {folder}: {parent} is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        raise GenkitError(f"cannot create folder {folder}: permission denied") from None
    except OSError as exc:
        raise GenkitError(f"cannot create folder {folder}: {exc.strerror}") from None


def clean_stale_temporaries(folder: Path) -> int:
    """Remove temporaries left by genkit processes that no longer run; return how many."""
    removed = 0
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return 0
    for entry in entries:
        match = _TMP.match(entry.name)
        if match and not _pid_alive(int(match.group(1))):
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------- atomic writing


def write_atomic(path: Path, data: bytes, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` via a temporary file; never leaves a half-written ``path``."""
    path = Path(path)
    prepare_folder(path.parent)
    tmp = path.with_name(f".{path.name}.genkit-{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic and refuses an existing name
            except FileExistsError:
                raise GenkitError(f"{path} already exists; pass --overwrite to replace it") from None
    except PermissionError:
        raise GenkitError(f"cannot write {path}: permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise RunError(f"no space left on device while writing {path}; nothing was left half-written") from None
        raise RunError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        try:
            tmp.unlink()
        except OSError:
            pass
