"""`scrape dossier`, `scrape listing`, `scrape feed` through real sockets on 127.0.0.1.

The bundled samples link to www.lagazettedescommunes.com; `site` serves them with those links pointing
at the test server (the test rewrites the pages it serves, the crawler rewrites nothing), plus generated
pages for the articles the samples list but do not include.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import SampleSite, rows, run_on_a_terminal, scrape
from crawlsite import PAGE_ROWS, GenArticle, Site, article_html, cached, feed_xml, listing_html, make_articles
from faultserver import FaultServer, Request, Respond
from typer.testing import CliRunner

from scraper.archive import Archive
from scraper.cli import app
from scraper.crawl import CrawlOptions, run_crawl
from scraper.errors import InvalidDate, InvalidOption
from scraper.feed import parse_feed
from scraper.fetch import FetchPolicy
from scraper.parse import parse_page

REAL_HOSTS = (b"http://www.lagazettedescommunes.com", b"https://www.lagazettedescommunes.com")
FAST = ["--delay", "0", "--timeout", "5", "--retries", "0"]
DOSSIER = "/dossiers/smart-city-les-cles-de-la-ville-intelligente/"
LISTING = "/rubriques/club-technicites/"
FEED = "/rubriques/club-technicites/feed/"


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture
def site(sample_site: SampleSite) -> SampleSite:
    """The samples with their links on the test server, and a generated page for every listed article
    that has no sample."""
    return _on_test_server(sample_site)


@pytest.fixture
def https_site(https_sample_site: SampleSite, monkeypatch: pytest.MonkeyPatch) -> SampleSite:
    """`site` over HTTPS, its certificate authority trusted the way a user trusts a private one."""
    monkeypatch.setenv("SSL_CERT_FILE", str(https_sample_site.ca_file))
    return _on_test_server(https_sample_site)


def _on_test_server(sample_site: SampleSite) -> SampleSite:
    base = sample_site.base.encode()
    for path, (status, content_type, body) in list(sample_site.routes.items()):
        for host in REAL_HOSTS:
            body = body.replace(host, base)
        sample_site.routes[path] = (status, content_type, body)
    for path in (DOSSIER, f"{DOSSIER}page/2/", LISTING, f"{LISTING}page/2/"):
        record = parse_page(sample_site.routes[path][2], sample_site.base + path)
        dossier = (sample_site.base + DOSSIER, record.title) if path.startswith(DOSSIER) else None
        for item in record.articles:
            _serve_generated(sample_site, item.url, item.title, item.is_paywalled, dossier=dossier)
    for item in parse_feed(sample_site.routes[FEED][2], sample_site.base + FEED).items:
        _serve_generated(sample_site, item.url, item.title, False, item.published_at)
    return sample_site


def _serve_generated(site: SampleSite, url: str, title: str, paywalled: bool, published: str | None = None,
                     dossier: tuple[str, str] | None = None) -> None:
    path = urlsplit(url).path
    if path in site.routes:
        return
    site_id, slug = path.strip("/").split("/", 1)
    article = GenArticle(int(site_id), title, paywalled=paywalled, slug=slug,
                         **({"published": published} if published else {}))
    site.add(path, article_html(site.base, article, dossier=dossier).encode())


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault_server:
        fault_server.route("/robots.txt", Respond(200, "User-agent: *\nDisallow: /wp-admin/\n",
                                                  content_type="text/plain"))
        yield fault_server


def article_requests(site: SampleSite) -> list[str]:
    return [path for path in site.requests if path.strip("/").split("/")[0].isdigit()]


# --- scrape dossier -----------------------------------------------------------------------------

def test_dossier_stores_every_page_of_the_toc_in_order_then_every_article(site: SampleSite, db_path: Path) -> None:
    result = scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST)

    assert result.exit_code == 0, result.stderr
    assert rows(db_path, "select url, title from dossiers") == [
        (site.base + DOSSIER, "Smart city : les clés de la ville intelligente")]
    toc = rows(db_path, "select page, position, site_id, article_id is not null from dossier_articles"
                        " order by page, position")
    assert [(page, position) for page, position, _, _ in toc] == [(1, i) for i in range(1, 7)] + [
        (2, i) for i in range(1, 5)]
    assert toc[0][2] == 457321
    assert toc[-1][2] == 457866
    assert all(linked for *_, linked in toc), "every TOC item is linked to its archived article"
    assert rows(db_path, "select count(*) from articles")[0][0] == 10
    linked = rows(db_path, "select count(*) from articles join dossiers on dossiers.id = articles.dossier_id")
    assert linked[0][0] == 10
    # every request the server answered, robots.txt included, is a row of the fetch log, in this run
    assert rows(db_path, "select count(*), count(distinct run_id) from fetches") == [(len(site.requests), 1)]
    assert rows(db_path, "select status from fetches where url like '%/robots.txt'") == [(200,)]
    assert "stored (new)" in result.stdout


def test_dossier_over_https(https_site: SampleSite, db_path: Path) -> None:
    result = scrape("dossier", https_site.base + DOSSIER, "--db", str(db_path), *FAST)

    assert result.exit_code == 0, result.stderr
    assert https_site.base.startswith("https://")
    assert rows(db_path, "select count(*) from articles join dossiers on dossiers.id = articles.dossier_id") == [(10,)]
    assert rows(db_path, "select count(*), sum(url like 'https://%'), sum(status = 200) from fetches") == [
        (len(https_site.requests), len(https_site.requests), len(https_site.requests))]


def test_dossier_given_one_of_its_articles(site: SampleSite, db_path: Path) -> None:
    article = site.base + "/457321/la-smart-city-a-la-recherche-de-modeles-economiques/"

    result = scrape("dossier", article, "--db", str(db_path), *FAST, "--json")

    assert result.exit_code == 0, result.stderr
    assert rows(db_path, "select count(*) from dossier_articles where article_id is not null")[0][0] == 10
    assert "belongs to the dossier" in result.stderr
    assert site.requests.count("/457321/la-smart-city-a-la-recherche-de-modeles-economiques/") == 1


def test_dossier_rerun_fetches_the_toc_but_no_archived_article(site: SampleSite, db_path: Path) -> None:
    assert scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST).exit_code == 0
    site.requests.clear()

    result = scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST, "--json")

    assert result.exit_code == 0
    assert article_requests(site) == []
    assert sorted(set(site.requests) - {"/robots.txt"}) == [DOSSIER, f"{DOSSIER}page/2/"]
    assert json.loads(result.stdout)["pages"]["skipped"] == 10


def test_refresh_gets_only_304s_and_downloads_no_body(server: FaultServer, db_path: Path) -> None:
    site = Site(server, articles=make_articles(30), per_page=12)
    site.serve_all()
    first = scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST, "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["requests"]["fetched"] == 33
    before = len(server.requests)

    result = scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST, "--json", "--refresh")

    assert result.exit_code == 0, result.stderr
    second = [r for r in server.requests[before:] if r.path != "/robots.txt"]
    assert len(second) == 33
    assert all(r.headers.get("if-none-match") for r in second)
    assert sum(r.bytes_sent for r in second) == 0
    summary = json.loads(result.stdout)
    assert summary["requests"] == {"fetched": 0, "not_modified": 33, "failed": 0, "blocked": 0, "retried": 0,
                                   "bytes": 0}
    run = rows(db_path, "select max(id) from runs")[0][0]
    assert rows(db_path, f"select status, sum(bytes), count(*) from fetches where run_id = ? and {PAGE_ROWS}"
                         " group by status", (run,)) == [(304, 0, 33)]
    assert rows(db_path, "select count(*) from article_versions")[0][0] == 0


def test_a_crawl_past_the_first_dictionary_suggests_compact_until_it_has_run(server: FaultServer,
                                                                             db_path: Path) -> None:
    site = Site(server, articles=make_articles(240), per_page=60)
    site.serve_all()
    result = scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST)
    assert result.exit_code == 0, result.stderr
    # the pages stored before the archive had its first dictionary (200) would shrink; the hint says so, once
    plain = rows(db_path, "select count(*) from bodies where dictionary_id is null")[0][0]
    assert plain >= 200
    assert f"hint: {plain} raw pages would be smaller after `scrape compact --db {db_path}`" in \
        " ".join(result.stderr.split())
    assert scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST, "--json").stderr.count("hint:") == 0
    assert scrape("compact", "--db", str(db_path)).exit_code == 0
    result = scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST)
    assert result.exit_code == 0
    assert "hint:" not in result.stderr


def test_dossier_with_a_missing_article_exits_1_and_a_rerun_retries_only_it(site: SampleSite,
                                                                             db_path: Path) -> None:
    missing = "/457866/vie-privee-la-cnil-fixe-des-garde-fous-aux-capteurs-urbains/"
    saved = site.routes.pop(missing)

    result = scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST, "--json")

    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert [(f["url"], f["error_class"]) for f in summary["failures"]] == [(site.base + missing, "http_status")]
    assert rows(db_path, "select status, error_class from fetches where url = ?", (site.base + missing,)) == [
        (404, "http_status")]
    site.routes[missing] = saved
    site.requests.clear()

    result = scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST, "--json")

    assert result.exit_code == 0
    assert [path for path in site.requests if path != "/robots.txt"] == [missing]
    assert json.loads(result.stdout)["resumed"] is True
    assert rows(db_path, "select count(*) from articles")[0][0] == 10


# --- lists the parser cannot read, or reads with loss ------------------------------------------

MAIN_COLUMN = b'class="dossierMainCol pageWrapper__mainContent"'


def test_a_dossier_whose_list_cannot_be_read_fails_in_one_line_keeps_what_was_archived_and_is_retried(
        site: SampleSite, db_path: Path) -> None:
    assert scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST).exit_code == 0
    listed = rows(db_path, "select page, position, site_id from dossier_articles order by page, position")
    status, content_type, good = site.routes[DOSSIER]
    # a redesign that puts the dossier's column where a sidebar was: the page links to its articles, but no
    # entry of it is in a content area any more
    site.routes[DOSSIER] = (status, content_type, good.replace(MAIN_COLUMN, b'class="pageWrapper__sideBar"'))

    result = scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST, "--refresh")

    assert result.exit_code == 1
    # the summary says why, in one line (the plain log line of the page, for cron, says it too)
    [line] = [line for line in result.stderr.splitlines() if line.startswith(f"failed {site.base}{DOSSIER}: ")]
    assert line.startswith(f"failed {site.base}{DOSSIER}: parse: no article read in the list of ")
    assert re.search(r"although the page links to \d+ articles: the site's markup may have changed", line)
    assert rows(db_path, "select status, error_class from fetches where url = ? order by id desc limit 1",
                (site.base + DOSSIER,)) == [(200, "parse")]
    assert rows(db_path, "select page, position, site_id from dossier_articles order by page, position") == listed
    assert rows(db_path, "select state, last_error_class from crawl_queue where url = ?",
                (site.base + DOSSIER,)) == [("failed", "parse")]
    assert rows(db_path, "select failed from runs order by id desc limit 1") == [(1,)]  # a page read, not stored
    site.routes[DOSSIER] = (status, content_type, good)
    site.requests.clear()

    result = scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST, "--json")

    assert result.exit_code == 0, result.stderr
    assert DOSSIER in site.requests
    assert rows(db_path, "select page, position, site_id from dossier_articles order by page, position") == listed


def test_a_page_read_with_loss_is_counted_flagged_and_listed_by_stats(site: SampleSite, db_path: Path) -> None:
    status, content_type, good = site.routes[DOSSIER]
    lost = f"{site.base}/612001/un-article-cite-dans-l-introduction/".encode()
    intro = b"exemples \xc3\xa0 l&rsquo;appui.</p>"
    assert intro in good
    site.routes[DOSSIER] = (status, content_type, good.replace(
        intro, intro + b'<p>Lire aussi <a href="' + lost + b'">un article</a>.</p>'))

    result = scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST, "--json")

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["read_with_loss"] == [site.base + DOSSIER]
    [alert] = summary["alerts"]
    assert f"1 article links were not read ({lost.decode()})" in alert
    assert "WARNING" in result.stderr
    assert lost.decode() in result.stderr
    assert rows(db_path, "select url, missing from canary_flags") == [(site.base + DOSSIER, '["article links"]')]
    stats = json.loads(scrape("stats", "--db", str(db_path), "--json").stdout)
    assert [page["url"] for page in stats["canary"]["pages"]] == [site.base + DOSSIER]
    # the page is read whole again: its flag goes
    site.routes[DOSSIER] = (status, content_type, good)
    assert scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST, "--refresh").exit_code == 0
    assert rows(db_path, "select count(*) from canary_flags") == [(0,)]


def test_listing_items_keep_the_section_they_were_listed_under(site: SampleSite, db_path: Path) -> None:
    assert scrape("listing", site.base + LISTING, "--db", str(db_path), *FAST, "--pages", "1").exit_code == 0
    record = parse_page(site.routes[LISTING][2], site.base + LISTING)
    stored = rows(db_path, "select position, section from listing_items where listing_url = ? order by position",
                  (site.base + LISTING,))
    assert stored == [(item.position, item.section) for item in record.articles]
    assert {section for _, section in stored} - {None}, "the sample names sections"


# --- scrape listing -----------------------------------------------------------------------------

def test_listing_follows_pages_and_stops_at_a_page_already_archived(site: SampleSite, db_path: Path) -> None:
    result = scrape("listing", site.base + LISTING, "--db", str(db_path), *FAST, "--pages", "1")
    assert result.exit_code == 0, result.stderr
    # page 1 lists 8 articles of its own and the 2 of its lead's "Sur le même sujet"
    assert rows(db_path, "select count(*) from articles")[0][0] == 10
    assert f"{LISTING}page/2/" not in site.requests

    site.requests.clear()
    result = scrape("listing", site.base + LISTING, "--db", str(db_path), *FAST)
    assert result.exit_code == 0
    assert "already archived: no further listing pages" in result.stderr
    assert article_requests(site) == []
    assert f"{LISTING}page/2/" not in site.requests

    result = scrape("listing", site.base + LISTING, "--db", str(db_path), *FAST, "--refresh")
    assert result.exit_code == 0
    assert f"{LISTING}page/2/" in site.requests
    assert rows(db_path, "select count(*) from articles")[0][0] == 16
    assert rows(db_path, "select count(*) from listing_items where article_id is not null")[0][0] == 16


def test_listing_since_stops_at_older_articles(server: FaultServer, db_path: Path) -> None:
    articles = make_articles(12, paywalled_every=0)
    for i, article in enumerate(articles):  # four articles a day: the 16th, 15th, 14th
        article.published = f"2018-03-{16 - i // 4:02d}T12:00:00+01:00"
    base = server.base_url
    pages = [articles[0:3], articles[3:6], articles[6:9], articles[9:12]]
    for number, items in enumerate(pages, start=1):
        path = LISTING if number == 1 else f"{LISTING}page/{number}/"
        next_url = f"{base}{LISTING}page/{number + 1}/" if number < len(pages) else None
        server.route(path, cached(listing_html(base, path, "Club Techni.Cités", items, next_url)))
    for article in articles:
        server.route(article.path, cached(article_html(base, article)))

    result = scrape("listing", base + LISTING, "--db", str(db_path), *FAST, "--since",
                    "2018-03-15", "--json")

    assert result.exit_code == 0, result.stderr
    # page 3 holds the first article of the 14th: no page 4
    assert len(server.hits(f"{LISTING}page/3/")) == 1
    assert server.hits(f"{LISTING}page/4/") == []
    assert rows(db_path, "select count(*) from articles")[0][0] == 9
    assert any("before --since 2018-03-15" in note for note in json.loads(result.stdout)["notes"])


# --- scrape feed --------------------------------------------------------------------------------

def test_feed_stores_every_item_and_the_feed_as_a_listing(site: SampleSite, db_path: Path) -> None:
    result = scrape("feed", site.base + FEED, "--db", str(db_path), *FAST, "--json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["pages"]["inserted"] == 11  # the feed and its 10 articles
    assert rows(db_path, "select count(*) from articles")[0][0] == 10
    assert rows(db_path, "select title from listings") == [("Lagazette.fr » Club Techni.Cités",)]
    assert rows(db_path, "select count(*) from listing_items where article_id is not null")[0][0] == 10


def test_feed_since_leaves_out_older_items(site: SampleSite, db_path: Path) -> None:
    result = scrape("feed", site.base + FEED, "--db", str(db_path), *FAST, "--since", "2018-03-15")

    assert result.exit_code == 0, result.stderr
    dates = [published for (published,) in rows(db_path, "select published_at from articles")]
    assert len(dates) == 5
    assert all(published >= "2018-03-15" for published in dates)
    assert "older than 2018-03-15 left out" in result.stderr


def test_feed_rerun_fetches_only_the_new_item(server: FaultServer, db_path: Path) -> None:
    articles = make_articles(6)
    for article in articles:
        server.route(article.path, cached(article_html(server.base_url, article)))
    server.route(FEED, cached(feed_xml(server.base_url, FEED, articles[1:]), "application/rss+xml"))
    assert scrape("feed", server.url(FEED), "--db", str(db_path), *FAST).exit_code == 0
    server.route(FEED, cached(feed_xml(server.base_url, FEED, articles), "application/rss+xml"))
    before = len(server.requests)

    result = scrape("feed", server.url(FEED), "--db", str(db_path), *FAST, "--json")

    assert result.exit_code == 0
    assert [r.path for r in server.requests[before:] if r.path != "/robots.txt"] == [FEED, articles[0].path]
    assert json.loads(result.stdout)["pages"] == {"inserted": 1, "skipped": 5, "updated": 1}
    assert rows(db_path, "select count(*) from listing_items where article_id is not null")[0][0] == 6


def test_feed_parser_does_not_expand_external_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    xml = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY leak SYSTEM "file://{secret}">]>
<rss version="2.0"><channel><title>Feed &leak;</title>
<item><title>Item &leak;</title><link>http://127.0.0.1/1/a/</link></item>
</channel></rss>""".encode()

    feed = parse_feed(xml, "http://127.0.0.1/feed/")

    assert "TOP-SECRET" not in json.dumps([feed.title, [vars(item) for item in feed.items]])
    assert [item.url for item in feed.items] == ["http://127.0.0.1/1/a/"]


