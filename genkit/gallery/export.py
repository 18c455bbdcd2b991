"""`genkit gallery --export DIR`: the gallery as plain files that open from disk or any web host.

Only files that are still what their run wrote are copied, under names made from their sha256
(never from a user's file name); the pages are the server's templates with relative links, and the
filters and search run in the page's script. The site is built beside DIR and renamed into place,
so DIR is either the whole site or not there; an existing DIR is never written into.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from genkit.errors import GenkitError
from genkit.gallery import media, pages, render

EXPORT_PAGE_SIZE = 200  # runs per page: the page's own filters see only the runs on it


@dataclass
class ExportLinks(pages.Links):
    static_site: bool = True
    prefix: str = ""  # "../" on the pages of single runs

    def index(self, page: int = 1, params: dict | None = None) -> str:
        return self.prefix + ("index.html" if page <= 1 else f"page-{page}.html")

    def run(self, run_id: int) -> str:
        return f"{self.prefix}runs/{int(run_id)}.html"

    def file(self, run_id: int, output: dict) -> str:
        return f"{self.prefix}files/{output['sha256']}.{_safe_ext(output)}"

    def preview(self, run_id: int, output: dict, what: str) -> str:
        if what == "thumb" and media.extension(output["path"]) == "svg":
            return self.file(run_id, output)
        return f"{self.prefix}previews/{output['sha256']}-{what}.{'wav' if what == 'render' else 'png'}"

    def static(self, name: str) -> str:
        return f"{self.prefix}static/{name}"


def _safe_ext(output: dict) -> str:
    ext = media.extension(output["path"])
    return ext if ext in media.CONTENT_TYPES else "bin"


def export(database: Path, target: Path) -> int:
    """Write the site into ``target`` (which must not exist yet, or be an empty folder); return the run count."""
    target = Path(target)
    if target.is_symlink() or (target.exists() and (not target.is_dir() or any(target.iterdir()))):
        raise GenkitError(f"--export {target} already exists and is not an empty folder; name a new one")
    if not target.parent.is_dir():
        raise GenkitError(f"--export {target}: no folder {target.parent}")
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", suffix=".tmp", dir=target.parent))
    try:
        count = _build(database, building)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return count


def _build(database: Path, site: Path) -> int:
    for folder in ("runs", "files", "previews", "static"):
        (site / folder).mkdir()
    for name in ("gallery.css", "gallery.js"):
        (site / "static" / name).write_bytes(
            resources.files("genkit.gallery").joinpath("static").joinpath(name).read_bytes()
        )
    context = {"token": None, "database": database.name, "csp": render.EXPORT_CSP}
    listing, page, total = pages.Listing(), 1, 0
    while True:
        listing.page = page
        shown = pages.grid(database, listing, EXPORT_PAGE_SIZE)
        for card in shown["cards"]:
            if card["picture"] is not None and card["picture_state"] == "ok":
                _preview(site, card["picture"], card["preview"])
            _run_page(database, site, card["run"]["id"], context)
        name = "index.html" if page == 1 else f"page-{page}.html"
        (site / name).write_text(render.page("index.html", links=ExportLinks(), **context, **shown), "utf-8")
        total += len(shown["cards"])
        if page >= shown["pages"]:
            return total
        page += 1


def _run_page(database: Path, site: Path, run_id: int, context: dict) -> None:
    shown = pages.detail(database, run_id)
    if shown is None:
        return
    for entry in shown["files"]:
        if entry["state"] != "ok":
            continue
        data = media.verified_bytes(entry["output"])
        if data is None:
            entry["state"] = "changed"
            continue
        (site / "files" / f"{entry['output']['sha256']}.{_safe_ext(entry['output'])}").write_bytes(data)
        if entry["kind"] == "midi":
            _preview(site, entry["output"], "roll")
            _preview(site, entry["output"], "render")
    html = render.page("run.html", links=ExportLinks(prefix="../"), **context, **shown)
    (site / "runs" / f"{int(run_id)}.html").write_text(html, "utf-8")


def _preview(site: Path, output: dict, what: str) -> None:
    if what == "thumb" and media.extension(output["path"]) == "svg":
        data = media.verified_bytes(output)
        if data is not None:
            (site / "files" / f"{output['sha256']}.svg").write_bytes(data)
        return
    make = {"thumb": media.thumbnail, "roll": media.midi_roll, "render": media.midi_audio}[what]
    data = make(output)
    if data is not None:
        name = f"{output['sha256']}-{what}.{'wav' if what == 'render' else 'png'}"
        (site / "previews" / name).write_bytes(data)
