"""`genkit gallery`: browse the history in a web page on this machine, or export it as a static site.

The web stack (Starlette, uvicorn, Jinja2) is imported only when this command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from genkit.errors import GenkitError


def gallery_command(
    port: Annotated[
        int,
        typer.Option("--port", help="Port on 127.0.0.1 (0: any free one; the address is printed).", min=0, max=65535),
    ] = 8765,
    no_open: Annotated[bool, typer.Option("--no-open", help="Do not open a browser.")] = False,
    export: Annotated[
        Path | None, typer.Option("--export", help="Write the gallery as a static site into this new folder, and exit.")
    ] = None,
):
    """Browse every recorded run: pictures, animations, audio, MIDI, text and training runs, with filters and search.

    Served on 127.0.0.1 only, until Ctrl-C. Only files the history records, unchanged since their run, are shown.
    """
    from genkit import history

    database = history.database_path()
    if export is not None:
        from genkit.gallery.export import export as write_site

        count = write_site(database, export)
        print(f"wrote {count} run(s) to {export / 'index.html'}", file=sys.stderr)
        return
    from genkit.gallery.server import serve
    from genkit.history import query

    query.count_runs(database, query.Filters())  # a damaged or newer history: one line here, not a broken page

    def announce(url: str) -> None:
        print(f"genkit gallery: {url} (Ctrl-C to stop)", flush=True)

    try:
        serve(database, port, not no_open, announce)
    except OSError as exc:
        raise GenkitError(f"--port {port}: cannot listen on 127.0.0.1 ({exc.strerror or exc}); try --port 0") from None