def test_feed_that_is_not_a_feed_fails_with_exit_1(server: FaultServer, db_path: Path) -> None:
    server.route("/feed/", Respond(200, "<html><body><p>Maintenance</p></body></html>",
                                   content_type="application/xml"))

    result = scrape("feed", server.url("/feed/"), "--db", str(db_path), *FAST, "--json")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["failures"][0]["error_class"] == "not_feed"


# --- the command line ---------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["listing", "http://127.0.0.1:9/rubriques/x/", "--since", "16/03/2018"],
    ["feed", "ftp://127.0.0.1/feed/"],
    ["dossier", "samples/dossier-smart-city.html"],
    ["listing", "http://127.0.0.1:9/rubriques/x/", "--pages", "0"],
])
def test_usage_errors_exit_2_in_one_line(args: list[str], db_path: Path) -> None:
    result = scrape(*args, "--db", str(db_path))

    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


def test_plain_log_lines_when_not_a_terminal_and_a_runs_row(site: SampleSite, db_path: Path) -> None:
    result = scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST)

    assert result.exit_code == 0
    stamped = [line.split(" ", 1) for line in result.stderr.splitlines()]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", stamp) for stamp, _ in stamped)
    lines = [line for _, line in stamped]
    assert any(line.startswith("inserted") and "dossier" in line and DOSSIER in line for line in lines)
    assert sum(1 for line in lines if line.startswith("inserted") and " article " in line) == 10
    assert "\x1b[" not in result.stderr + result.stdout
    (command, started, ended, fetched, failed, bytes_), = rows(
        db_path, "select command, started_at, ended_at, fetched, failed, bytes from runs")
    assert command == f"scrape dossier {site.base}{DOSSIER} --db {db_path} --delay 0.0 --timeout 5.0 --retries 0"
    assert started <= ended
    assert fetched == 12
    assert failed == 0
    assert bytes_ > 0


