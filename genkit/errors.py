"""The error convention: a user's mistake exits 2, a failure of the run itself exits 1.

Either one prints a single line ``genkit: error: ...`` unless ``--debug`` asks for the traceback.
"""

from __future__ import annotations

from typing import Any


class GenkitError(Exception):
    """A problem the user can fix (bad option, missing file, existing output): exit code 2."""

    exit_code = 2
    # What a failed run did write (genkit.run sets it), printed by ``--json`` beside the error.
    manifest: dict[str, Any] | None = None


class RunError(GenkitError):
    """The run itself failed (disk full, a plugin crashed while generating): exit code 1."""

    exit_code = 1
