"""`genkit install` / `genkit uninstall`: plugin packages in the environment genkit runs in, as `llm install`.

pip does the work, run as ``sys.executable -m pip`` so the package lands beside this genkit (not in
whatever ``pip`` the shell finds first). Afterwards the plugin cache is emptied and the plugins the
install added are listed, probed afresh in a new process (this one cannot see a new package's path).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Annotated

import typer

from genkit.errors import GenkitError, RunError


def _pip(args: list[str]) -> None:
    from genkit import plugin_probe

    code = subprocess.call([sys.executable, "-m", "pip", *args], stdin=subprocess.DEVNULL)
    plugin_probe.write_cache({})  # what pip changed is probed again on the next command
    if code:
        raise RunError(f"pip {args[0]} failed (exit status {code}; its messages are above)")


def _third_party() -> dict[str, dict]:
    """Third-party plugins as a new genkit process sees them, by plugin name."""
    proc = subprocess.run(
        [sys.executable, "-m", "genkit", "plugins", "--json"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    try:
        rows = json.loads(proc.stdout)["plugins"]
    except (ValueError, KeyError, TypeError):
        return {}
    return {r["name"]: r for r in rows if not r.get("builtin")}


def _identity(row: dict) -> tuple:
    """What an install can change about a plugin (not its import time, nor whether it was cached)."""
    return tuple(str(row.get(k)) for k in ("distribution", "version", "module", "generators", "error"))


def _describe(row: dict) -> str:
    where = f"{row.get('distribution') or row['module']} {row.get('version') or ''}".strip()
    if row.get("error"):
        return f"plugin {row['name']} ({where}) is installed but fails: {row['error']}"
    generators = ", ".join(row.get("generators") or []) or "no generators"
    return f"plugin {row['name']} ({where}): {generators}"


def install_command(
    packages: Annotated[
        list[str] | None,
        typer.Argument(help="Packages as pip takes them (names, files, URLs).", show_default=False),
    ] = None,
    editable: Annotated[
        list[str] | None,
        typer.Option("--editable", "-e", metavar="PATH", help="Install a plugin you are writing, from its folder."),
    ] = None,
    upgrade: Annotated[bool, typer.Option("--upgrade", "-U", help="Upgrade to the newest version.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Less of pip's output.")] = False,
):
    """Install plugin packages into the environment genkit runs in (pip under the hood)."""
    if not packages and not editable:
        raise GenkitError("name a package to install (genkit install genkit-foo, or -e PATH for your own)")
    before = _third_party()
    args = ["install", *(["--upgrade"] if upgrade else []), *(["--quiet"] if quiet else [])]
    for path in editable or []:
        args += ["-e", path]
    _pip(args + list(packages or []))
    after = _third_party()
    changed = [row for name, row in after.items() if name not in before or _identity(row) != _identity(before[name])]
    for row in changed:
        print(_describe(row), file=sys.stderr)
    if not changed:
        print("installed; it added no genkit plugin (genkit plugins lists them)", file=sys.stderr)


def uninstall_command(
    packages: Annotated[list[str], typer.Argument(help="Distribution names, as pip takes them.", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
):
    """Remove plugin packages from the environment genkit runs in (pip under the hood)."""
    from genkit import __distribution__

    if any(p.lower().replace("_", "-") == __distribution__ for p in packages):
        raise GenkitError(
            f"genkit uninstall removes plugins; to remove genkit itself: pip uninstall {__distribution__}"
        )
    _pip(["uninstall", *(["--yes"] if yes else []), *packages])