def test_quiet_prints_nothing_on_success(site: SampleSite, db_path: Path) -> None:
    result = scrape("dossier", site.base + DOSSIER, "--db", str(db_path), *FAST, "-q")

    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_ignore_robots_is_said_in_the_run_log(site: SampleSite, db_path: Path) -> None:
    site.add("/robots.txt", b"User-agent: *\nDisallow: /\n", "text/plain")

    result = scrape("feed", site.base + FEED, "--db", str(db_path), *FAST, "--json", "--ignore-robots")

    assert result.exit_code == 0
    assert any("robots.txt is ignored" in note for note in json.loads(result.stdout)["notes"])
    assert "/robots.txt" not in site.requests


# --- subscriber cookies -------------------------------------------------------------------------

def _cookie_file(tmp_path: Path) -> Path:
    path = tmp_path / "cookies.txt"
    path.write_text("# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabonne\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("honoured", [True, False])
def test_cookies_report_whether_the_session_looks_logged_in(server: FaultServer, db_path: Path, tmp_path: Path,
                                                            honoured: bool) -> None:
    site = Site(server, articles=make_articles(3, paywalled_every=2))
    site.serve_dossier()

    def article(article: GenArticle):
        def handler(request: Request) -> Respond:
            logged_in = honoured and "session=abonne" in request.headers.get("cookie", "")
            return Respond(200, site.article_body(article, full_text=logged_in))
        return handler

    for item in site.articles:
        server.route(item.path, article(item))

    result = scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST, "--json",
                    "--cookies", str(_cookie_file(tmp_path)))

    assert result.exit_code == 0
    login = json.loads(result.stdout)["login"]
    assert login.startswith("logged in") if honoured else login.startswith("NOT logged in")
    assert rows(db_path, "select count(*) from fetches where cookies_sent = 1")[0][0] == 4


