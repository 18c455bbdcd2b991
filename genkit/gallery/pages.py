"""What the gallery's templates show, built from the history: a page of run cards, one run in full.

The same data serves the live server and the static export; only the links differ (``Links``).
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

from genkit.gallery import media
from genkit.history import query

PAGE_SIZE = 24  # four rows of six: a page is as quick for 10,000 runs as for one page of them
THUMB_ROLES = ("item", "grid", "plot", "sample", "piano_roll")


@dataclass
class Links:
    """URLs of the live server; the export subclasses it with relative file names."""

    static_site: bool = False

    def index(self, page: int = 1, params: dict | None = None) -> str:
        from urllib.parse import urlencode

        params = {k: v for k, v in (params or {}).items() if v} | ({"page": page} if page > 1 else {})
        return "/" + ("?" + urlencode(params) if params else "")

    def run(self, run_id: int) -> str:
        return f"/run/{int(run_id)}"

    def file(self, run_id: int, output: dict) -> str:
        return f"/file/{int(run_id)}/{int(output['position'])}"

    def preview(self, run_id: int, output: dict, what: str) -> str:
        return f"/preview/{int(run_id)}/{int(output['position'])}/{what}"

    def static(self, name: str) -> str:
        return f"/static/{name}"


@dataclass
class Listing:
    """The filters of one grid page, as typed into the form (strings) and as the history reads them."""

    generator: str = ""
    model: str = ""
    seed: str = ""
    since: str = ""  # YYYY-MM-DD
    until: str = ""
    q: str = ""
    page: int = 1
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params) -> Listing:
        def text(name: str) -> str:
            return str(params.get(name, "") or "")[:500].strip()

        listing = cls(*(text(n) for n in ("generator", "model", "seed", "since", "until", "q")))  # type: ignore[arg-type]  # the six str fields lead
        try:
            listing.page = max(1, min(int(params.get("page", 1)), 1_000_000))
        except (TypeError, ValueError):
            listing.page = 1
        return listing

    def filters(self) -> query.Filters:
        return query.Filters(
            generator=self.generator or None,
            weights=self.model or None,
            seed=self.seed or None,
            since=self._day(self.since, "since"),
            until=self._day(self.until, "until", 86400),
            text=self.q or None,
        )

    def _day(self, text: str, name: str, plus: float = 0.0) -> float | None:
        if not text:
            return None
        try:
            return time.mktime(time.strptime(text, "%Y-%m-%d")) + plus
        except ValueError:
            self.errors.append(f"{name}: expected a date like 2026-05-01")
            return None

    def params(self) -> dict:
        names = ("generator", "model", "seed", "since", "until", "q")
        return {n: getattr(self, n) for n in names if getattr(self, n)}


def when(started: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(started))


def card(run: dict, outputs: list[dict]) -> dict:
    """One run in the grid: its picture (the first picture it wrote) and what to filter it by."""
    picture = next(
        (o for o in outputs if o["role"] in THUMB_ROLES and media.thumbnail_possible(o)),
        None,
    )
    preview = "thumb"
    if picture is None:  # a tune: its piano roll
        picture = next((o for o in outputs if media.kind_of(o) == "midi" and o.get("sha256")), None)
        preview = "roll"
    kinds = sorted({media.kind_of(o) for o in outputs if o["role"] == "item"})
    return {
        "run": run,
        "when": when(run["started"]),
        "picture": picture,
        "preview": preview,
        "picture_state": media.state(picture, thorough=False) if picture else None,
        "kinds": kinds,
        "label": run.get("generator") or run.get("kind") or "run",
        "excerpt": (run.get("text") or "")[:160],
        "search": " ".join(
            str(x) for x in (run["command"], run.get("generator"), run.get("weights"), run.get("text") or "")
        ).lower(),
    }


def grid(database: Path, listing: Listing, page_size: int = PAGE_SIZE) -> dict:
    """A page of run cards, newest first, and what the filter form offers."""
    with query.session(database):
        return _grid(database, listing, page_size)


def _grid(database: Path, listing: Listing, page_size: int) -> dict:
    filters = listing.filters()
    total = query.count_runs(database, filters)
    pages = max(1, -(-total // page_size))
    page = min(listing.page, pages)
    runs = query.read_runs(database, filters, page_size, (page - 1) * page_size)
    outputs = query.outputs_of(database, [r["id"] for r in runs])
    return {
        "cards": [card(r, outputs.get(r["id"], [])) for r in runs],
        "total": total,
        "page": page,
        "pages": pages,
        "listing": listing,
        "generators": query.distinct(database, "generator"),
        "models": query.distinct(database, "weights"),
    }


def reproduce(run: dict) -> str:
    """The shell line that makes this run again where it ran: cd there, then its command re-quoted
    word by word (a planted ``; rm -rf`` becomes one quoted word, never a second command)."""
    from genkit.commands.inspect import safe_command

    command = safe_command(run["command"])
    if command is None:
        return "(not a genkit command line: nothing to copy)"
    folder = run.get("cwd")
    return (f"cd {shlex.quote(folder)} && " if folder else "") + command


def detail(database: Path, run_id: int) -> dict | None:
    """One run in full: every file with its state now and how to show it, its provenance, its text."""
    with query.session(database):
        run = query.read_run(database, run_id)
    if run is None:
        return None
    files = []
    for output in run.get("outputs") or []:
        kind, current = media.kind_of(output), media.state(output)
        shown = {"output": output, "kind": kind, "state": current, "name": Path(output["path"]).name}
        shown["servable"] = (output.get("size") or 0) <= media.MAX_SERVED
        if current == "ok" and kind == "text":
            shown["text"] = media.text_of(output)
        files.append(shown)
    summary = (run.get("extra") or {}).get("summary") or {}
    return {
        "run": run,
        "when": when(run["started"]),
        "files": files,
        "reproduce": reproduce(run),
        "rerun": f"genkit rerun {run['id']}",
        "metrics": summary.get("metrics") or {},
        "summary": {k: v for k, v in summary.items() if k != "metrics"},
        "provenance": {
            k: run.get(k)
            for k in ("generator", "plugin", "weights", "weights_sha256", "seed", "device", "genkit", "cwd")
            if run.get(k) is not None
        },
        "item_seeds": run.get("item_seeds") or [],
        "model": (run.get("extra") or {}).get("model"),
    }
