"""`genkit gallery` over HTTP: what it serves (only recorded, unchanged files), its headers, its
filters, hostile names as text, the token on the one state-changing request, and the export."""

from __future__ import annotations

import json
import os
import re
import sqlite3

import pytest
from conftest import assert_user_error, run_genkit
from gallery_history import HOSTILE_NAME, Gallery, small_history  # noqa: F401 (a fixture)


@pytest.fixture(scope="module")
def gallery(small_history):  # noqa: F811
    server = Gallery(small_history["env"], small_history["folder"])
    yield server
    server.stop()


def cards(html: bytes) -> list[int]:
    return [int(k) for k in re.findall(rb'data-run="(\d+)"', html)]


def test_every_file_a_run_writes_is_recorded(small_history):  # noqa: F811
    env, ids = small_history["env"], small_history["ids"]
    runs = {r["id"]: r for r in json.loads(run_genkit("logs", "--json", env=env, check=0).stdout)}
    video = runs[ids["video"]]["files"]
    assert video[0].endswith("clip.gif") and sum("/frames/frame_" in f for f in video) >= 2
    music = runs[ids["music"]]["files"]
    assert [os.path.basename(f) for f in music] == ["tune.mid", "tune.wav", "tune.wav.genkit.json"]
    assert runs[ids["text"]]["text"].strip()  # streamed, no file


def test_pages_escape_everything_and_carry_the_policy(gallery, small_history):  # noqa: F811
    status, headers, html = gallery.get("/")
    assert status == 200 and "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert sorted(cards(html)) == sorted(small_history["ids"].values())
    for run_id in (small_history["ids"]["hostile_row"], small_history["ids"]["hostile_file"]):
        page = gallery.get(f"/run/{run_id}")[2] + html
        assert b"<script>alert" not in page and b"<img src=y" not in page and b"<b onmouseover" not in page
        assert b"\xe2\x80\xae" not in page and b"\x1b" not in page  # U+202E and ESC are written as escapes
    page = gallery.get(f"/run/{small_history['ids']['hostile_row']}")[2]
    assert b"&lt;script&gt;alert(4)&lt;/script&gt;" in page and b"w\\u202eeights" in page and b"\\x1b[31m" in page


def test_each_kind_gets_its_element(gallery, small_history):  # noqa: F811
    ids = small_history["ids"]
    music = gallery.get(f"/run/{ids['music']}")[2].decode()
    assert 'class="roll"' in music and music.count("<audio") == 2  # the MIDI rendered, and the WAV
    assert "cd " in music and f"genkit rerun {ids['music']}" in music and "copy" in music
    video = gallery.get(f"/run/{ids['video']}")[2].decode()
    assert video.count("<img") >= 3  # the GIF and its frames
    text = gallery.get(f"/run/{ids['text']}")[2].decode()
    assert '<pre class="text">' in text
    roll = gallery.get(f"/preview/{ids['music']}/0/roll")
    render = gallery.get(f"/preview/{ids['music']}/0/render")
    assert roll[0] == 200 and roll[2][:8] == b"\x89PNG\r\n\x1a\n" and render[2][:4] == b"RIFF"


def test_files_are_served_with_byte_ranges(gallery, small_history):  # noqa: F811
    wav = small_history["folder"] / "tune.wav"
    status, headers, body = gallery.get(f"/file/{small_history['ids']['music']}/1")
    assert status == 200 and body == wav.read_bytes() and headers["content-type"] == "audio/wav"
    status, headers, body = gallery.get(f"/file/{small_history['ids']['music']}/1", {"Range": "bytes=10-19"})
    assert status == 206 and body == wav.read_bytes()[10:20]
    assert headers["content-range"] == f"bytes 10-19/{wav.stat().st_size}"
    for path in ("/file/1/99", "/file/999/0", "/file/1/../../../etc/passwd", "/static/../server.py"):
        assert gallery.get(path)[0] == 404, path


def test_filters_and_search_narrow_the_grid(gallery, small_history):  # noqa: F811
    ids = small_history["ids"]
    assert sorted(cards(gallery.get("/?generator=hello")[2])) == [ids["hello"], ids["hostile_file"]]
    assert cards(gallery.get("/?q=romeo")[2]) == [ids["text"]]
    assert cards(gallery.get("/?seed=2")[2]) == [ids["music"]]
    assert cards(gallery.get("/?q=%22%29%20OR%20%28")[2]) == []  # FTS syntax in a search is just words
    assert cards(gallery.get("/?since=2999-01-01")[2]) == []
    assert b"expected a date" in gallery.get("/?since=tomorrow")[2]


