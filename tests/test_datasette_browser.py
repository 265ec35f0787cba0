"""The archive's Datasette pages in a real browser: headless Chromium (the system's, driven by Playwright)
loads the articles table page and an article's row page served by `datasette archive.db -m metadata.json`, and
checks what a reader sees; the screenshots go to docs/datasette.md (docs/datasette-*.png, written again when
SCRAPE_SCREENSHOTS names a directory).

Skipped, with the reason, without Playwright (`pip install -e '.[test]'`) or without a system Chromium
(`apt-get install chromium-headless-shell`, or Debian's `chromium`): no browser is ever downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import MANIFEST, SAMPLES

from scraper.archive import Archive
from scraper.datasette import datasette_metadata
from scraper.ingest import ingest
from scraper.models import FetchResult

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the browser test needs Playwright: pip install -e '.[test]'")
BROWSER = next((path for name in ("chromium-headless-shell", "chromium", "chromium-browser")
                if (path := shutil.which(name))), None)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(BROWSER is None, reason="no system Chromium: apt-get install chromium-headless-shell")]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1100, "height": 800}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The samples in an archive, served by Datasette with the archive's metadata on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("browser")
    path = folder / "archive.db"
    with Archive(path) as archive:
        for number, name in enumerate(sorted(MANIFEST)):
            entry = MANIFEST[name]
            ingest(archive, FetchResult(url=entry["url"], final_url=entry["url"], status=200,
                                        fetched_at=f"2024-05-0{number % 9 + 1}T06:15:00+00:00",
                                        body=(SAMPLES / name).read_bytes(), content_type=entry["content_type"]))
    (folder / "metadata.json").write_text(json.dumps(datasette_metadata(path)), encoding="utf-8")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "datasette", str(path), "-m", str(folder / "metadata.json"),
                               "-h", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_for(port, server)
        yield f"http://127.0.0.1:{port}/archive"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def page(served: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=BROWSER, args=CHROMIUM_FLAGS)
        except sync_api.Error as error:
            pytest.skip(f"the system Chromium ({BROWSER}) does not start: {str(error).splitlines()[0]}")
        yield browser.new_page(viewport=VIEWPORT)
        browser.close()


def test_the_articles_table_page_is_short_newest_first_without_the_heavy_columns(served: str, page: Any) -> None:
    page.goto(f"{served}/articles")
    assert page.locator("th.col-title").is_visible()
    assert not page.locator("th.col-body").is_visible()
    assert not page.locator("th.col-record").is_visible()
    assert not page.locator("td.col-body").first.is_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2500, height  # 10,655 px for 3 rows when body and record were shown whole

    published = page.locator("td.col-published_at").all_inner_texts()
    assert published == sorted(published, reverse=True)
    assert published[0].startswith("2018-03-12T10:45:00+01:00")

    cut = page.evaluate("""[...document.querySelectorAll('td.col-url')].filter(
        (td) => td.scrollWidth > td.clientWidth && getComputedStyle(td).textOverflow === 'ellipsis').length""")
    assert cut >= 1  # long cells end with an ellipsis on one line
    assert page.locator("details.column-descriptions summary").inner_text() == "Columns"
    assert not page.locator("dl.column-descriptions").is_visible()  # folded until asked
    _keep(page, "datasette-articles.png", above=page.locator("table.rows-and-columns"))


def test_an_article_row_page_shows_everything_readably(served: str, page: Any) -> None:
    page.goto(f"{served}/articles?site_id=554402")
    page.locator("td.col-id a").first.click()
    page.wait_for_load_state()
    label = page.evaluate("getComputedStyle(document.querySelector('td.col-title'), '::before').content")
    assert label == '"title"'  # each value under its column's name
    body = page.locator("td.col-body")
    assert body.is_visible()
    assert body.evaluate("(td) => getComputedStyle(td).whiteSpace") == "pre-wrap"
    record = page.locator("td.col-record pre.record-json")  # the whole record, rebuilt by the view
    record.wait_for()
    text = record.inner_text()
    assert text.startswith('{\n  "type": "article",\n  "url": ')
    assert '\n  "authors": [\n    "Marie Dupont",' in text
    _keep(page, "datasette-article.png", below=page.locator("td.col-record"))

def _keep(page: Any, name: str, *, above: Any = None, below: Any = None) -> None:
    """Take a screenshot (it must render) of the page down to the end of `above`, or from a little before
    `below`; keep it in SCRAPE_SCREENSHOTS when that names a directory."""
    width = VIEWPORT["width"]
    if above is not None:
        box = above.bounding_box()
        clip = {"x": 0, "y": 0, "width": width, "height": box["y"] + box["height"] + 16}
    else:
        box = below.bounding_box()
        clip = {"x": 0, "y": max(box["y"] - 130, 0), "width": width, "height": 620}
    folder = os.environ.get("SCRAPE_SCREENSHOTS")
    image = page.screenshot(path=str(Path(folder) / name) if folder else None, full_page=True, clip=clip)
    assert image.startswith(b"\x89PNG")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"datasette stopped with code {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"datasette did not answer on port {port} within {timeout} s")