def test_cookies_probe_a_known_paywalled_article_when_the_run_fetched_none(server: FaultServer, db_path: Path,
                                                                           tmp_path: Path) -> None:
    site = Site(server, articles=make_articles(3, paywalled_every=2))
    site.serve_all()
    assert scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST).exit_code == 0
    paywalled = next(a for a in site.articles if a.paywalled)
    server.route(paywalled.path, Respond(200, site.article_body(paywalled, full_text=True)))

    result = scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST, "--json",
                    "--cookies", str(_cookie_file(tmp_path)))

    assert result.exit_code == 0
    assert json.loads(result.stdout)["login"].startswith("logged in")
    assert len(server.hits(paywalled.path)) == 2


# --- the library --------------------------------------------------------------------------------

def test_crawl_options_check_their_values() -> None:
    with pytest.raises(InvalidDate):
        CrawlOptions(since="2018-13-01")
    with pytest.raises(InvalidOption):
        CrawlOptions(max_pages=0)


def test_run_crawl_with_a_library_policy(server: FaultServer, db_path: Path) -> None:
    site = Site(server, articles=make_articles(5))
    site.serve_all()
    policy = FetchPolicy(delay=0, timeout=5, retries=0).allowing(server.base_url)
    events = []
    with Archive(db_path) as archive:
        summary = run_crawl(archive, policy, "dossier", site.dossier_url, reporter=events.append)
        counts = archive.counts()

    assert summary.exit_code == 0
    assert summary.pages["inserted"] == 6
    assert counts["articles"] == 5
    assert counts["crawl_queue"] == 6
    finished = [event for event in events if event.type == "finished"]
    assert len(finished) == 6
    assert {event.action for event in finished} == {"inserted"}
    assert sum(event.count for event in events if event.type == "queued") == 6


