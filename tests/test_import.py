"""`scrape import`: captures made by real tools (tests/captures/, see its README) give the records `scrape url`
gives for the same pages; only the site's pages are stored; importing twice changes nothing; what a capture lost
or refuses is reported, never stored. Through the real CLI (Typer's runner or a subprocess) and real archives."""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import MANIFEST, SAMPLES, scrape
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper.parse import parse_page

CAPTURES = Path(__file__).resolve().parent / "captures"
# Each capture and the samples it holds (the pages make_captures.py had Chromium, scrape or wacz save).
HOLDS = {
    "browser.har": ["article-smart-city-2018.html", "article-2016-cp1252.html", "dossier-smart-city.html",
                    "listing-club-technicites.html"],
    "article-smart-city.mhtml": ["article-smart-city-2018.html"],
    "article-2016-cp1252.mhtml": ["article-2016-cp1252.html"],
    "site.wacz": ["article-free-2018.html", "dossier-smart-city-page-2.html", "listing-club-technicites-page-2.html"],
    "article-free.singlefile.html": [],  # SingleFile rewrites the page (images as data: URIs): compared below
}
FREE_URL = MANIFEST["article-free-2018.html"]["url"]


def site_records(db: Path) -> dict[str, Any]:
    """Every record of the archive, by URL, without the ids that depend on the order things were stored."""
    with sqlite3.connect(db) as connection:
        def rows(sql: str) -> list[tuple[Any, ...]]:
            return sorted(connection.execute(sql).fetchall(), key=repr)

        return {
            "articles": {url: json.loads(record) for url, record in connection.execute(
                "select url, record from article_records")},
            "dossiers": rows("select url, title, intro from dossiers"),
            "dossier_articles": rows("select dossier_url, page, position, title, url, site_id, is_paywalled"
                                     " from dossier_contents"),
            "listings": rows("select url, title, next_page from listings"),
            "listing_items": rows("select listing_url, position, url, site_id, title, kicker, teaser, is_paywalled,"
                                  " section from listing_items"),
        }


