"""The gallery's first page for a 10,000-run history against a 10-run one (goal: under 2x).

Run: python bench/gallery_speed.py [--runs 10000] [--requests 30]. Builds two histories in a temp
folder (rows written the way genkit records them, each run's picture a real PNG), starts
`genkit gallery --port 0 --no-open` on each, and times GET requests once the thumbnails are
cached: the first page, a filtered page, a search and the last page, and one thumbnail of each. A
third history of one full page of runs shows the same cards as the big one's first page, so its
ratio is the cost of the history's size alone. Prints medians and ratios measured in this one run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image

from genkit.history import record, store

GENERATORS = ("image", "music", "text", "video")
WORDS = ["moon", "river", "quiet", "storm", "lantern", "harbour", "orchard", "ember", "winter", "violet"]


def pictures(folder: Path, count: int = 16) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for k in range(count):
        path = folder / f"p{k}.png"
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), (k * 15 % 256, 80, 200 - k * 10)).save(buffer, "PNG")
        path.write_bytes(buffer.getvalue())
        made.append(path)
    return made


def build(db: Path, runs: int, images: list[Path]) -> None:
    """``runs`` rows in one transaction, spread over a year, four generators, searchable words."""
    connection = store.open_for_writing(db)
    now = time.time()
    with store.transaction(connection):
        for k in range(runs):
            generator = GENERATORS[k % len(GENERATORS)]
            prompt = " ".join(WORDS[(k * 7 + j) % len(WORDS)] for j in range(3))
            row = {
                "started": now - (runs - k) * (365 * 86400 / runs),
                "duration": 1.0,
                "command": f"genkit {generator} '{prompt}' --seed {k}",
                "generator": generator,
                "plugin": generator,
                "weights": f"{generator}-default.safetensors",
                "seed": str(k),
                "item_seeds": json.dumps([str(k * 31)]),
                "options": json.dumps({"prompt": prompt}),
                "kind": "generate",
                "status": 0,
                "cwd": str(db.parent),
                "text": prompt if generator == "text" else None,
            }
            record.insert(connection, row, [(str(images[k % len(images)]), "item", 0)])
    connection.close()


class Server:
    def __init__(self, db: Path, cache: Path):
        env = dict(os.environ, GENKIT_LOGS_PATH=str(db), XDG_CACHE_HOME=str(cache))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "genkit", "gallery", "--port", "0", "--no-open"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = re.search(r"http://\S+/", self.process.stdout.readline()).group(0)

    def fetch(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=60) as reply:
            return reply.read()

    def timed(self, path: str) -> tuple[float, str]:
        start = time.perf_counter()
        body = self.fetch(path)
        return time.perf_counter() - start, body.decode(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def median_ms(server: Server, path: str, requests: int) -> tuple[float, float]:
    """(median ms of the page's HTML, median ms of one of its thumbnails), thumbnails already cached.

    A browser fetches the thumbnails in parallel and only as they scroll into view (loading=lazy),
    and a 10,000-run page shows 48 cards where a 10-run one shows 10: so the page and one
    thumbnail are timed, each per request.
    """
    _, html = server.timed(path)
    thumbs = re.findall(r'src="(/preview/[^"]+)"', html)
    for src in thumbs:
        server.fetch(src)  # made and cached
    page = statistics.median(server.timed(path)[0] for _ in range(requests))
    thumb = statistics.median(server.timed(thumbs[k % len(thumbs)])[0] for k in range(requests)) if thumbs else 0
    return 1000 * page, 1000 * thumb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="genkit-gallery-bench-"))
    images = pictures(scratch / "pictures")
    from genkit.gallery.pages import PAGE_SIZE

    # 10 runs (the goal's comparison: fewer cards on the page too) and one full page of runs (the
    # same cards as the big history's first page: what is left is the cost of the history's size).
    sizes = {"small": 10, "page": PAGE_SIZE, "big": args.runs}
    servers = {}
    for name, runs in sizes.items():
        start = time.perf_counter()
        build(scratch / f"{name}.db", runs, images)
        print(f"{name}: {runs} runs recorded in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        servers[name] = Server(scratch / f"{name}.db", scratch / "cache")
    pages = {
        "first page": "/",
        "generator filter": "/?generator=music",
        "search": "/?q=lantern",
        "last page": "/?page=1000000",
    }
    try:
        header = f"{'page':<18} {'10 runs':>8} {f'{PAGE_SIZE} runs':>8} {f'{args.runs} runs':>11}"
        print(header + f" {'ratio to 10':>12} {f'ratio to {PAGE_SIZE}':>12}   (median ms; one thumbnail: 10 / big)")
        for label, path in pages.items():
            (small, small_thumb), (page, _), (big, big_thumb) = (
                median_ms(servers[n], path, args.requests) for n in sizes
            )
            print(
                f"{label:<18} {small:>8.1f} {page:>8.1f} {big:>11.1f} {big / small:>12.2f} {big / page:>12.2f}"
                f"   {small_thumb:.1f} / {big_thumb:.1f}"
            )
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