# --- failing pages over several runs ------------------------------------------------------------

def test_a_page_failing_in_three_runs_is_given_up_until_refresh(server: FaultServer, db_path: Path) -> None:
    site = Site(server, articles=make_articles(4))
    site.serve_all()
    broken = site.articles[2]
    server.route(broken.path, Respond(404, "gone"))

    for run in range(1, 4):  # the first run, then two re-runs that retry only the failure
        before = len(server.requests)
        result = scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST, "--json")
        asked = [r.path for r in server.requests[before:] if r.path != "/robots.txt"]
        assert result.exit_code == 1
        assert json.loads(result.stdout)["failures"][0]["attempts"] == run
        if run > 1:
            assert asked == [broken.path]
    before = len(server.requests)

    result = scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST, "--json")

    asked = [r.path for r in server.requests[before:] if r.path != "/robots.txt"]
    assert result.exit_code == 0, "a page given up was reported once, by its last run"
    assert json.loads(result.stdout)["failures"] == [], "a page given up was reported once, by its last run"
    assert asked == [site.dossier_path], "a new pass over the dossier, without the given-up page"
    stats = json.loads(CliRunner().invoke(app, ["stats", "--db", str(db_path), "--json"]).stdout)["given_up"]
    assert stats["total"] == 1
    assert stats["pages"][0]["url"] == site.base + broken.path  # stats still says it
    site.serve_article(broken)

    result = scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST, "--json", "--refresh")

    assert result.exit_code == 0
    assert rows(db_path, "select count(*) from articles")[0][0] == 4


