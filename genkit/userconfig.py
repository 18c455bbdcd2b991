"""The user's own settings (aliases, defaults): small JSON files in the platform's config folder.

``$XDG_CONFIG_HOME/genkit`` (``~/.config/genkit``) on Linux, ``~/Library/Application Support/genkit``
on macOS, ``%APPDATA%\\genkit`` on Windows; ``GENKIT_CONFIG_DIR`` puts them elsewhere (the tests do).
They are written atomically, so an interrupted ``genkit aliases set`` never leaves half a file.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from genkit.errors import GenkitError

CONFIG_ENV = "GENKIT_CONFIG_DIR"


def config_folder() -> Path:
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "genkit"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "genkit"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "genkit"


def config_file(name: str) -> Path:
    return config_folder() / name


def read(name: str) -> dict:
    """The JSON object in the config file ``name``; {} when there is none; one line if it is damaged."""
    from genkit.reading import read_regular

    path = config_file(name)
    if not path.exists():
        return {}
    raw = read_regular(path, 1 << 20, "config file")  # a FIFO there would block every command that reads it
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise GenkitError(f"{path} is damaged (not a JSON object); fix it or delete it")
    return data


def write(name: str, data: dict) -> Path:
    """Replace the config file ``name`` with ``data`` (atomically); an empty table removes the file."""
    from genkit.files import write_atomic

    path = config_file(name)
    if not data:
        path.unlink(missing_ok=True)
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenkitError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    write_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), overwrite=True)
    return path