def every_row(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but `runs` (an import is a run), sorted."""
    with sqlite3.connect(db) as connection:
        tables = [name for (name,) in connection.execute(
            "select name from sqlite_master where type = 'table' and name not like 'articles_fts%'"
            " and name not in ('runs', 'sqlite_sequence')")]
        return {table: sorted(connection.execute(f"select * from [{table}]").fetchall(), key=repr) for table in tables}


def scrape_url(db: Path, samples: list[str]) -> None:
    result = scrape("url", *(SAMPLES / name for name in samples), "--db", db)
    assert result.exit_code == 0, result.output


# --- the same records as scrape url -------------------------------------------------------------

@pytest.mark.parametrize("capture", ["browser.har", "article-smart-city.mhtml", "article-2016-cp1252.mhtml",
                                     "site.wacz"])
def test_a_capture_gives_the_records_scrape_url_gives_for_the_same_pages(capture: str, tmp_path: Path) -> None:
    scrape_url(tmp_path / "fetched.db", HOLDS[capture])
    result = scrape("import", CAPTURES / capture, "--db", tmp_path / "imported.db")
    assert result.exit_code == 0, result.output
    imported, fetched = site_records(tmp_path / "imported.db"), site_records(tmp_path / "fetched.db")
    assert imported == fetched
    assert len(imported["articles"]) == sum(name.startswith("article") for name in HOLDS[capture])


def test_a_saved_page_and_a_singlefile_page_give_the_record_scrape_url_gives(tmp_path: Path) -> None:
    for page in (CAPTURES / "article-free.singlefile.html", SAMPLES / "article-free-2018.html"):
        fetched, imported = tmp_path / f"url-{page.name}.db", tmp_path / f"import-{page.name}.db"
        assert scrape("url", page, "--db", fetched).exit_code == 0
        result = scrape("import", page, "--db", imported)
        assert result.exit_code == 0, result.output
        assert site_records(imported) == site_records(fetched)
        assert len(site_records(imported)["articles"]) == 1


def test_the_fetch_log_keeps_each_captures_own_url_status_headers_and_time(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    for capture in ("browser.har", "article-2016-cp1252.mhtml", "article-free.singlefile.html", "site.wacz"):
        assert scrape("import", CAPTURES / capture, "--db", db).exit_code == 0
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        fetches = {(row["source"], row["url"]): row for row in connection.execute("select * from fetch_details")}
    har = json.loads((CAPTURES / "browser.har").read_text(encoding="utf-8"))["log"]["entries"]
    first = fetches["har", har[0]["request"]["url"]]
    assert first["status"] == 200
    assert first["fetched_at"].startswith(har[0]["startedDateTime"][:19])
    assert json.loads(first["headers"])["content-type"] == "text/html; charset=UTF-8"
    assert "HeadlessChrome" in dict(json.loads(first["request_headers"]))["User-Agent"]
    mhtml = fetches["mhtml", MANIFEST["article-2016-cp1252.html"]["url"]]
    assert mhtml["status"] is None
    assert mhtml["fetched_at"].endswith("Z")  # the MHTML's Date, in UTC
    singlefile = fetches["singlefile", FREE_URL]  # the URL of SingleFile's comment, at its saved date
    saved = (CAPTURES / "article-free.singlefile.html").read_text(encoding="utf-8")[:400]
    assert f"saved date: {_js_date(singlefile['fetched_at'])}" in saved
    wacz = fetches["wacz", FREE_URL]
    assert wacz["status"] == 200
    assert json.loads(wacz["request_headers"])  # its request record's headers


def _js_date(stamp: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(stamp).strftime("%a %b %d %Y %H:%M:%S GMT+0000")


# --- only the site's pages; the same capture twice ------------------------------------------------

def test_a_mixed_capture_stores_only_the_sites_pages(tmp_path: Path) -> None:
    """mixed.har: the free article, another site's page with its image and script, a page of evil.example named
    like the free article, a Cloudflare challenge (403) and an Imperva interstitial (200) at URLs of the site."""
    db = tmp_path / "archive.db"
    result = scrape("import", CAPTURES / "mixed.har", "--db", db, "--json")
    [report] = json.loads(result.stdout)
    assert result.exit_code == 1  # the two refusals are pages of the site that were not stored
    assert report["stored"] == {"inserted": 1}
    assert report["skipped"]["refused (blocked)"] == 2
    assert report["skipped"]["other site"] >= 3  # evil.example's page, the other site's page, image, script
    assert list(site_records(db)["articles"]) == [FREE_URL]
    with sqlite3.connect(db) as connection:
        refused = connection.execute("select url, error_class from fetches where error is not null").fetchall()
    assert refused == [(MANIFEST["article-free-2018.html"]["url"].split("/554402")[0] + "/600030/verification/",
                        "blocked")]  # the interstitial, logged; the 403 challenge had no body to keep


def test_another_host_never_touches_the_sites_articles(tmp_path: Path) -> None:
    """Issue 19, item 1: a capture of http://evil.example/554402/pwned/ (and a malformed URL) next to the
    archived free article: the article, its URL and its versions stay as they were."""
    db = tmp_path / "archive.db"
    scrape_url(db, ["article-free-2018.html"])
    before = every_row(db)
    warc = tmp_path / "evil.warc.gz"
    page = (SAMPLES / "article-free-2018.html").read_bytes().replace(b"La t\xc3\xa9l\xc3\xa9gestion", b"Pwned")
    with warc.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for uri in ("http://evil.example/554402/pwned/", "http://[::1/"):
            writer.write_record(writer.create_warc_record(
                uri, "response", payload=io.BytesIO(page), length=len(page),
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=UTF-8")],
                                              protocol="HTTP/1.1")))
    result = scrape("import-warc", warc, "--db", db, "--json")
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.stdout)
    assert report["skipped"] == {"other site": 1, "malformed URL": 1}
    assert report["pages"] == 0
    after = every_row(db)
    for table in ("articles", "article_versions", "article_authors", "comments"):
        assert after[table] == before[table], table


def test_importing_the_same_captures_again_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    captures = [CAPTURES / name for name in (*HOLDS, "mixed.har")]
    first = scrape("import", *captures, "--db", db)
    assert first.exit_code == 1, first.output  # mixed.har's refusals
    before = every_row(db)
    again = scrape("import", *captures, "--db", db, "--json")
    assert every_row(db) == before
    assert all(report["pages"] == 0 for report in json.loads(again.stdout))
    with sqlite3.connect(db) as connection:
        runs = connection.execute("select command, stored from runs order by id").fetchall()
    pages = sum(len(pages) for pages in HOLDS.values()) + 2  # and the SingleFile page, mixed.har's free article
    assert [stored for _, stored in runs] == [pages, 0]
    assert runs[0][0].startswith("scrape import ")
    assert "…" in runs[0][0]  # six files: the line names five


# --- what a capture lost or claims -----------------------------------------------------------------

def test_a_har_entry_whose_body_is_missing_or_cut_is_reported_not_stored(tmp_path: Path) -> None:
    har = json.loads((CAPTURES / "browser.har").read_text(encoding="utf-8"))
    pages = [entry for entry in har["log"]["entries"] if entry["response"]["content"].get("size", 0) > 10_000]
    del pages[0]["response"]["content"]["text"]  # DevTools leaves a body out when it was not kept
    content = pages[1]["response"]["content"]
    content["text"] = content["text"][:len(content["text"]) // 2]  # ... or cuts it
    damaged = tmp_path / "damaged.har"
    damaged.write_text(json.dumps(har), encoding="utf-8")
    result = scrape("import", damaged, "--db", tmp_path / "archive.db", "--json")
    [report] = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["skipped"]["no body"] == 1
    assert report["skipped"]["body cut short"] == 1
    assert report["pages"] == len(HOLDS["browser.har"]) - 2
    stored = site_records(tmp_path / "archive.db")
    assert pages[0]["request"]["url"] not in stored["articles"]
    assert pages[1]["request"]["url"] not in stored["articles"]


def test_an_mhtml_cut_inside_its_page_is_damaged_not_stored(tmp_path: Path) -> None:
    data = (CAPTURES / "article-2016-cp1252.mhtml").read_bytes()
    cut = tmp_path / "cut.mhtml"
    cut.write_bytes(data[:data.index(b"</title>")])  # the file ends inside the page's part
    result = scrape("import", cut, "--db", tmp_path / "archive.db")
    assert result.exit_code == 1
    assert "1 damaged records" in result.stderr
    assert site_records(tmp_path / "archive.db")["articles"] == {}


def future_warc(path: Path, date: str) -> Path:
    return capture_of_the_free_article(path, date)


def test_a_capture_dated_in_the_future_is_refused(tmp_path: Path) -> None:
    """Issue 19, item 2: a capture dated 2099 would win over every later fetch; one a few hours ahead (a clock
    or time zone set wrong) is within the day's skew and stored."""
    from datetime import UTC, datetime, timedelta

    db = tmp_path / "archive.db"
    result = scrape("import", future_warc(tmp_path / "2099.warc", "2099-01-01T00:00:00Z"), "--db", db, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["skipped"] == {"dated in the future": 1}
    assert site_records(db)["articles"] == {}
    soon = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = scrape("import", future_warc(tmp_path / "soon.warc", soon), "--db", db)
    assert result.exit_code == 0, result.output
    assert list(site_records(db)["articles"]) == [FREE_URL]


def capture_of_the_free_article(path: Path, date: str, title: str | None = None) -> Path:
    """The free article as a WARC response captured at `date` (under `title`, when given)."""
    page = (SAMPLES / "article-free-2018.html").read_bytes()
    if title is not None:
        page = page.replace(parse_page(page).title.encode(), title.encode())  # og:title and the feeds' titles
        page = re.sub(rb"(<h1[^>]*>)[^<]*(</h1>)", lambda match: match[1] + title.encode() + match[2], page)
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        writer.write_record(writer.create_warc_record(
            FREE_URL, "response", payload=io.BytesIO(page), length=len(page), warc_headers_dict={"WARC-Date": date},
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")))
    return path


def test_an_older_capture_never_replaces_what_a_newer_one_stored(tmp_path: Path) -> None:
    """Issue 19, item 2: "the latest" is not the last imported. An article archived now, then a 2017 capture of it
    imported: the article keeps today's title and no version is made; it only says it was known since 2017. A
    capture newer than what the archive saw is still an update."""
    title = parse_page((SAMPLES / "article-free-2018.html").read_bytes()).title
    db = tmp_path / "archive.db"
    scrape_url(db, ["article-free-2018.html"])
    result = scrape("import", capture_of_the_free_article(tmp_path / "2017.warc", "2017-06-01T08:00:00Z",
                                                          "Un titre de 2017"), "--db", db)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as connection:
        assert connection.execute("select title, first_seen_at from articles").fetchall() == [
            (title, "2017-06-01T08:00:00.000Z")]
        assert connection.execute("select count(*) from article_versions").fetchone() == (0,)
        assert connection.execute("select count(*) from fetches").fetchone() == (2,)  # the capture is logged

    fresh = tmp_path / "fresh.db"
    for date, text in (("2017-06-01T08:00:00Z", "Un titre de 2017"), ("2018-03-20T08:00:00Z", title)):
        result = scrape("import", capture_of_the_free_article(tmp_path / f"{date[:4]}.warc", date, text),
                        "--db", fresh)
        assert result.exit_code == 0, result.output
    with sqlite3.connect(fresh) as connection:
        assert connection.execute("select title from articles").fetchall() == [(title,)]
        assert connection.execute("select count(*) from article_versions").fetchone() == (1,)


def test_a_page_fetched_now_is_the_newest_whatever_a_capture_claimed(tmp_path: Path) -> None:
    """A capture dated a few hours ahead (within the day's skew) is imported; the live page, fetched afterwards and
    changed, still updates the article: a fetch made now is never taken for an older capture."""
    from datetime import UTC, datetime, timedelta

    from crawlsite import Site, make_articles
    from faultserver import FaultServer

    with FaultServer() as server:
        site = Site(server, articles=make_articles(1, paywalled_every=0))
        site.serve_all()
        article = site.articles[0]
        url, db = site.base + article.path, tmp_path / "archive.db"
        assert scrape("url", url, "--db", db, "--delay", "0").exit_code == 0
        page = site.article_body(article).encode()
        ahead = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        with (tmp_path / "ahead.warc").open("wb") as stream:
            writer = WARCWriter(stream, gzip=False)
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(page), length=len(page), warc_headers_dict={"WARC-Date": ahead},
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")))
        result = scrape("import", tmp_path / "ahead.warc", "--db", db, "--allow-host", f"127.0.0.1:{server.port}")
        assert result.exit_code == 0, result.output
        article.title = "Un titre revu après coup"
        site.serve_article(article)
        result = scrape("url", url, "--db", db, "--delay", "0", "--refresh")
        assert result.exit_code == 0, result.output
        assert "updated" in result.output, result.output
    with sqlite3.connect(db) as connection:
        assert connection.execute("select title from articles").fetchall() == [("Un titre revu après coup",)]


# --- the command line ------------------------------------------------------------------------------

def test_files_are_recognised_by_their_content_not_their_name(tmp_path: Path) -> None:
    renamed = {"browser.har": "capture.json", "article-smart-city.mhtml": "page.html", "site.wacz": "site.zip",
               "article-free.singlefile.html": "page.txt"}
    for name, new in renamed.items():
        shutil.copy(CAPTURES / name, tmp_path / new)
    result = scrape("import", *(tmp_path / new for new in renamed.values()), "--db", tmp_path / "archive.db",
                    "--json")
    assert result.exit_code == 0, result.output
    assert [report["format"] for report in json.loads(result.stdout)] == ["HAR", "MHTML", "WACZ", "SingleFile"]


def test_folders_lists_and_standard_input(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    (folder / "inner").mkdir(parents=True)
    shutil.copy(CAPTURES / "article-smart-city.mhtml", folder / "inner")
    shutil.copy(CAPTURES / "make_captures.py", folder)  # not a capture: left aside
    listed = tmp_path / "list.txt"
    listed.write_text(f"# captures\n{CAPTURES / 'site.wacz'}\n\n", encoding="utf-8")
    db = tmp_path / "archive.db"
    result = scrape("import", folder, "-i", listed, "-", "--db", db,
                    input=(CAPTURES / "article-2016-cp1252.mhtml").read_bytes())
    assert result.exit_code == 0, result.output
    assert "1 files in the folders are not captures" in result.stdout
    assert "standard input (MHTML)" in result.stdout
    expected = {MANIFEST[name]["url"] for name in ("article-smart-city-2018.html", "article-2016-cp1252.html",
                                                    "article-free-2018.html")}
    assert set(site_records(db)["articles"]) == expected
    saved = scrape("import", "-", "--db", db, input=(SAMPLES / "article-free-2018.html").read_bytes())
    assert saved.exit_code == 0
    assert "standard input (HTML)" in saved.stdout
    with sqlite3.connect(db) as connection:  # a saved page from a pipe is read from stdin's URL, as scrape parse - does
        assert connection.execute("select url from fetches order by id desc limit 1").fetchone() == ("file:///dev/stdin",)


def test_import_warc_is_the_same_command_under_its_former_name(tmp_path: Path) -> None:
    result = scrape("import-warc", CAPTURES / "browser.har", "--db", tmp_path / "archive.db")
    assert result.exit_code == 0
    assert "browser.har (HAR)" in result.stdout
    with sqlite3.connect(tmp_path / "archive.db") as connection:
        assert connection.execute("select command from runs").fetchall() == [
            (f"scrape import-warc {CAPTURES / 'browser.har'}",)]
    assert "former name of scrape import" in scrape("import-warc", "--help").stdout


@pytest.mark.parametrize(("args", "words"), [
    (["import", "pyproject.toml"], "not a capture scrape can read"),
    (["import", "missing.har"], "no such file"),
    (["import"], "no file"),
    (["import", "-", "-"], "standard input"),
])
def test_a_usage_error_is_one_line_and_creates_no_archive(args: list[str], words: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "scraper", *args, "--db", str(tmp_path / "new.db")],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "new.db").exists()


def test_a_zip_that_is_not_a_wacz_is_a_usage_error(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as photos:
        photos.writestr("photo.jpg", b"\xff\xd8\xff")
    result = scrape("import", tmp_path / "photos.zip", "--db", tmp_path / "archive.db")
    assert result.exit_code == 2
    assert "not a capture scrape can read" in result.stderr
    assert not (tmp_path / "archive.db").exists()


def test_imported_pages_are_treated_like_fetched_ones(tmp_path: Path) -> None:
    """reparse finds nothing to change; the WARC export holds the HAR's pages as responses with their requests,
    and importing that WARC into a new archive gives the same records."""
    db = tmp_path / "archive.db"
    assert scrape("import", CAPTURES / "browser.har", "--db", db).exit_code == 0
    before = every_row(db)
    reparsed = scrape("reparse", "--db", db, "--jobs", "1")
    assert reparsed.exit_code == 0, reparsed.output
    assert every_row(db)["articles"] == before["articles"]
    exported = scrape("export", "--db", db, "--format", "warc", "--output", tmp_path / "pages.warc.gz")
    assert exported.exit_code == 0, exported.output
    again = scrape("import", tmp_path / "pages.warc.gz", "--db", tmp_path / "copy.db", "--json")
    assert again.exit_code == 0, again.output
    [report] = json.loads(again.stdout)
    assert report["skipped"]["request"] == report["pages"] == len(HOLDS["browser.har"])
    assert site_records(tmp_path / "copy.db") == site_records(db)


# --- the captures can be made again -----------------------------------------------------------------

BROWSER = next((path for name in ("chromium-headless-shell", "chromium", "chromium-browser")
                if (path := shutil.which(name))), None)


@pytest.mark.slow
@pytest.mark.skipif(BROWSER is None, reason="no system Chromium: apt-get install chromium-headless-shell")
def test_the_browser_captures_made_again_give_the_same_records(tmp_path: Path) -> None:
    """make_captures.py run again (Chromium through Playwright, against the samples on 127.0.0.1): its HAR and
    MHTML files give the records the kept ones give."""
    playwright = pytest.importorskip("playwright.sync_api",
                                     reason="the browser captures need Playwright: pip install -e '.[test]'")
    sys.path.insert(0, str(CAPTURES))
    try:
        import make_captures
    finally:
        sys.path.remove(str(CAPTURES))
    with make_captures.serve(make_captures.routes()) as server:
        try:
            make_captures.browse(server, tmp_path)
        except playwright.Error as error:
            if "launch" not in str(error):
                raise
            pytest.skip(f"the system Chromium ({BROWSER}) does not start: {str(error).splitlines()[0]}")
    for name in ("browser.har", "mixed.har", "article-smart-city.mhtml", "article-2016-cp1252.mhtml"):
        made, kept = tmp_path / f"made-{name}.db", tmp_path / f"kept-{name}.db"
        scrape("import", tmp_path / name, "--db", made)
        scrape("import", CAPTURES / name, "--db", kept)
        assert site_records(made) == site_records(kept), name
        assert site_records(made)["articles"], name
