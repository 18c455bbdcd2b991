"""`genkit gallery` in a real browser: Debian's chromium, driven by Playwright (never a browser it downloads).

Skipped with the reason where chromium or Playwright is not installed (.ci/run installs both).
Screenshots go to $GENKIT_GALLERY_SCREENSHOTS when set (to look at them), else to the test's tmp folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import run_genkit
from gallery_history import Gallery, small_history  # noqa: F401 (a fixture)

CHROMIUM = os.environ.get("GENKIT_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) and shutil.which(CHROMIUM)),
    reason=f"no chromium at {CHROMIUM} (apt-get install chromium; see .ci/run)",
)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def gallery(small_history):  # noqa: F811
    server = Gallery(small_history["env"], small_history["folder"])
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    opened.dialogs, opened.errors = [], []
    opened.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
    opened.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()


def shoot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("GENKIT_GALLERY_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


DECODED = "[...document.images].map(i => i.complete && i.naturalWidth > 0)"
# An audio element's duration, once its metadata has loaded (NaN before).
DURATIONS = """async () => Promise.all([...document.querySelectorAll('audio')].map(a => a.readyState >= 1
    ? a.duration : new Promise(ok => { a.addEventListener('loadedmetadata', () => ok(a.duration)); a.load(); })))"""
# The number of frames of the first GIF on the page, counted by the browser's own image decoder.
GIF_FRAMES = """async () => {
    const img = [...document.images].find(i => i.src.includes('/file/') && i.alt.endsWith('.gif'));
    const reply = await fetch(img.src);
    const decoder = new ImageDecoder({data: reply.body, type: 'image/gif'});
    await decoder.tracks.ready;
    return decoder.tracks.selectedTrack.frameCount;
}"""


def visible_cards(page) -> list[str]:
    return page.eval_on_selector_all("#grid .card:not(.hidden)", "cards => cards.map(c => c.dataset.run)")


def test_the_grid_shows_every_run_and_the_filters_narrow_it(page, gallery, small_history, tmp_path):  # noqa: F811
    ids = small_history["ids"]
    page.goto(gallery.url)
    page.wait_for_load_state("networkidle")
    assert len(visible_cards(page)) == len(ids)
    decoded = page.evaluate(DECODED)
    assert len(decoded) >= 3 and all(decoded)  # the thumbnails of the pictures, the GIF and the hostile file
    shoot(page, "grid", tmp_path)
    page.select_option("select[name=generator]", "hello")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert sorted(map(int, visible_cards(page))) == sorted([ids["hello"], ids["hostile_file"]])
    page.goto(gallery.url)
    page.fill("input[name=q]", "romeo")
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state("networkidle")
    assert visible_cards(page) == [str(ids["text"])]
    assert not page.dialogs and not page.errors


def test_each_kind_of_file_renders(page, gallery, small_history, tmp_path):  # noqa: F811
    ids = small_history["ids"]
    page.goto(f"{gallery.url}run/{ids['music']}")
    page.wait_for_load_state("networkidle")
    assert all(page.evaluate(DECODED))  # the piano roll
    durations = page.evaluate(DURATIONS)
    assert len(durations) == 2 and all(d > 1 for d in durations)  # the WAV and the MIDI's rendering
    page.click("button.copy[data-copy=rerun]")
    shoot(page, "music", tmp_path)
    page.goto(f"{gallery.url}run/{ids['video']}")
    page.wait_for_load_state("networkidle")
    assert all(page.evaluate(DECODED)) and page.evaluate(GIF_FRAMES) > 1
    shoot(page, "video", tmp_path)
    page.goto(f"{gallery.url}run/{ids['text']}")
    assert len(page.inner_text("pre.text").strip()) > 10
    page.goto(f"{gallery.url}run/{ids['train']}")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("[...document.images].some(i => i.alt === 'loss.png' && i.naturalWidth > 0)")
    assert "mse" in page.inner_text("section.metrics") and "genkit train tiny" in page.inner_text(".kind-text pre")
    shoot(page, "train", tmp_path)
    page.goto(f"{gallery.url}run/{ids['hello']}")
    page.wait_for_load_state("networkidle")
    assert len(page.evaluate(DECODED)) == 2 and all(page.evaluate(DECODED))
    assert not page.dialogs and not page.errors


def test_hostile_names_and_metadata_stay_text(page, gallery, small_history, tmp_path):  # noqa: F811
    ids = small_history["ids"]
    for run_id in (ids["hostile_row"], ids["hostile_file"]):
        page.goto(f"{gallery.url}run/{run_id}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.querySelectorAll('script').length") == 1  # gallery.js only
        assert page.evaluate("document.querySelectorAll('[onerror], [onmouseover], b').length") == 0
    assert "<script>alert(4)</script>" in page.inner_text("body") or "onerror=alert(1)" in page.inner_text("body")
    page.goto(f"{gallery.url}run/{ids['hostile_row']}")
    body = page.inner_text("body")
    assert "<script>alert(4)</script>" in body and "\\u202e" in body and "\u202e" not in body
    shoot(page, "hostile", tmp_path)
    assert not page.dialogs


def test_the_export_works_from_disk(page, small_history, tmp_path):  # noqa: F811
    site = tmp_path / "site"
    run_genkit("gallery", "--export", site, env=small_history["env"], check=0)
    page.goto((site / "index.html").as_uri())
    page.wait_for_load_state("networkidle")
    assert len(visible_cards(page)) == len(small_history["ids"]) and all(page.evaluate(DECODED))
    page.fill("input[name=q]", "romeo")
    assert visible_cards(page) == [str(small_history["ids"]["text"])]  # filtered in the page itself
    page.goto((site / "runs" / f"{small_history['ids']['music']}.html").as_uri())
    page.wait_for_load_state("networkidle")
    assert all(page.evaluate(DECODED)) and all(d > 1 for d in page.evaluate(DURATIONS))
    shoot(page, "export-music", tmp_path)
    assert not page.dialogs and not page.errors