def test_refresh_starts_a_fresh_pass_even_when_a_page_keeps_failing(server: FaultServer, db_path: Path) -> None:
    site = Site(server, articles=make_articles(3))
    site.serve_all()
    broken = site.articles[1]
    server.route(broken.path, Respond(500, "down"))
    result = scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST)
    assert result.exit_code == 1
    site.articles.insert(0, make_articles(1, first_id=700000)[0])  # the dossier gains an article meanwhile
    site.serve_all()
    server.route(broken.path, Respond(500, "down"))
    before = len(server.requests)

    result = scrape("dossier", site.dossier_url, "--db", str(db_path), *FAST, "--json", "--refresh")

    asked = {r.path for r in server.requests[before:]}
    assert site.dossier_path in asked, "the dossier is read again"
    assert site.articles[0].path in asked, "the dossier is read again"
    assert json.loads(result.stdout)["resumed"] is False
    assert result.exit_code == 1
    assert rows(db_path, "select count(*) from articles")[0][0] == 3


def test_an_article_that_names_no_dossier_is_a_usage_error(site: SampleSite, db_path: Path) -> None:
    article = site.base + "/554402/la-telegestion-de-leclairage-public-seduit-les-petites-communes/"

    result = scrape("dossier", article, "--db", str(db_path), *FAST)

    assert result.exit_code == 2
    assert "not a dossier, nor an article that names its dossier" in result.stderr


