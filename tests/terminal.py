"""Running genkit as a person at a terminal sees it: stderr on a pseudo-terminal (progress bars show there)."""

from __future__ import annotations

import os
import subprocess
import sys


def in_a_terminal(args, cwd, env=None) -> tuple[int, str]:
    """Run genkit with stderr on a pseudo-terminal, as a person watching sees it; (exit status, stderr)."""
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "genkit", *map(str, args)],
        stdout=subprocess.DEVNULL,
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