def test_another_host_and_a_request_without_the_token_are_refused(gallery):
    assert gallery.get("/", {"Host": "attacker.example"})[0] == 400  # DNS rebinding
    assert gallery.get("/stop", method="POST")[0] == 403
    assert gallery.get("/stop", {"X-Genkit-Token": "guess"}, method="POST")[0] == 403
    assert gallery.get("/stop")[0] == 405  # GET changes nothing


def test_moved_changed_or_swapped_files_are_shown_as_such_never_served(tmp_path):
    env = {"GENKIT_LOGS_PATH": str(tmp_path / "logs.db"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    run_genkit("hello", "--size", 8, "--n", 4, "--seed", 1, "-o", "out/", "-q", cwd=tmp_path, env=env, check=0)
    out = sorted((tmp_path / "out").iterdir())
    elsewhere = tmp_path / "secret.png"
    elsewhere.write_bytes(out[1].read_bytes())
    out[0].write_bytes(b"changed")  # changed
    out[1].unlink()
    out[1].symlink_to(elsewhere)  # a link swapped in, even to the same bytes
    out[2].unlink()  # moved away
    connection = sqlite3.connect(str(tmp_path / "logs.db"))
    dotted = str(tmp_path / "out" / ".." / "out" / out[3].name)
    connection.execute("UPDATE outputs SET path = ? WHERE position = 3", (dotted,))  # a planted '..'
    connection.commit()
    connection.close()
    server = Gallery(env, tmp_path)
    try:
        assert [server.get(f"/file/1/{k}")[0] for k in range(4)] == [404] * 4
        page = server.get("/run/1")[2].decode()
        assert page.count("changed since the run") == 3 and page.count("missing since the run") == 1
        assert "/file/1/" not in page
    finally:
        server.stop()


def test_export_writes_a_self_contained_site_and_never_into_a_folder_that_holds_one(small_history, tmp_path):  # noqa: F811
    site = tmp_path / "site"
    run_genkit("gallery", "--export", site, env=small_history["env"], check=0)
    ids = small_history["ids"]
    assert sorted(int(p.stem) for p in (site / "runs").glob("*.html")) == sorted(ids.values())
    index = (site / "index.html").read_text()
    assert "Content-Security-Policy" in index and "<script>alert" not in index and "://" not in index
    names = [p.name for p in (site / "files").iterdir()]
    assert names and all(re.fullmatch(r"[0-9a-f]{64}\.[a-z0-9]+", n) for n in names)  # never a user's file name
    music = (site / "runs" / f"{ids['music']}.html").read_text()
    for link in re.findall(r'(?:src|href)="([^":]+)"', music):  # every link but the empty data: icon
        assert (site / "runs" / link).resolve().is_file(), link
    refused = run_genkit("gallery", "--export", site, env=small_history["env"])
    assert_user_error(refused, "already exists")
    assert HOSTILE_NAME not in index


def test_an_older_history_lists_but_its_unhashed_files_are_not_served(tmp_path):
    from test_history_store import version_1_history

    picture = tmp_path / "old.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n an old picture")
    version_1_history(tmp_path / "logs.db", [picture])
    server = Gallery({"GENKIT_LOGS_PATH": str(tmp_path / "logs.db"), "XDG_CACHE_HOME": str(tmp_path)}, tmp_path)
    try:
        assert cards(server.get("/")[2]) == [1]
        assert b"recorded without its sha256" in server.get("/run/1")[2]
        assert server.get("/file/1/0")[0] == 404  # nothing proves it is still what the run wrote
        connection = sqlite3.connect(str(tmp_path / "logs.db"))
        connection.execute("PRAGMA user_version = 99")  # a newer genkit took the history over meanwhile
        connection.commit()
        connection.close()
        status, headers, body = server.get("/")
        assert status == 500 and b"newer genkit" in body and len(body.splitlines()) == 1
        assert "default-src 'none'" in headers["content-security-policy"]
    finally:
        server.stop()
