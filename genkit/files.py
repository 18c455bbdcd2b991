"""Output files: names planned before any work, never-clobber atomic writes, stale temporaries.

A file is written to a hidden temporary name in its folder and then moved into place:
without ``--overwrite`` the move is ``os.link`` (fails if the name exists, so two runs in
one folder never overwrite each other), with it ``os.replace``. On file systems without hard
links (FAT, exFAT, many network shares) the name is claimed with an exclusive create instead
and the temporary renamed over that empty placeholder: still never-clobber. Temporary names
are short (``.gk-PID-RANDOM.tmp``) so that any name the file system accepts can be written.
Leftover temporaries of killed runs are removed by the next run that writes into the folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import string
from collections.abc import Sequence
from pathlib import Path

from genkit.errors import GenkitError, RunError

DEFAULT_FOLDER = "genkit-out"
# Temporaries: today's short form, and the long form older versions left (.NAME.genkit-PID-HEX.tmp).
_TMP = re.compile(r"^\.(?:gk|.+\.genkit)-(\d+)-[0-9a-f]+\.tmp$")
_PATTERN_FIELDS = {"i", "seed", "n"}
# The format-spec mini-language for an integer: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_INT_SPEC = re.compile(
    r"^(?:(?P<fill>.)?(?P<align>[<>=^]))?[-+ ]?z?#?0?(?P<width>\d*)[,_]?(?:\.\d+)?(?P<type>[bdoxXeEfFgG%]?)$", re.S
)
_MAX_WIDTH = 255  # no file system takes a longer name
# errno values of a file system that has no hard links (link() is refused, not the write itself).
_NO_LINKS = {
    errno.EPERM,
    errno.EACCES,
    errno.EXDEV,
    errno.EMLINK,
    errno.ENOSYS,
    errno.ENOTSUP,
    getattr(errno, "EOPNOTSUPP", errno.ENOTSUP),
}


def index_width(n: int) -> int:
    """Digits of the default item index: 3, or more when --n needs them, so names sort."""
    return max(3, len(str(max(n - 1, 0))))


# ---------------------------------------------------------------- planning names


class OutputPlan:
    """Maps item index -> file path for one run, decided before anything is generated."""

    def __init__(self, output: str | None, generator: str, extensions: tuple[str, ...], n: int, seed: int):
        self.n, self.seed = n, seed
        default_ext = extensions[0]
        if output is not None and output.strip() == "-":
            raise GenkitError(
                f"-o - (standard output) is not supported by {generator}: give a file, a folder or a pattern"
                + (" (text streams to standard output when -o is left out)" if "txt" in extensions else "")
            )
        index = f"{{i:0{index_width(n)}d}}"
        # A name without an extension is a folder, whether or not it exists yet.
        if (
            output is None
            or output.endswith(("/", os.sep))
            or _is_dir(Path(output))
            or ("{" not in output and not Path(output).suffix)
        ):
            folder = Path(output) if output else Path(DEFAULT_FOLDER)
            self.pattern = str(folder / f"{generator}-{seed}-{index}.{default_ext}")
        elif "{" in output:
            self.pattern = output
        else:
            path = Path(output)
            if n > 1:
                self.pattern = str(path.with_name(f"{path.stem}-{index}{path.suffix}"))
            else:
                self.pattern = output.replace("{", "{{").replace("}", "}}")
        self._check_pattern()
        self.ext = self.path(0).suffix.lower().lstrip(".")
        if self.ext not in extensions:
            raise GenkitError(
                f"{generator} cannot write .{self.ext or '(none)'} files; it writes {', '.join('.' + e for e in extensions)}"
            )

    def _check_pattern(self):
        if "\0" in self.pattern:
            raise GenkitError("output names cannot contain a NUL character")
        try:
            parsed = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(self.pattern) if f is not None]
            unknown = {f for f, _, _ in parsed} - _PATTERN_FIELDS
            if unknown:
                raise GenkitError(
                    f"output pattern may use {{i}}, {{seed}} and {{n}} only, not {', '.join(sorted(unknown))}"
                )
            for _, spec, conversion in parsed:
                if conversion:
                    raise GenkitError(
                        f"output pattern {self.pattern!r}: conversions such as !{conversion} are not allowed"
                    )
                _check_field_spec(self.pattern, spec or "")
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
            check_name_length(path)
            if path.is_dir():
                raise GenkitError(f"output {path} is a folder")
            if path.exists() and not overwrite:
                raise GenkitError(f"{path} already exists; pass --overwrite to replace it")


def check_distinct(planned: list[tuple[Path, str]], folders: Sequence[tuple[Path, str]] = ()) -> None:
    """Every name one run will write, checked against the others and the disk before any work.

    ``planned`` are files and ``folders`` folders, each with what it is ("item", "sidecar", "grid").
    Refused: one name planned twice, a file planned where a folder is (planned or on disk), and a
    file or folder planned inside a planned file.
    """
    seen: dict[str, str] = {}
    for path, what in planned:
        key = os.path.normpath(os.path.abspath(path))
        if key in seen:
            raise GenkitError(f"{path} would be written twice by this run (as {seen[key]} and as {what}); rename one")
        seen[key] = what
        if _is_dir(Path(path)):
            raise GenkitError(f"{path} ({what}) is a folder")
    for path, what in folders:
        key = os.path.normpath(os.path.abspath(path))
        if key in seen:
            raise GenkitError(
                f"{path} would be both a file ({seen[key]}) and a folder ({what}) of this run; rename one"
            )
    for path, what in [*planned, *folders]:
        for parent in Path(os.path.normpath(os.path.abspath(path))).parents:
            if str(parent) in seen:
                raise GenkitError(
                    f"{path} ({what}) would lie inside {parent}, a file ({seen[str(parent)]}) of this run"
                )


PATH_MAX = 4096  # Linux's limit on a whole path


def check_path_text(path, what: str) -> None:
    """A path given through the Python API: text the OS can take (the CLI's argv never holds a NUL)."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not isinstance(text, str):
        raise GenkitError(f"{what} must be a path (str or os.PathLike), not {type(path).__name__}")
    if "\0" in text:
        raise GenkitError(f"{what} {text[:60]!r} cannot contain a NUL character")
    if not text.strip():
        raise GenkitError(f"{what} is empty")
    if len(os.fsencode(text)) > PATH_MAX:
        raise GenkitError(f"{what} {text[:40]!r}... is longer than the {PATH_MAX} bytes a path may have")


def check_target(path: Path, overwrite: bool) -> None:
    """One file the Python API's ``save()`` will write: checked like the CLI's outputs, before any work."""
    check_path_text(path, "save() path")
    path = Path(path)
    check_folder(path.parent)
    check_name_length(path)
    if _is_dir(path):
        raise GenkitError(f"output {path} is a folder")
    if path.exists() and not overwrite:
        raise GenkitError(f"{path} already exists; pass overwrite=True to replace it")


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long to look up is not a folder; check_free says why it fails
        return False


def _check_field_spec(pattern: str, spec: str) -> None:
    """Refuse a format spec that could put a separator, NUL or control character into SOME name.

    A field holds a non-negative integer, so besides digits, signs, grouping and hex letters the
    only characters a spec can emit are its fill character and, with type 'c', any character at all.
    """
    if "{" in spec:
        raise GenkitError(f"output pattern {pattern!r}: nested fields in a format spec are not allowed")
    match = _INT_SPEC.match(spec)
    if match is None:
        raise GenkitError(f"output pattern {pattern!r}: {spec!r} is not an integer format (use e.g. {{i:04d}})")
    fill = match.group("fill") or ""
    if fill and (fill in ("/", "\\", os.sep, "\0") or not fill.isprintable()):
        raise GenkitError(f"output pattern {pattern!r} would put path separators or control characters into file names")
    if match.group("width") and int(match.group("width")) > _MAX_WIDTH:
        raise GenkitError(f"output pattern {pattern!r}: a field width over {_MAX_WIDTH} makes names too long")


def check_name_length(path: Path) -> None:
    """Refuse, before any work, a file name longer than its file system accepts."""
    limit = 255
    for parent in [path.parent, *path.parent.parents]:
        if parent.exists():
            with contextlib.suppress(OSError, ValueError, AttributeError):
                limit = os.pathconf(parent, "PC_NAME_MAX")
            break
    size = len(os.fsencode(path.name))
    if size > limit:
        raise GenkitError(f"file name {path.name[:40]}... is {size} bytes; this file system allows {limit}")


def check_folder(folder: Path) -> None:
    """Fail if ``folder`` could not be created or written, without creating anything."""
    folder = Path(folder)
    for parent in [folder, *folder.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise GenkitError(f"cannot create folder {folder}: {parent} is a file")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise GenkitError(
                    f"cannot create folder {folder}: permission denied"
                    if parent != folder
                    else f"cannot write into {folder}: permission denied"
                )
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
        match = _TMP.fullmatch(entry.name)  # "x.tmp\n" is a user's file, not a temporary
        if match and not _pid_alive(int(match.group(1))):
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` still runs (temporaries named after it are still being written)."""
    return _pid_alive(pid)


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
    write_together([(Path(path), data)], overwrite)


def write_together(items: list[tuple[Path, bytes]], overwrite: bool = False) -> None:
    """Write a file and its companions (a sidecar) so that they land together or not at all.

    Every temporary is written and synced first, so a full disk fails before any name is taken;
    then each name is claimed in turn, and if one cannot be, the names this call already placed
    are removed again.
    """
    temporaries: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    current = Path(items[0][0])
    try:
        for path, data in items:
            current = Path(path)
            prepare_folder(current.parent)
            tmp = current.with_name(f".gk-{os.getpid()}-{os.urandom(4).hex()}.tmp")
            temporaries.append((tmp, current))
            with open(tmp, "xb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, path in temporaries:
            current = path
            if overwrite:
                os.replace(tmp, path)
            else:
                _claim(tmp, path)
            placed.append(path)
    except BaseException as exc:
        for path in placed:  # the group lands whole or not at all
            with contextlib.suppress(OSError):
                path.unlink()
        if isinstance(exc, OSError):
            raise _write_error(current, exc) from None
        raise
    finally:
        for tmp, _ in temporaries:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _write_error(path: Path, exc: OSError) -> GenkitError:
    """The one-line error for a failed write of ``path``."""
    if isinstance(exc, FileExistsError):
        return GenkitError(f"{path} already exists; pass --overwrite to replace it")
    if isinstance(exc, PermissionError):
        return GenkitError(f"cannot write {path}: permission denied")
    if exc.errno == errno.ENOSPC:
        return RunError(f"no space left on device while writing {path}; nothing was left half-written")
    if exc.errno == errno.ENAMETOOLONG:
        return GenkitError(f"cannot write {path}: the name is too long for this file system")
    if exc.errno == errno.EISDIR:
        return GenkitError(f"cannot write {path}: it is a folder")
    return RunError(f"cannot write {path}: {exc.strerror or exc}")


def _claim(tmp: Path, path: Path) -> None:
    """Give the complete temporary its final name, failing with FileExistsError if it is taken."""
    try:
        os.link(tmp, path)  # atomic and refuses an existing name
        return
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
    # No hard links here: claim the name with an exclusive create (refuses an existing name), then
    # rename the finished temporary over our own empty placeholder.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        os.replace(tmp, path)
    except BaseException:
        path.unlink(missing_ok=True)  # the placeholder is ours; leave no empty file behind
        raise
