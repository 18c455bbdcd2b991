"""Running genkit as a person at a terminal sees it: stderr on a pseudo-terminal (progress bars show there)."""

from __future__ import annotations

import os
import subprocess
import sys


def in_a_terminal(args, cwd, env=None, stdout=subprocess.DEVNULL) -> tuple[int, str]:
    """Run genkit with stderr on a pseudo-terminal, as a person watching sees it; (exit status, stderr).

    ``stdout`` is where the data goes (an open file to read it afterwards)."""
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "genkit", *map(str, args)],
        stdout=stdout,
        stderr=follower,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=300)
    os.close(leader)
    return proc.returncode, seen.decode(errors="replace")
