"""`scrape url`, `scrape parse`, `scrape export` through the real console script (a subprocess), against the
samples served over HTTP on 127.0.0.1 and real SQLite files."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import MANIFEST, SAMPLES, SampleSite, rows, run_scrape
from crawlsite import Site, article_html, make_articles
from faultserver import FaultServer, Respond

from scraper.archive import Archive
from scraper.models import Article, FetchResult

EXPECTED = Path(__file__).resolve().parent / "expected"


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("see: ")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


# --- scrape url -----------------------------------------------------------------------------------

def test_url_stores_local_samples_and_a_second_run_changes_nothing(db_path: Path) -> None:
    pages = [SAMPLES / name for name in MANIFEST if name.endswith(".html")]
    first = run_scrape("url", "--db", db_path, *pages)
    assert first.returncode == 0, first.stderr
    counts = {table: rows(db_path, f"select count(*) from {table}")[0][0]
              for table in ("articles", "dossiers", "dossier_articles", "comments", "authors", "themes", "fetches")}
    assert counts["articles"] == 3
    assert counts["dossiers"] == 1
    assert counts["comments"] == 5

    second = run_scrape("url", "--db", db_path, SAMPLES / "article-free-2018.html", SAMPLES / "dossier-smart-city.html")
    assert second.returncode == 0
    assert "unchanged" in second.stdout
    for table, count in counts.items():
        expected = count + 2 if table == "fetches" else count  # every read is logged, nothing else grows
        assert rows(db_path, f"select count(*) from {table}")[0][0] == expected, table


def test_url_over_http_stores_the_page_and_its_fetch(sample_site: SampleSite, db_path: Path) -> None:
    url = sample_site.url("article-free-2018.html")
    result = run_scrape("url", "--db", db_path, "--delay", "0", url)
    assert result.returncode == 0, result.stderr
    assert "La télégestion de l’éclairage public" in result.stdout
    assert rows(db_path, "select site_id, comments_count from articles") == [(554402, 4)]
    assert rows(db_path, "select status, url from fetches where url not like '%robots.txt'") == [(200, url)]
    assert sample_site.requests[0] == "/robots.txt"  # robots.txt is asked first, and logged like any request
    assert rows(db_path, "select status, sha256 from fetches where url like '%/robots.txt'") == [(200, None)]


def test_url_over_https_trusts_the_authority_named_by_ssl_cert_file(https_sample_site: SampleSite,
                                                                    db_path: Path) -> None:
    url = https_sample_site.url("article-free-2018.html")
    result = run_scrape("url", "--db", db_path, "--delay", "0", url,
                        env={"SSL_CERT_FILE": str(https_sample_site.ca_file)})
    assert result.returncode == 0, result.stderr
    assert url.startswith("https://")
    assert rows(db_path, "select site_id from articles") == [(554402,)]
    assert rows(db_path, "select url, status from fetches order by id") == [
        (https_sample_site.base + "/robots.txt", 200), (url, 200)]


def test_url_over_https_with_an_untrusted_certificate_fails_at_once(https_sample_site: SampleSite,
                                                                    db_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if name not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    result = subprocess.run([sys.executable, "-m", "scraper", "url", "--db", str(db_path), "--delay", "0",
                             "--retries", "3", https_sample_site.url("article-free-2018.html")],
                            capture_output=True, text=True, env=env, timeout=60)
    assert_one_line_error(result, 1, "TLS failed", "certificate verify failed", "SSL_CERT_FILE")
    assert "_ssl.c" not in result.stderr
    page = rows(db_path, "select error_class, retries, status from fetches where url not like '%robots.txt'")
    assert page == [("tls", 0, None)]  # a certificate does not get better with retries
    assert https_sample_site.requests == []  # no request left: the handshake failed
    assert rows(db_path, "select count(*) from articles") == [(0,)]


def test_url_sends_a_user_agent_naming_the_tool_and_the_contact(sample_site: SampleSite, db_path: Path) -> None:
    from scraper import __version__

    result = run_scrape("url", "--db", db_path, "--delay", "0", "--contact", "doc@example.org",
                        sample_site.url("article-free-2018.html"))
    assert result.returncode == 0
    assert sample_site.user_agents
    assert all(f"scrape/{__version__}" in agent and "doc@example.org" in agent
               for agent in sample_site.user_agents)


def test_url_404_and_500_fail_with_exit_1_and_are_in_the_fetch_log(sample_site: SampleSite, db_path: Path) -> None:
    broken = sample_site.add("/500/", b"oops", status=500)
    result = run_scrape("url", "--db", db_path, "--delay", "0", "--retries", "0", sample_site.base + "/missing/",
                        broken)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert sorted(rows(db_path, "select status, error_class from fetches where url not like '%robots.txt'")) == [
        (404, "http_status"), (500, "http_status")]
    assert rows(db_path, "select count(*) from articles") == [(0,)]


def test_url_unreachable_host_fails_with_exit_1(db_path: Path) -> None:
    result = run_scrape("url", "--db", db_path, "--retries", "0", "--timeout", "2", "http://127.0.0.1:9/article/")
    assert result.returncode == 1
    assert rows(db_path, "select url, error_class from fetches order by id") == [
        ("http://127.0.0.1:9/robots.txt", "connect"), ("http://127.0.0.1:9/article/", "connect")]


def test_url_non_html_content_type_is_refused(sample_site: SampleSite, db_path: Path) -> None:
    pdf = sample_site.add("/doc.pdf", b"%PDF-1.4 binary", content_type="application/pdf")
    result = run_scrape("url", "--db", db_path, "--delay", "0", pdf)
    assert result.returncode == 1
    assert rows(db_path, "select error_class from fetches where url like '%doc.pdf'") == [("not_html",)]


@pytest.mark.parametrize(("make", "words"), [
    (lambda tmp: tmp / "nope.html", ("nope.html",)),
    (lambda tmp: tmp, ("directory",)),
    (lambda tmp: _write(tmp / "empty.html", b""), ("empty",)),
    (lambda tmp: _write(tmp / "image.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20), ("binary",)),
])
def test_url_bad_local_sources_are_usage_errors(tmp_path: Path, db_path: Path, make, words) -> None:
    result = run_scrape("url", "--db", db_path, make(tmp_path))
    assert_one_line_error(result, 2, *words)
    assert not db_path.exists()  # nothing was created for nothing


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(("source", "words"), [
    (Path(__file__).parent.parent / "pyproject.toml", "not a page of the site"),
    (SAMPLES / "feed-club-technicites.xml", "this is a feed: use scrape feed"),
    ("<html><head></head><body><p></p></body></html>", "not a page of the site"),
])
def test_url_refuses_what_is_not_a_page_of_the_site(tmp_path: Path, db_path: Path, source: Path | str,
                                                    words: str) -> None:
    if isinstance(source, str):
        source = _write(tmp_path / "blank.html", source.encode())
    result = run_scrape("url", "--db", db_path, source)
    assert result.returncode == 1
    assert words in result.stderr
    assert result.stdout == ""
    assert rows(db_path, "select count(*) from articles") + rows(db_path, "select count(*) from listings") == [
        (0,), (0,)]
    assert rows(db_path, "select error_class, source from fetches") == [("not_html", "file")]  # logged


def test_url_over_http_refuses_a_feed(sample_site: SampleSite, db_path: Path) -> None:
    feed = sample_site.add("/rubriques/club-technicites/feed/", (SAMPLES / "feed-club-technicites.xml").read_bytes(),
                           content_type="application/rss+xml; charset=UTF-8")
    result = run_scrape("url", "--db", db_path, "--delay", "0", feed)
    assert result.returncode == 1
    assert "this is a feed: use scrape feed" in result.stderr


def test_url_runs_are_rows_of_runs(db_path: Path) -> None:
    run_scrape("url", "--db", db_path, SAMPLES / "article-free-2018.html", SAMPLES / "dossier-smart-city.html")
    run_scrape("url", "--db", db_path, SAMPLES / "article-free-2018.html")
    assert rows(db_path, "select command, failed, stored, inserted, unchanged from runs order by id") == [
        (f"scrape url {SAMPLES / 'article-free-2018.html'} {SAMPLES / 'dossier-smart-city.html'}", 0, 2, 2, 0),
        (f"scrape url {SAMPLES / 'article-free-2018.html'}", 0, 1, 0, 1)]
    assert rows(db_path, "select count(*) from fetches where run_id is null") == [(0,)]


def test_url_other_schemes_are_usage_errors(db_path: Path) -> None:
    assert_one_line_error(run_scrape("url", "--db", db_path, "ftp://example.org/x"), 2, "ftp://example.org/x")


def test_url_unwritable_db_is_a_usage_error(tmp_path: Path) -> None:
    assert_one_line_error(run_scrape("url", "--db", tmp_path, SAMPLES / "article-free-2018.html"), 2)
    not_sqlite = _write(tmp_path / "notes.db", b"these are my notes, not a database\n" * 50)
    assert_one_line_error(run_scrape("url", "--db", not_sqlite, SAMPLES / "article-free-2018.html"), 2)
    assert not_sqlite.read_bytes().startswith(b"these are my notes")


def test_failed_page_leaves_the_archive_intact(sample_site: SampleSite, db_path: Path) -> None:
    assert run_scrape("url", "--db", db_path, SAMPLES / "article-free-2018.html").returncode == 0
    before = rows(db_path, "select id, title, body from articles")
    result = run_scrape("url", "--db", db_path, "--delay", "0", "--retries", "0", sample_site.base + "/gone/")
    assert result.returncode == 1
    assert rows(db_path, "select id, title, body from articles") == before
    assert rows(db_path, "pragma integrity_check") == [("ok",)]


def test_a_dossier_page_whose_list_cannot_be_read_is_refused_and_its_list_kept(tmp_path: Path,
                                                                              db_path: Path) -> None:
    assert run_scrape("url", "--db", db_path, SAMPLES / "dossier-smart-city.html").returncode == 0
    before = rows(db_path, "select page, position, site_id from dossier_articles")
    page = tmp_path / "dossier-smart-city.html"
    page.write_bytes((SAMPLES / "dossier-smart-city.html").read_bytes().replace(
        b'class="dossierMainCol pageWrapper__mainContent"', b'class="pageWrapper__sideBar"'))
    result = run_scrape("url", "--db", db_path, page)
    assert_one_line_error(result, 1, "failed", "no article read in the list of", "links to")
    assert rows(db_path, "select page, position, site_id from dossier_articles") == before
    assert rows(db_path, "select error_class from fetches order by id desc limit 1") == [("parse",)]


def test_verbose_shows_a_traceback_for_tool_errors(tmp_path: Path, db_path: Path) -> None:
    result = run_scrape("url", "--db", db_path, "-v", tmp_path / "missing.html")
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_db_defaults_to_scrape_db_env_then_archive_db(tmp_path: Path) -> None:
    env_db = tmp_path / "from-env.db"
    assert run_scrape("url", SAMPLES / "article-free-2018.html", env={"SCRAPE_DB": str(env_db)}).returncode == 0
    assert rows(env_db, "select count(*) from articles") == [(1,)]
    assert run_scrape("url", SAMPLES / "article-free-2018.html", cwd=tmp_path,
                      env={"SCRAPE_DB": ""}).returncode == 0
    assert (tmp_path / "archive.db").exists()


def saved_pages(folder: Path, count: int) -> list[Path]:
    """`count` small article pages of distinct URLs saved in `folder` (the crawl tests' markup)."""
    folder.mkdir()
    paths = []
    for article in make_articles(count, paywalled_every=0):
        path = folder / f"{article.site_id}.html"
        path.write_text(article_html("https://www.lagazettedescommunes.com", article), encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.slow
def test_url_killed_after_some_lines_keeps_every_page_whose_line_was_printed(tmp_path: Path, db_path: Path) -> None:
    paths = saved_pages(tmp_path / "saved", 400)
    listed = tmp_path / "list.txt"
    listed.write_text("".join(f"{path}\n" for path in paths), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "scraper", "url", "-i", str(listed), "--db", str(db_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "COLUMNS": "300"})
    assert process.stdout is not None
    printed = [process.stdout.readline() for _ in range(40)]
    process.kill()  # SIGKILL: no clean-up of any kind
    printed += process.stdout.readlines()  # what had reached the pipe before the kill
    process.wait(timeout=60)

    urls = [line.split()[-1] for line in printed if line.strip()]
    assert len(urls) >= 40
    assert all(url.startswith("https://www.lagazettedescommunes.com/") for url in urls)
    stored = {url for (url,) in rows(db_path, "select url from articles")}
    assert set(urls) <= stored  # every page whose line was printed is in the archive
    assert len(stored) < len(paths)  # killed before the end
    assert rows(db_path, "pragma integrity_check") == [("ok",)]


@pytest.mark.slow
def test_url_list_killed_half_way_keeps_every_printed_page_and_a_rerun_asks_again_only_conditionally(
        tmp_path: Path, db_path: Path) -> None:
    with FaultServer() as server:
        site = Site(server, articles=make_articles(200, paywalled_every=0))
        site.serve_all()
        server.route("/robots.txt", Respond(200, "User-agent: *\nAllow: /\n", content_type="text/plain"))
        listed = tmp_path / "urls.txt"
        listed.write_text("".join(f"{site.base}{article.path}\n" for article in site.articles), encoding="utf-8")
        command = [sys.executable, "-m", "scraper", "url", "-i", str(listed), "--db", str(db_path), "--delay", "0",
                   "--concurrency", "4", "--timeout", "10", "--retries", "0"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                   env={**os.environ, "COLUMNS": "300"})
        hang_guard = threading.Timer(120, process.kill)
        hang_guard.start()
        try:
            assert process.stdout is not None
            printed = [process.stdout.readline() for _ in range(len(site.articles) // 2)]
            process.kill()  # SIGKILL half way: no clean-up of any kind
            printed += process.stdout.readlines()  # what had reached the pipe before the kill
            process.wait(timeout=60)
        finally:
            hang_guard.cancel()

        urls = {line.split()[-1] for line in printed if line.strip()}
        assert len(urls) >= len(site.articles) // 2
        assert all(url.startswith(site.base + "/") for url in urls)
        stored = {url for (url,) in rows(db_path, "select url from articles")}
        assert urls <= stored  # every page whose line was printed is in the archive
        assert len(stored) < len(site.articles)  # killed before the end
        assert rows(db_path, "pragma integrity_check") == [("ok",)]

        asked_before = len(server.requests)
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert len(rows(db_path, "select url from articles")) == len(site.articles)
        again = [request for request in server.requests[asked_before:] if request.path != "/robots.txt"]
        assert len(again) == len(site.articles)  # each URL asked once
        for request in again:  # an archived page is asked only if changed; the rest in full
            assert ("if-none-match" in request.headers) == (site.base + request.path in stored), request.path


# --- scrape parse -----------------------------------------------------------------------------

@pytest.mark.parametrize("sample", [name for name in MANIFEST if name.endswith(".html")])
def test_parse_prints_the_expected_record(sample: str, tmp_path: Path) -> None:
    result = run_scrape("parse", SAMPLES / sample, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = json.loads((EXPECTED / f"{Path(sample).stem}.json").read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == expected
    assert "\\u00e9" not in result.stdout  # accents are not escaped
    assert list(tmp_path.iterdir()) == []  # no archive touched


def test_parse_over_http(sample_site: SampleSite) -> None:
    result = run_scrape("parse", "--compact", sample_site.url("dossier-smart-city.html"))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["type"] == "dossier"
    assert len(record["articles"]) == 6
    assert len(result.stdout.strip().splitlines()) == 1


def test_parse_missing_file() -> None:
    assert_one_line_error(run_scrape("parse", "/no/such/page.html"), 2, "/no/such/page.html")


# --- scrape export ------------------------------------------------------------------------------

@pytest.fixture
def archive(db_path: Path) -> Path:
    pages = [SAMPLES / name for name in ("article-smart-city-2018.html", "article-free-2018.html",
                                         "article-2016-cp1252.html", "dossier-smart-city.html")]
    assert run_scrape("url", "--db", db_path, *pages).returncode == 0
    return db_path


def test_export_json_gives_the_contract_records(archive: Path) -> None:
    result = run_scrape("export", "--db", archive)
    records = {record["site_id"]: record for record in json.loads(result.stdout)}
    for sample in ("article-smart-city-2018", "article-free-2018", "article-2016-cp1252"):
        expected = json.loads((EXPECTED / f"{sample}.json").read_text(encoding="utf-8"))
        record = records[expected["site_id"]]
        seen = (record.pop("first_seen_at"), record.pop("last_seen_at"))  # when the archive fetched it, after
        assert record == expected
        assert all(moment.endswith(("+01:00", "+02:00")) for moment in seen)


def test_export_jsonl_and_filters(archive: Path, tmp_path: Path) -> None:
    output = tmp_path / "free.jsonl"
    result = run_scrape("export", "--db", archive, "--format", "jsonl", "--free", "--output", output)
    assert result.returncode == 0
    lines = output.read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["site_id"] for line in lines) == [431208, 554402]
    paywalled = json.loads(run_scrape("export", "--db", archive, "--paywalled").stdout)
    assert [record["site_id"] for record in paywalled] == [457321]
    in_dossier = json.loads(run_scrape("export", "--db", archive, "--dossier", "smart city").stdout)
    assert [record["site_id"] for record in in_dossier] == [457321]
    since = json.loads(run_scrape("export", "--db", archive, "--since", "2018-01-01").stdout)
    assert [record["site_id"] for record in since] == [554402]


def test_export_csv_has_flat_columns_with_lists_joined(archive: Path) -> None:
    result = run_scrape("export", "--db", archive, "--format", "csv")
    table = {row["site_id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert table["554402"]["authors"] == "Marie Dupont; Jean-Marc Le Goff"
    assert table["457321"]["dossier_title"] == "Smart city : les clés de la ville intelligente"


def test_export_bad_inputs(tmp_path: Path, archive: Path) -> None:
    assert_one_line_error(run_scrape("export", "--db", tmp_path / "none.db"), 2, "none.db")
    assert_one_line_error(run_scrape("export", "--db", archive, "--format", "xml"), 2, "xml")
    assert_one_line_error(run_scrape("export", "--db", archive, "--since", "last week"), 2, "last week")
    assert_one_line_error(run_scrape("export", "--db", archive, "--output", tmp_path / "no" / "dir" / "x.json"), 2)


def test_help_texts_have_examples() -> None:
    for command in ("url", "parse", "export"):
        result = run_scrape(command, "--help")
        assert result.returncode == 0, command
        assert "Example" in result.stdout, command


# --- export: where the output goes ------------------------------------------------------------------

def test_export_output_dash_is_stdout_and_creates_no_file(archive: Path, tmp_path: Path) -> None:
    result = run_scrape("export", "--db", archive, "--format", "jsonl", "--output", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3
    assert not (tmp_path / "-").exists()


def test_export_refuses_to_overwrite_a_file_unless_force(archive: Path, tmp_path: Path) -> None:
    output = tmp_path / "articles.json"
    output.write_text("my notes\n", encoding="utf-8")

    assert_one_line_error(run_scrape("export", "--db", archive, "--output", output), 2, str(output), "--force")
    assert output.read_text(encoding="utf-8") == "my notes\n"

    result = run_scrape("export", "--db", archive, "--output", output, "--force")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(output.read_text(encoding="utf-8"))) == 3
    assert "3 articles written to" in result.stderr


def test_export_to_a_full_disk_is_one_line_and_exit_1(archive: Path) -> None:
    result = run_scrape("export", "--db", archive, "--output", "/dev/full")
    assert_one_line_error(result, 1, "/dev/full", "No space left on device")


def _file_size_limit(limit: int) -> None:
    """In the child: files cannot grow past `limit` bytes (writes fail with EFBIG, as on a full disk)."""
    import resource
    import signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.fixture
def big_archive(db_path: Path) -> Path:
    """60 articles of 4 KB each: their export is ~250 KB, larger than the archive's shared-memory file."""
    with Archive(db_path) as archive:
        for number in range(60):
            url = f"https://www.lagazettedescommunes.com/{700000 + number}/article-{number}/"
            archive.records.store(Article(url=url, title=f"Article {number}", site_id=700000 + number,
                                         body="Un paragraphe du corps de l’article. " * 110))
            archive.fetches.record(FetchResult(url=url, final_url=url, status=200, fetched_at="2024-01-01T00:00:00Z",
                                             body=f"<html><body>{random.Random(number).randbytes(3000).hex()}</body></html>".encode(),
                                             content_type="text/html"))
    return db_path


@pytest.mark.parametrize("format", ["json", "csv", "warc"])
def test_export_failing_midway_leaves_no_partial_file_and_the_old_one_intact(big_archive: Path, tmp_path: Path,
                                                                              format: str) -> None:
    output = tmp_path / f"articles.{format}"
    output.write_text("the previous export\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "scraper", "export", "--db", str(big_archive), "--format", format,
                             "--output", str(output), "--force"], capture_output=True, text=True, timeout=60,
                            preexec_fn=lambda: _file_size_limit(64 * 1024))
    assert_one_line_error(result, 1, str(output), "nothing was written")
    assert output.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(output.name[:8])) == [output.name]


def test_export_of_a_dossier_that_matches_none_says_so(archive: Path, tmp_path: Path) -> None:
    output = tmp_path / "none.json"
    assert_one_line_error(run_scrape("export", "--db", archive, "--dossier", "nomatch"), 2, "no dossier", "nomatch")
    assert_one_line_error(run_scrape("export", "--db", archive, "--dossier", "nomatch", "--output", output), 2,
                          "no dossier")
    assert not output.exists()


# --- export: files people open ----------------------------------------------------------------------

def test_export_excel_csv_opens_with_accents_and_columns(archive: Path, tmp_path: Path) -> None:
    output = tmp_path / "articles.csv"
    assert run_scrape("export", "--db", archive, "--format", "csv", "--excel", "--output", output).returncode == 0
    data = output.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfurl;site_id;")
    table = {row["site_id"]: row for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                                                             delimiter=";")}
    assert table["554402"]["title"] == "La télégestion de l’éclairage public séduit les petites communes"
    assert_one_line_error(run_scrape("export", "--db", archive, "--excel"), 2, "--excel")


def test_export_markdown_one_file_per_article_into_a_directory(archive: Path, tmp_path: Path) -> None:
    result = run_scrape("export", "--db", archive, "--format", "markdown", "--output", "notes/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3 articles written to notes/" in result.stderr
    files = sorted((tmp_path / "notes").iterdir())
    assert [path.name.split("-")[0] for path in files] == ["431208", "457321", "554402"]
    text = files[2].read_text(encoding="utf-8")
    assert text.startswith('---\ntitle: "La télégestion de l’éclairage public séduit les petites communes"\n')
    assert "\n---\n\n# La télégestion de l’éclairage public séduit les petites communes\n" in text
    assert "- Publié le : 2018-03-12 10:45 (UTC+01:00)\n" in text
    assert "- Auteurs : Marie Dupont; Jean-Marc Le Goff\n" in text
    again = run_scrape("export", "--db", archive, "--format", "markdown", "--output", "notes/", cwd=tmp_path)
    assert_one_line_error(again, 2, "not empty", "--force")


def test_export_txt_is_one_document_on_stdout(archive: Path) -> None:
    result = run_scrape("export", "--db", archive, "--format", "txt", "--dossier", "smart city")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("La Smart city à la recherche de modèles économiques\n=====")
    assert re.search(r"^Source : https?://www\.lagazettedescommunes\.com/457321/", result.stdout, re.MULTILINE)
    assert re.search(r"^Archivé le : \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+0[12]:00\)", result.stdout, re.MULTILINE)


# --- pages of other sites --------------------------------------------------------------------------

NATIONAL_DAILY = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Les villes face au climat</title>
<link rel="canonical" href="https://www.quotidien-national.example/planete/article/2024/05/02/les-villes_1.html">
<meta property="og:type" content="article"><meta property="article:published_time" content="2024-05-02T06:00:00+02:00">
</head><body><article><h1>Les villes face au climat</h1><p class="byline">Par Jeanne Martin</p>
<p>Publié le 2 mai 2024 à 06h00</p><p>Les communes adaptent leurs voiries aux fortes chaleurs.</p></article>
</body></html>"""
BLOG_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Mon blog de voirie</title>
<link rel="canonical" href="https://blog-voirie.example/2023/12/un-billet/"></head><body><main>
<h1>Un billet sur les nids-de-poule</h1><p>Posted on December 3, 2023 by Paul</p><p>Texte du billet.</p>
</main></body></html>"""


@pytest.mark.parametrize("page", [NATIONAL_DAILY, BLOG_PAGE], ids=["national daily", "blog"])
def test_a_saved_page_of_another_site_is_refused_and_never_reaches_the_canary(db_path: Path, tmp_path: Path,
                                                                              page: str) -> None:
    saved = tmp_path / "page.html"
    saved.write_text(page, encoding="utf-8")
    first = run_scrape("url", SAMPLES / "article-free-2018.html", "--db", db_path)
    assert first.returncode == 0, first.stderr

    result = run_scrape("url", saved, "--db", db_path)

    assert result.returncode == 1, result.stderr
    assert "not a page of the site: https://" in result.stderr, result.stderr
    assert "markup may have changed" not in result.stderr
    assert rows(db_path, "select count(*) from articles") == [(1,)]
    assert rows(db_path, "select count(*) from canary_flags") == [(0,)]
    assert rows(db_path, "select error_class from fetches order by id desc limit 1") == [("not_html",)]
