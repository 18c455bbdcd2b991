"""Plain-text tables that fit the terminal: every column keeps its full width except one, the
flexible column (a summary, a command), which is cut with an ellipsis. Names are never cut."""

from __future__ import annotations

import shutil

GAP = "  "


def terminal_width() -> int:
    """$COLUMNS when set, else the terminal's width, else 80 (piped output)."""
    return shutil.get_terminal_size((80, 24)).columns


def fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def render(
    headers: list[str], rows: list[list[str]], flexible: int, width: int | None = None, right: tuple[int, ...] = ()
) -> str:
    """The table as lines no wider than ``width`` (unless the fixed columns alone are wider)."""
    from genkit.printable import printable

    width = width or terminal_width()
    cells = [headers] + [[printable(text) for text in row] for row in rows]  # cells hold outside text
    widths = [max(len(r[k]) for r in cells) for k in range(len(headers))]
    fixed = sum(w for k, w in enumerate(widths) if k != flexible) + len(GAP) * (len(headers) - 1)
    widths[flexible] = max(min(widths[flexible], width - fixed), len(headers[flexible]))
    lines = []
    for row in cells:
        parts = []
        for k, text in enumerate(row):
            text = fit(text, widths[k]) if k == flexible else text
            parts.append(text.rjust(widths[k]) if k in right else text.ljust(widths[k]))
        lines.append(GAP.join(parts).rstrip())
    return "\n".join(lines)
