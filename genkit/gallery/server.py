"""The live gallery: a Starlette app over the history, served by uvicorn on 127.0.0.1 only.

Every response carries the Content-Security-Policy; a request whose Host is not this machine's
loopback name is refused (a web page elsewhere cannot reach the server through DNS rebinding);
the only state-changing request (POST /stop) needs the token printed into this server's pages.
Files are served from ``media.verified_bytes``, so only what the history records, unchanged.
"""

from __future__ import annotations

import hmac
import re
import secrets
from importlib import resources
from pathlib import Path

from genkit.errors import GenkitError
from genkit.gallery import media, pages, render

STATIC = ("gallery.css", "gallery.js")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def security_headers(extra: dict | None = None) -> dict:
    return {
        "Content-Security-Policy": render.CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "no-store",
        **(extra or {}),
    }


def byte_range(data: bytes, header: str | None) -> tuple[int, int] | None:
    """(first, last) byte of a single 'bytes=a-b' range within ``data``; None for the whole file."""
    found = _RANGE.match((header or "").strip())
    if not found or not (found.group(1) or found.group(2)):
        return None
    size = len(data)
    if found.group(1):
        first = int(found.group(1))
        last = min(int(found.group(2)), size - 1) if found.group(2) else size - 1
    else:  # 'bytes=-N': the last N bytes
        first, last = max(size - int(found.group(2)), 0), size - 1
    return (first, last) if first <= last else (size, size)


def not_found(what: str):
    from starlette.responses import Response

    return Response(what, 404, media_type="text/plain", headers=security_headers())


def bytes_reply(request, data: bytes, kind: str):
    """The verified bytes, or the one range the browser asked for (audio and video seek by ranges)."""
    from starlette.responses import Response

    wanted = byte_range(data, request.headers.get("range"))
    headers = security_headers({"Accept-Ranges": "bytes", "Content-Disposition": "inline"})
    if kind == "application/octet-stream":
        headers["Content-Disposition"] = "attachment"
    headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    if wanted is None:
        return Response(data, 200, media_type=kind, headers=headers)
    first, last = wanted
    if first >= len(data):
        return Response(b"", 416, headers={**headers, "Content-Range": f"bytes */{len(data)}"})
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(data[first : last + 1], 206, media_type=kind, headers=headers)


def recorded_output(database: Path, request) -> dict | None:
    """The history's record of the file a request names, or None."""
    from genkit.history import query

    run_id, position = request.path_params["run_id"], request.path_params["position"]
    outputs = query.outputs_of(database, [run_id]).get(run_id, [])
    return next((o for o in outputs if o["position"] == position), None)


async def static(request):
    from starlette.responses import Response

    name = request.path_params["name"]
    if name not in STATIC:
        return not_found("no such file")
    data = resources.files("genkit.gallery").joinpath("static").joinpath(name).read_bytes()
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    return Response(data, media_type=kind, headers=security_headers())


async def failure(request, exc):
    """The history went bad while serving: say so in one line."""
    from starlette.responses import Response

    message = " ".join(str(exc).split()) or type(exc).__name__
    return Response(f"genkit gallery: {message}", 500, media_type="text/plain", headers=security_headers())


def stop_handler(token: str, on_stop):
    """POST /stop, the only state-changing request: it needs this server's token."""
    from starlette.responses import Response

    async def stop(request):
        given = request.headers.get("x-genkit-token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return Response("a valid token is needed", 403, media_type="text/plain", headers=security_headers())
        if on_stop is not None:
            on_stop()
        return Response("stopping", 200, media_type="text/plain", headers=security_headers())

    return stop


def create_app(database: Path, token: str | None = None, on_stop=None):
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    token = token or secrets.token_urlsafe(24)
    links = pages.Links()

    def html(template: str, status: int = 200, **context) -> HTMLResponse:
        body = render.page(template, links=links, token=token, database=str(database), csp=render.CSP, **context)
        return HTMLResponse(body, status, headers=security_headers())

    async def index(request):
        listing = pages.Listing.from_params(request.query_params)
        return html("index.html", **pages.grid(database, listing))

    async def run_page(request):
        shown = pages.detail(database, request.path_params["run_id"])
        return html("run.html", **shown) if shown else not_found("no such run")

    async def file(request):
        output = recorded_output(database, request)
        data = media.verified_bytes(output) if output else None
        if output is None or data is None:  # never recorded, moved, changed, or a link now: nothing is served
            return not_found("not a file of this history, or changed since the run")
        return bytes_reply(request, data, media.content_type(output))

    async def preview(request):
        output, what = recorded_output(database, request), request.path_params["what"]
        if output is None:
            return not_found("not a file of this history")
        if what == "thumb" and media.extension(output["path"]) == "svg":
            data, kind = media.verified_bytes(output), "image/svg+xml"
        else:
            make = {"thumb": media.thumbnail, "roll": media.midi_roll, "render": media.midi_audio}.get(what)
            data = make(output) if make else None
            kind = "audio/wav" if what == "render" else "image/png"
        return bytes_reply(request, data, kind) if data is not None else not_found("no preview")

    routes = [
        Route("/", index),
        Route("/run/{run_id:int}", run_page),
        Route("/file/{run_id:int}/{position:int}", file),
        Route("/preview/{run_id:int}/{position:int}/{what:str}", preview),
        Route("/static/{name:str}", static),
        Route("/stop", stop_handler(token, on_stop), methods=["POST"]),
    ]

    hosts = ["127.0.0.1", "localhost"]
    return Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
        exception_handlers={GenkitError: failure},
    )


def serve(database: Path, port: int, open_browser: bool, announce) -> None:
    """Serve until Ctrl-C (or POST /stop); ``announce(url)`` is called once the socket listens."""
    import socket

    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))  # never another interface: the history is the user's own
    listener.listen(64)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    holder: dict = {}
    app = create_app(database, on_stop=lambda: setattr(holder["server"], "should_exit", True))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    holder["server"] = server
    announce(url)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    server.run(sockets=[listener])
