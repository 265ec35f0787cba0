"""WARC export and import: pages fetched over HTTP from 127.0.0.1 go out as WARC/1.1 and come back the same."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES, SampleSite, run_on_a_terminal, run_scrape
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper.archive import Archive
from scraper.cli import app
from scraper.errors import SourceError
from scraper.fetch import Fetcher, FetchPolicy
from scraper.ingest import ingest
from scraper.models import FetchResult
from scraper.sources import read_local
from scraper.warc import export_warc, import_warc, response_headers, warc_date

HTTP_SAMPLES = (
    "article-smart-city-2018.html", "article-free-2018.html", "article-2016-cp1252.html",
    "dossier-smart-city.html", "dossier-smart-city-page-2.html",
    "listing-club-technicites.html", "listing-club-technicites-page-2.html",
)
REDESIGN_PATH = "/457321/la-smart-city-redesign/"  # the same article after the site's redesign


def fetch_all(archive: Archive, urls: list[str]) -> None:
    """Fetch `urls` over HTTP with the real fetcher and store each page, in order."""
    async def run() -> list[FetchResult]:
        policy = FetchPolicy(delay=0.0, retries=0, obey_robots=False).allowing(*urls)
        async with Fetcher(policy) as fetcher:
            return [await fetcher.fetch(url) for url in urls]

    for result in asyncio.run(run()):
        assert result.error is None, result.error
        ingest(archive, result)


@pytest.fixture
def http_archive(sample_site: SampleSite, db_path: Path, tmp_path: Path) -> Iterator[Archive]:
    """The samples fetched over HTTP (the free article twice: a revisit), the redesign, and one local file."""
    redesign = sample_site.add(REDESIGN_PATH, (SAMPLES / "article-smart-city-redesign.html").read_bytes())
    urls = [sample_site.url(name) for name in HTTP_SAMPLES]
    with Archive(db_path) as archive:
        fetch_all(archive, [*urls, redesign, sample_site.url("article-free-2018.html")])
        saved = tmp_path / "saved-page.html"  # a page saved by hand: not a copy of a fetched body
        saved.write_bytes((SAMPLES / "article-2016-cp1252.html").read_bytes() + b"<!-- saved -->\n")
        ingest(archive, read_local(saved))
        yield archive


def export_to(archive: Archive, path: Path, **options: Any) -> int:
    with path.open("wb") as stream:
        return export_warc(archive, stream, **options)


def read_warc(path: Path) -> list[dict[str, Any]]:
    """Every record of a WARC as a dict (digests are checked while reading: a mismatch raises)."""
    records = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream, check_digests="raise"):
            records.append({
                "type": record.rec_type, "headers": dict(record.rec_headers.headers),
                "version": record.rec_headers.protocol,
                "http": record.http_headers, "content_type": record.content_type,
                "payload": record.content_stream().read(),
            })
    return records


def exportable_fetches(archive: Archive) -> list[dict[str, Any]]:
    return list(archive.db.query(
        "select * from fetch_details where error is null and sha256 is not null order by id"))


# --- export -----------------------------------------------------------------------------------------

def test_every_archived_page_is_in_the_warc_byte_exact(http_archive: Archive, tmp_path: Path) -> None:
    path = tmp_path / "pages.warc.gz"
    fetches = exportable_fetches(http_archive)
    assert export_to(http_archive, path, filename=path.name) == len(fetches) == len(HTTP_SAMPLES) + 3

    records = read_warc(path)
    assert {record["version"] for record in records} == {"WARC/1.1"}
    assert records[0]["type"] == "warcinfo"
    captures = [r for r in records if r["type"] in ("response", "resource", "revisit")]
    assert len(captures) == len(fetches)  # one per fetch, in the order the archive recorded them
    written_bodies = set()
    for fetch, record in zip(fetches, captures, strict=True):
        body = http_archive.bodies.read(fetch["sha256"])
        assert record["headers"]["WARC-Target-URI"] == fetch["final_url"]
        assert record["headers"]["WARC-Date"] == warc_date(fetch["fetched_at"])
        if fetch["sha256"] in written_bodies:
            assert record["type"] == "revisit"  # a later copy of a body already written
            continue
        written_bodies.add(fetch["sha256"])
        assert record["payload"] == body
        assert record["headers"]["WARC-Payload-Digest"].startswith("sha1:")
        if fetch["source"] == "http":
            assert record["type"] == "response"
            assert record["http"].statusline == f"{fetch['status']} OK"
            assert record["http"].get_header("Content-Length") == str(len(body))
            assert record["http"].get_header("Content-Type") == json.loads(fetch["headers"])["content-type"]
        else:
            assert record["type"] == "resource"
            assert record["headers"]["WARC-Target-URI"].startswith("file:")
    assert {http_archive.bodies.read(fetch["sha256"]) for fetch in fetches} == {
        record["payload"] for record in captures if record["type"] != "revisit"}


def test_requests_are_linked_to_their_responses_and_repeats_are_revisits(http_archive: Archive,
                                                                         tmp_path: Path) -> None:
    path = tmp_path / "pages.warc.gz"
    export_to(http_archive, path)
    records = read_warc(path)
    responses = {r["headers"]["WARC-Record-ID"]: r for r in records if r["type"] in ("response", "revisit")}
    requests = [r for r in records if r["type"] == "request"]
    assert len(requests) == len(responses) == len(HTTP_SAMPLES) + 2  # each capture has its request, a revisit too
    for request in requests:
        response = responses[request["headers"]["WARC-Concurrent-To"]]
        assert request["headers"]["WARC-Target-URI"] == response["headers"]["WARC-Target-URI"]
        assert request["headers"]["WARC-Date"] == response["headers"]["WARC-Date"]
        assert request["http"].protocol == "GET"
        assert request["http"].get_header("Host").startswith("127.0.0.1:")
        assert request["http"].get_header("User-Agent").startswith("scrape/")  # the headers as they were sent
        assert request["http"].get_header("Accept-Encoding") == "gzip, deflate"

    [revisit] = [r for r in records if r["type"] == "revisit"]
    first = responses[revisit["headers"]["WARC-Refers-To"]]
    assert revisit["headers"]["WARC-Target-URI"] == first["headers"]["WARC-Target-URI"]
    assert revisit["headers"]["WARC-Refers-To-Target-URI"] == first["headers"]["WARC-Target-URI"]
    assert revisit["headers"]["WARC-Payload-Digest"] == first["headers"]["WARC-Payload-Digest"]
    assert revisit["headers"]["WARC-Profile"].endswith("/1.1/revisit/identical-payload-digest")
    assert revisit["payload"] == b""


def test_decoded_bodies_are_written_without_their_wire_encoding(db_path: Path, tmp_path: Path) -> None:
    """The archive keeps the body with its gzip undone: the record must not claim it is still gzipped."""
    body = (SAMPLES / "article-free-2018.html").read_bytes()
    headers = {"content-type": "text/html; charset=UTF-8", "content-encoding": "gzip",
               "transfer-encoding": "chunked", "content-length": "1234", "etag": '"v1"'}
    with Archive(db_path) as archive:
        archive.fetches.record(FetchResult(
            url="https://www.lagazettedescommunes.com/554402/x/", final_url="https://www.lagazettedescommunes.com/554402/x/",
            status=200, fetched_at="2018-03-13T09:12:00.250000+01:00", headers=headers, body=body))
        path = tmp_path / "pages.warc.gz"
        export_to(archive, path)
    [response] = [r for r in read_warc(path) if r["type"] == "response"]
    assert response["payload"] == body
    assert response["http"].get_header("Content-Encoding") is None
    assert response["http"].get_header("Transfer-Encoding") is None
    assert response["http"].get_header("Content-Length") == str(len(body))
    assert response["http"].get_header("ETag") == '"v1"'
    assert response["headers"]["WARC-Date"] == "2018-03-13T08:12:00.250Z"  # the archive's time, to the millisecond


def test_failed_and_bodiless_fetches_are_not_exported(db_path: Path, tmp_path: Path) -> None:
    with Archive(db_path) as archive:
        url = "https://www.lagazettedescommunes.com/1/x/"
        archive.fetches.record(FetchResult(url=url, status=404, error="HTTP 404", error_class="http_status",
                                         body=b"<h1>Not found</h1>"))
        archive.fetches.record(FetchResult(url=url, status=304))
        archive.fetches.record(FetchResult(url=url, error="timed out", error_class="timeout"))
        path = tmp_path / "pages.warc.gz"
        assert export_to(archive, path) == 0
    assert [r["type"] for r in read_warc(path)] == ["warcinfo"]


def test_since_keeps_the_fetches_of_that_date_and_later(http_archive: Archive, tmp_path: Path) -> None:
    everything = len(exportable_fetches(http_archive))
    assert export_to(http_archive, tmp_path / "all.warc.gz", since="2000-01-01") == everything
    assert export_to(http_archive, tmp_path / "none.warc.gz", since="2999-01-01") == 0


def test_cookies_set_by_the_site_are_never_exported() -> None:
    headers = response_headers(200, {"content-type": "text/html", "set-cookie": "session=secret; HttpOnly"}, 5)
    assert headers.get_header("Set-Cookie") is None
    assert headers.get_header("Content-Type") == "text/html"


def test_a_subscriber_session_is_sent_but_never_exported(sample_site: SampleSite, db_path: Path,
                                                         tmp_path: Path) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tsecret-token\n")
    url = sample_site.url("article-free-2018.html")

    async def fetch() -> FetchResult:
        policy = FetchPolicy(delay=0.0, retries=0, obey_robots=False, cookies_file=cookies).allowing(url)
        async with Fetcher(policy) as fetcher:
            return await fetcher.fetch(url)

    with Archive(db_path) as archive:
        ingest(archive, asyncio.run(fetch()))
        path = tmp_path / "session.warc"
        export_to(archive, path)
        [(sent, request_headers)] = archive.db.execute("select cookies_sent, request_headers from fetch_details")
    assert sent == 1
    assert "User-Agent" in request_headers
    stored = [file.read_bytes() for file in db_path.parent.glob(db_path.name + "*")]  # with -wal, -shm if any
    assert not any(b"secret-token" in data for data in [*stored, path.read_bytes()])
    [request] = [record for record in read_warc(path) if record["type"] == "request"]
    assert request["http"].get_header("Cookie") is None
    assert request["http"].get_header("User-Agent")


def test_a_fetch_recorded_without_its_request_headers_gets_a_request_rebuilt_from_its_url(
        http_archive: Archive, tmp_path: Path) -> None:
    with http_archive.db.conn:
        # as archives before schema 2: no request headers
        http_archive.db.execute("update fetches set request_header_set_id = null, request_header_values = null")
    path = tmp_path / "old.warc.gz"
    export_to(http_archive, path)
    requests = [record for record in read_warc(path) if record["type"] == "request"]
    assert requests
    assert all(record["http"].headers == [("Host", record["http"].get_header("Host"))]
               for record in requests)


def test_response_headers_keep_the_stored_status() -> None:
    headers = response_headers(404, {"content-type": "text/html"}, 5)
    assert headers.protocol == "HTTP/1.1"
    assert headers.statusline == "404 Not Found"
    assert response_headers(299, {}, None).statusline == "299"


# --- import -----------------------------------------------------------------------------------------

def write_record(writer: WARCWriter, uri: str, record_type: str, payload: bytes = b"",
                 http: StatusAndHeaders | None = None, date: str = "2019-04-02T10:00:00Z",
                 content_type: str = "", concurrent_to: ArcWarcRecord | None = None) -> ArcWarcRecord:
    warc_headers = {"WARC-Date": date}
    if concurrent_to is not None:
        warc_headers["WARC-Concurrent-To"] = concurrent_to.rec_headers.get_header("WARC-Record-ID")
    record = writer.create_warc_record(uri, record_type, payload=io.BytesIO(payload), length=len(payload),
                                       http_headers=http, warc_content_type=content_type,
                                       warc_headers_dict=warc_headers)
    writer.write_record(record)
    return record


def http_response(status: str, headers: list[tuple[str, str]]) -> StatusAndHeaders:
    return StatusAndHeaders(status, headers, protocol="HTTP/1.1")


@pytest.fixture
def foreign_warc(tmp_path: Path) -> Path:
    """A WARC as another crawler writes it: warcinfo, requests, a gzipped chunked page, an image, a redirect,
    a revisit, and a saved page as a resource record."""
    site = "https://www.lagazettedescommunes.com"
    free = (SAMPLES / "article-free-2018.html").read_bytes()
    old = (SAMPLES / "article-2016-cp1252.html").read_bytes()
    gzipped = gzip.compress(free)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(gzipped), gzipped)
    path = tmp_path / "other-crawler.warc.gz"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)  # WARC/1.0, as many crawlers still write
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "another-crawler/2.0"}))
        free_uri = f"{site}/554402/la-telegestion-de-leclairage-public-seduit-les-petites-communes/"
        request = write_record(writer, free_uri, "request", http=StatusAndHeaders(
            f"GET {free_uri[len(site):]} HTTP/1.1", [("Host", "www.lagazettedescommunes.com"),
                                                     ("User-Agent", "another-crawler/2.0"), ("Cookie", "sid=42")],
            is_http_request=True))
        page = write_record(writer, free_uri, "response", chunked, http_response("200 OK", [
            ("Content-Type", "text/html; charset=UTF-8"), ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]),
            concurrent_to=request)  # the link on the response, to the request written before it (as wget does)
        write_record(writer, f"{site}/logo.png", "response", b"\x89PNG\r\n\x1a\n....",
                     http_response("200 OK", [("Content-Type", "image/png")]))
        write_record(writer, f"{site}/431208/", "response", b"",
                     http_response("301 Moved Permanently", [("Location", f"{site}/431208/voirie/")]))
        writer.write_record(writer.create_revisit_record(
            free_uri, page.rec_headers.get_header("WARC-Payload-Digest"), free_uri, "2019-04-02T10:00:00Z",
            warc_headers_dict={"WARC-Date": "2019-05-01T00:00:00Z"}))
        write_record(writer, "urn:saved:voirie.html", "resource", old, date="2019-04-03T08:00:00Z",
                     content_type="text/html; charset=iso-8859-1")
    return path


def test_import_stores_the_html_pages_of_another_crawlers_warc(foreign_warc: Path, db_path: Path) -> None:
    with Archive(db_path) as archive:
        outcome = import_warc(archive, foreign_warc)
        titles = [row["title"] for row in archive.db.query("select title from articles order by site_id")]
        fetches = list(archive.db.query(
            "select url, status, fetched_at, source, headers, request_headers from fetch_details order by id"))
        runs = list(archive.db.query("select command, stored, inserted from runs"))
        comments = archive.db.execute("select count(*) from comments").fetchone()[0]

    # the revisit is the free article fetched again, unchanged, a month later: a fetch of its own
    assert outcome.pages == 3
    assert dict(outcome.stored) == {"inserted": 2, "unchanged": 1}
    assert dict(outcome.skipped) == {"warcinfo": 1, "request": 1, "not html": 1, "status 301": 1}
    assert titles == ["Voirie : le coût de l’entretien des chaussées",
                      "La télégestion de l’éclairage public séduit les petites communes"]
    assert comments == 5  # the gzipped, chunked page was decoded and fully parsed
    assert [(f["status"], f["fetched_at"], f["source"]) for f in fetches] == [
        (200, "2019-04-02T10:00:00.000Z", "warc"), (200, "2019-05-01T00:00:00.000Z", "warc"),
        (None, "2019-04-03T08:00:00.000Z", "warc")]
    stored = json.loads(fetches[0]["headers"])  # the crawler's Set-Cookie is not kept: a session, never archived
    assert stored["content-type"] == "text/html; charset=UTF-8"
    assert "set-cookie" not in stored
    assert json.loads(fetches[0]["request_headers"]) == [  # from its request record, without the Cookie
        ["Host", "www.lagazettedescommunes.com"], ["User-Agent", "another-crawler/2.0"]]
    assert runs == [{"command": f"import-warc {foreign_warc.name}", "stored": 3, "inserted": 2}]


def test_importing_a_warc_twice_changes_nothing(foreign_warc: Path, db_path: Path) -> None:
    with Archive(db_path) as archive:
        import_warc(archive, foreign_warc)
        counts = archive.counts()
        again = import_warc(archive, foreign_warc)
        assert again.pages == 0
        assert again.skipped["already archived"] == 3
        assert {k: v for k, v in archive.counts().items() if k != "runs"} == \
            {k: v for k, v in counts.items() if k != "runs"}


def test_a_page_fetched_again_unchanged_comes_back_as_a_fetch_at_its_own_time(db_path: Path, tmp_path: Path
                                                                                 ) -> None:
    body = (SAMPLES / "article-free-2018.html").read_bytes()
    url = "https://www.lagazettedescommunes.com/554402/la-telegestion-de-leclairage-public-seduit-les-petites-communes/"
    with Archive(db_path) as archive:
        for moment in ("2024-03-01T08:00:00Z", "2024-03-08T08:00:00Z"):
            ingest(archive, FetchResult(url=url, final_url=url, status=200, fetched_at=moment, body=body,
                                        headers={"content-type": "text/html; charset=UTF-8"},
                                        content_type="text/html; charset=UTF-8"))
        export_to(archive, tmp_path / "week.warc.gz")
    assert [record["type"] for record in read_warc(tmp_path / "week.warc.gz")].count("revisit") == 1
    with Archive(tmp_path / "copy.db") as copy:
        outcome = import_warc(copy, tmp_path / "week.warc.gz")
        assert dict(outcome.stored) == {"inserted": 1, "unchanged": 1}
        assert "revisit" not in outcome.skipped
        fetches = list(copy.db.execute("select fetched_at, sha256, status from fetches order by id"))
        seen = copy.db.execute("select first_seen_at, last_seen_at from articles").fetchall()
        again = import_warc(copy, tmp_path / "week.warc.gz")
    assert [(moment, status) for moment, _, status in fetches] == [("2024-03-01T08:00:00.000Z", 200),
                                                                  ("2024-03-08T08:00:00.000Z", 200)]
    assert len({sha256 for _, sha256, _ in fetches}) == 1  # one body, named by both fetches
    assert seen == [("2024-03-01T08:00:00.000Z", "2024-03-08T08:00:00.000Z")]
    assert again.pages == 0
    assert again.skipped["already archived"] == 2


def test_a_revisit_whose_capture_the_archive_lacks_or_that_holds_no_body_is_skipped(db_path: Path,
                                                                                    tmp_path: Path) -> None:
    path = tmp_path / "dedup.warc.gz"
    uri = "https://www.lagazettedescommunes.com/554402/la-telegestion/"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(writer.create_revisit_record(  # deduplicated against a crawl this file does not hold
            uri, "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ", uri, "2019-01-01T00:00:00Z",
            http_headers=http_response("200 OK", [("Content-Type", "text/html")]),
            warc_headers_dict={"WARC-Date": "2019-02-01T00:00:00Z"}))
        not_modified = writer.create_revisit_record(
            uri, "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ", uri, "2019-01-01T00:00:00Z",
            http_headers=http_response("304 Not Modified", []), warc_headers_dict={"WARC-Date": "2019-03-01T00:00:00Z"})
        not_modified.rec_headers.replace_header("WARC-Profile", "http://netpreserve.org/warc/1.0/revisit/server-not-modified")
        writer.write_record(not_modified)
    with Archive(db_path) as archive:
        outcome = import_warc(archive, path)
        assert outcome.pages == 0
        assert archive.counts()["fetches"] == 0
    assert dict(outcome.skipped) == {"revisit of a capture not in the archive": 1, "revisit": 1}
    assert outcome.damaged == 0


def test_export_then_import_gives_the_same_articles_and_captures(http_archive: Archive, sample_site: SampleSite,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "pages.warc.gz"
    export_to(http_archive, path)
    original = [(f["final_url"], f["fetched_at"], f["sha256"]) for f in exportable_fetches(http_archive)]
    assert len(set(original)) == len(original)  # fetch times to the millisecond: the free article's two fetches
    with Archive(tmp_path / "fresh.db") as fresh:
        outcome = import_warc(fresh, path, allow_hosts=[sample_site.base])  # the pages were fetched from it
        assert outcome.skipped == {"warcinfo": 1, "request": len(HTTP_SAMPLES) + 2}
        assert list(fresh.articles.records()) == list(http_archive.articles.records())
        for table in ("dossiers", "dossier_articles", "listing_items", "comments", "article_versions", "bodies"):
            assert fresh.counts()[table] == http_archive.counts()[table], table
        copied = [(f["url"], f["fetched_at"], f["sha256"]) for f in exportable_fetches(fresh)]
        assert sorted(copied) == sorted(original)  # each capture, the revisit's too, at its own time


def test_request_headers_come_back_from_scrapes_own_warc(http_archive: Archive, sample_site: SampleSite,
                                                         tmp_path: Path) -> None:
    """scrape's exports write each request after its response (or revisit), linked from the request's side."""
    path = tmp_path / "pages.warc.gz"
    export_to(http_archive, path)
    query = ("select coalesce(final_url, url), sha256, request_headers from fetch_details"
             " where status = 200 and sha256 not null")
    original = {(url, sha256): sent for url, sha256, sent in http_archive.db.execute(query)}
    with Archive(tmp_path / "fresh.db") as fresh:
        import_warc(fresh, path, allow_hosts=[sample_site.base])
        imported = list(fresh.db.execute(query))
        free_url = http_archive.db.execute(
            "select coalesce(final_url, url) from fetches where url like '%/554402/%' limit 1").fetchone()[0]
        captures = [row[0] for row in fresh.db.execute("select fetched_at from fetches where url = ?", [free_url])]
    # Every capture comes back, the free article's two included: their fetch times are to the millisecond (to
    # the second, two fetches in one second looked like one capture to the import, which kept one: 8 or 9).
    assert len(imported) == len(HTTP_SAMPLES) + 2
    assert len(captures) == 2
    assert len(set(captures)) == 2
    assert all(sent is not None and sent == original[url, sha256] for url, sha256, sent in imported)


def many_pages_warc(path: Path, pages: int) -> Path:
    """An uncompressed WARC of `pages` copies of the free article, each at its own URL (about 43 KB each)."""
    body = (SAMPLES / "article-free-2018.html").read_bytes()
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        for number in range(pages):
            write_record(writer, f"https://www.lagazettedescommunes.com/{900000 + number}/page/", "response",
                         body.replace(b"554402", str(900000 + number).encode()),
                         http_response("200 OK", [("Content-Type", "text/html; charset=UTF-8")]))
    return path


def test_import_tells_its_progress_in_bytes_of_the_file(db_path: Path, tmp_path: Path) -> None:
    path = many_pages_warc(tmp_path / "many.warc", 5)
    positions: list[int] = []
    with Archive(db_path) as archive:
        outcome = import_warc(archive, path, progress=positions.append)
    assert outcome.pages == 5
    assert len(positions) == 5
    assert positions == sorted(positions)
    assert positions[-1] == path.stat().st_size


@pytest.mark.slow
def test_import_on_a_terminal_shows_a_progress_bar(db_path: Path, tmp_path: Path) -> None:
    path = many_pages_warc(tmp_path / "many.warc", 30)  # over 1 MB: a bar is worth showing
    code, text = run_on_a_terminal("import-warc", str(path), "--db", str(db_path))
    assert code == 0, text
    assert "import many.warc" in text
    assert "MB" in text  # the bar, counting the file's bytes
    assert "30 pages stored" in text


def test_a_file_that_is_not_a_warc_is_one_clear_error(db_path: Path, tmp_path: Path) -> None:
    with Archive(db_path) as archive:
        with pytest.raises(SourceError, match="not a readable WARC"):
            import_warc(archive, SAMPLES / "article-free-2018.html")
        gzipped_html = tmp_path / "page.warc.gz"
        gzipped_html.write_bytes(gzip.compress(b"<html>not a WARC</html>"))
        with pytest.raises(SourceError, match="not a readable WARC"):
            import_warc(archive, gzipped_html)
        with pytest.raises(SourceError, match="cannot read"):
            import_warc(archive, tmp_path / "missing.warc.gz")


def test_a_record_cut_short_is_skipped_and_the_pages_before_it_are_kept(foreign_warc: Path, db_path: Path,
                                                                         tmp_path: Path) -> None:
    data = gzip.decompress(foreign_warc.read_bytes())
    damaged = tmp_path / "cut.warc"
    damaged.write_bytes(data[:-500])  # the file ends inside the last record's payload
    with Archive(db_path) as archive:
        outcome = import_warc(archive, damaged)
        assert outcome.skipped["truncated"] == 1
        assert outcome.damaged == 1
        assert outcome.pages == 2
        assert archive.counts()["articles"] == 1  # the free article and its revisit


@pytest.mark.parametrize("into", [3, 12, 60])  # bytes into a gzip member: its header, its first deflate block
def test_a_gzip_warc_cut_inside_a_record_is_reported_as_damaged(http_archive: Archive, sample_site: SampleSite,
                                                                tmp_path: Path, db_path: Path, into: int) -> None:
    export_to(http_archive, tmp_path / "pages.warc.gz")
    data = (tmp_path / "pages.warc.gz").read_bytes()
    members = [index for index in range(len(data)) if data.startswith(b"\x1f\x8b\x08", index)]
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[:members[4] + into])  # warcinfo, then two request/response pairs, then the cut
    copy = tmp_path / "copy.db"
    with Archive(copy) as archive:
        outcome = import_warc(archive, cut, allow_hosts=[sample_site.base])
        assert outcome.damaged == 1
        assert outcome.pages == 2  # what came before the cut is kept
    result = CliRunner().invoke(app, ["import-warc", str(cut), "--db", str(tmp_path / "cli.db")])
    assert result.exit_code == 1
    assert "damaged" in result.stderr


def test_a_cut_inside_a_record_that_is_not_a_page_is_damage_too(foreign_warc: Path, db_path: Path,
                                                                 tmp_path: Path) -> None:
    data = gzip.decompress(foreign_warc.read_bytes())
    damaged = tmp_path / "cut-info.warc"
    damaged.write_bytes(data[:data.index(b"software: another-crawler") + 10])  # inside the warcinfo record
    with Archive(db_path) as archive:
        outcome = import_warc(archive, damaged)
        assert outcome.skipped["truncated"] == 1
        assert outcome.damaged == 1


def test_a_record_whose_bytes_do_not_match_its_digest_is_skipped(foreign_warc: Path, db_path: Path,
                                                                 tmp_path: Path) -> None:
    data = gzip.decompress(foreign_warc.read_bytes())
    position = data.index("Voirie : le co".encode("iso-8859-1"))
    damaged = tmp_path / "flipped.warc"
    damaged.write_bytes(data[:position] + b"X" + data[position + 1:])  # same length, one byte changed
    with Archive(db_path) as archive:
        outcome = import_warc(archive, damaged)
        assert outcome.skipped["bad digest"] == 1
        assert outcome.pages == 2


def test_a_record_with_broken_headers_is_counted_as_damage(foreign_warc: Path, db_path: Path,
                                                           tmp_path: Path) -> None:
    data = gzip.decompress(foreign_warc.read_bytes())
    damaged = tmp_path / "broken.warc"
    damaged.write_bytes(data[:data.index(b"WARC-Type: resource") + 40])  # inside the last record's headers
    with Archive(db_path) as archive:
        outcome = import_warc(archive, damaged)
        assert outcome.skipped["unreadable"] == 1
        assert outcome.damaged == 1
        assert outcome.pages == 2


# --- the commands -----------------------------------------------------------------------------------

def test_export_and_import_warc_commands(http_archive: Archive, sample_site: SampleSite, tmp_path: Path) -> None:
    db = Path(http_archive.path)
    exported = run_scrape("export", "--db", db, "--format", "warc", "--output", "out.warc.gz", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert f"{len(exportable_fetches(http_archive))} pages written to out.warc.gz" in exported.stderr
    assert not (tmp_path / "out.warc.gz.part").exists()

    imported = run_scrape("import-warc", "out.warc.gz", "--db", "fresh.db", "--json", "--allow-host", sample_site.base,
                          cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    [report] = json.loads(imported.stdout)
    captures = {(f["final_url"], f["fetched_at"], f["sha256"]) for f in exportable_fetches(http_archive)}
    assert report["pages"] == len(captures)
    assert "revisit" not in report["skipped"]


@pytest.mark.parametrize(("args", "words"), [
    (("export", "--format", "warc"), "--output"),
    (("export", "--format", "warc", "--output", "x.warc.gz", "--free"), "raw pages"),
    (("export", "--format", "warc", "--output", "x.warc.gz", "--since", "soon"), "invalid date"),
    (("import-warc", "missing.warc.gz"), "no such file"),
])
def test_command_errors_are_one_line(http_archive: Archive, tmp_path: Path, args: tuple[str, ...],
                                     words: str) -> None:
    result = run_scrape(*args, "--db", http_archive.path, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.warc.gz").exists()
    assert not (tmp_path / "x.warc.gz.part").exists()


def test_import_command_fails_with_damaged_records_but_keeps_the_rest(foreign_warc: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "cut.warc"
    damaged.write_bytes(gzip.decompress(foreign_warc.read_bytes())[:-500])
    result = run_scrape("import-warc", damaged, "--db", "archive.db", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "1 damaged records" in result.stderr
    assert "Traceback" not in result.stderr
    assert "2 pages stored (1 inserted, 1 unchanged)" in result.stdout
    assert "1 truncated" in result.stdout