def test_an_article_that_cannot_be_fetched_fails_with_exit_1(server: FaultServer, db_path: Path) -> None:
    result = scrape("dossier", server.url("/123456/disparu/"), "--db", str(db_path), *FAST, "--json")

    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["root"] is None
    assert [(f["url"], f["error_class"]) for f in summary["failures"]] == [(server.url("/123456/disparu/"),
                                                                            "http_status")]
    assert rows(db_path, f"select status, error_class from fetches where {PAGE_ROWS}") == [(404, "http_status")]


def test_an_index_page_the_parser_cannot_read_is_noted(server: FaultServer, db_path: Path) -> None:
    server.route("/dossiers/vide/", Respond(200, "<html><body><h1>Dossier vide</h1></body></html>"))

    result = scrape("dossier", server.url("/dossiers/vide/"), "--db", str(db_path), *FAST, "--json")

    assert result.exit_code == 0
    notes = json.loads(result.stdout)["notes"]
    assert any(note.startswith("warning:") and "no article found" in note for note in notes)


# --- on a terminal ------------------------------------------------------------------------------

@pytest.mark.slow
def test_on_a_terminal_a_progress_bar_and_a_summary_table(server: FaultServer, db_path: Path) -> None:
    site = Site(server, articles=make_articles(8))
    site.serve_all()
    code, text = run_on_a_terminal("dossier", site.dossier_url, "--db", str(db_path), *FAST)
    assert code == 0, text

    assert "crawling" in text
    assert "done 9" in text
    assert "failed 0" in text
    assert "9/9" in text
    assert "stored (new)" in text
    assert "requests" in text
