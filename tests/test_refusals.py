"""The site refuses scripted clients: a bot protection's challenge, or a login page in place of an article.

A stand-in server answers as Cloudflare, DataDome, Akamai and Imperva do (and as the site does to a subscriber
whose session has expired). The tool must recognise each, never store it as a page (nor let it replace what the
archive holds), stop asking after a few refusals, say what to do, and archive everything once the server
cooperates again. Everything runs through the real CLI, a real server on 127.0.0.1 and a real archive.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import scalar, scrape
from crawlsite import Site, make_articles
from faultserver import FaultServer, Respond

from scraper.refusal import Refusal, refusal_of, refused_page

FAST = ["--delay", "0", "--timeout", "5", "--retries", "2"]

CLOUDFLARE_PAGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper" role="main">
<h1>www.lagazettedescommunes.com</h1><p>Verifying you are human. This may take a few seconds.</p></div>
<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray=8e1f2a3b4c5d6e7f"></script>
<div class="footer">Ray ID: <code>8e1f2a3b4c5d6e7f</code></div></body></html>"""
DATADOME_PAGE = """<html lang="en"><head><title>lagazettedescommunes.com</title></head><body>
<script data-cfasync="false">var dd={'rt':'c','cid':'AHrlqAAAAAMAq1w2e3r4t5y6','hsh':'2211F522B61E269B869FA6EAFFB5E1',
't':'fe','s':47891,'e':'c0ffee','host':'geo.captcha-delivery.com'}</script>
<script data-cfasync="false" src="https://ct.captcha-delivery.com/c.js"></script></body></html>"""
AKAMAI_PAGE = """<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n
You don't have permission to access "http&#58;&#47;&#47;www&#46;lagazettedescommunes&#46;com&#47;" on this server.<P>
Reference&#32;&#35;18&#46;5d2f1602&#46;1733580000&#46;2b3c4d5e\n<P>https&#58;&#47;&#47;errors&#46;edgesuite&#46;net
</BODY>\n</HTML>"""
IMPERVA_PAGE = """<html style="height:100%"><head><META NAME="ROBOTS" CONTENT="NOINDEX, NOFOLLOW">
<script src="/_Incapsula_Resource?SWJIYLWA=5074a744e2e3d891814e9a2dace20bd4,719d34d31c8e3a6e6fffd425f7e032f3">
</script></head><body style="margin:0px;height:100%"><iframe id="main-iframe"
src="/_Incapsula_Resource?CWUDNSAI=24&xinfo=8-12345678-0%200NNN" frameborder=0 width="100%" height="100%">
Request unsuccessful. Incapsula incident ID: 1234000560123456789-987654321012345678</iframe></body></html>"""
LOGIN_PAGE = """<!DOCTYPE html><html lang="fr-FR"><head><meta charset="utf-8">
<title>Connexion | La Gazette des communes</title></head><body>
<header><nav><a href="/abonnement/">Abonnez-vous</a></nav></header>
<main><h1>Connexion</h1><p>Votre session a expiré. Identifiez-vous pour continuer.</p>
<form action="/wp-login.php" method="post"><label>Identifiant <input type="text" name="log"></label>
<label>Mot de passe <input type="password" name="pwd"></label><button>Se connecter</button></form></main>
</body></html>"""

# How each service answers a script (status, headers, page); the same pages served with status 200 follow.
REFUSED = {
    "cloudflare": (403, {"cf-mitigated": "challenge", "Server": "cloudflare", "cf-ray": "8e1f2a3b4c5d6e7f-CDG"},
                   CLOUDFLARE_PAGE),
    "datadome": (403, {"x-dd-b": "1", "Set-Cookie": "datadome=q1w2e3; Path=/; Secure", "X-DataDome": "protected"},
                 DATADOME_PAGE),
    "akamai": (403, {"Server": "AkamaiGHost", "Mime-Version": "1.0"}, AKAMAI_PAGE),
    "imperva": (200, {"X-CDN": "Imperva", "X-Iinfo": "8-12345678-0 0NNN RT(1733580000000 0)"}, IMPERVA_PAGE),
    "login": (200, {}, LOGIN_PAGE),
}
SERVED_200 = {name: (200, {key: value for key, value in headers.items() if key != "cf-mitigated"}, page)
              for name, (_, headers, page) in REFUSED.items()}
VENDORS = {"cloudflare": "Cloudflare", "datadome": "DataDome", "akamai": "Akamai", "imperva": "Imperva"}
TABLES = ("articles", "article_versions", "dossiers", "dossier_articles", "canary_flags", "article_authors",
          "comments", "listings", "listing_items")


def table_rows(db: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(db) as conn:
        return {table: conn.execute(f"select * from [{table}] order by 1").fetchall() for table in TABLES}


def page_requests(server: FaultServer) -> list[str]:
    return [request.path for request in server.requests if request.path != "/robots.txt"]


@pytest.fixture
def site() -> Iterator[Site]:
    with FaultServer() as server:
        yield Site(server, articles=make_articles(10))


def refuse_everything(site: Site, answer: tuple[int, dict[str, str], str]) -> None:
    status, headers, page = answer
    refusal = Respond(status, page, headers)
    site.server.route(site.dossier_path, refusal)
    for article in site.articles:
        site.server.route(article.path, refusal)


# --- the classifier alone --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cloudflare", "datadome", "akamai"])
def test_each_vendor_is_named_with_the_reference_its_page_shows(name: str) -> None:
    status, headers, page = REFUSED[name]
    refusal = refusal_of(status, headers, page.encode())
    assert refusal is not None
    assert refusal.vendor == VENDORS[name]
    references = ("8e1f2a3b4c5d6e7f-CDG", "ahrlqaaaaamaq1w2e3r4t5y6", "18.5d2f1602.1733580000.2b3c4d5e")
    assert refusal.reference in references


def test_headers_that_come_with_pages_let_through_decide_nothing() -> None:
    let_through = {"Server": "cloudflare", "cf-ray": "8e1f2a3b4c5d6e7f-CDG", "X-DataDome": "protected"}
    assert refusal_of(200, let_through, b"<html><title>Un article</title></html>") is None
    assert refusal_of(403, let_through, b"<html><title>Forbidden</title></html>") is None  # a plain 403
    assert refusal_of(404, {"x-dd-b": "1"}, b"not found") is None


def test_a_page_of_the_site_that_mentions_a_marker_is_not_a_refusal() -> None:
    from scraper.parse import parse_page

    page = (Path(__file__).parent.parent / "samples" / "article-smart-city-2018.html").read_bytes()
    tainted = page.replace(b"</body>", b"<script src='/cdn-cgi/challenge-platform/x.js'></script></body>")
    assert refused_page(200, {}, tainted, parse_page(tainted)) is None
    assert isinstance(refused_page(200, {}, IMPERVA_PAGE.encode(), parse_page(IMPERVA_PAGE.encode())), Refusal)


# --- refused from the start: stop, say it, store nothing, resume later --------------------------------------

@pytest.mark.parametrize("name", list(REFUSED))
def test_a_refused_dossier_stops_at_once_stores_nothing_and_a_later_run_archives_it(
        site: Site, tmp_path: Path, name: str) -> None:
    db = tmp_path / "a.db"
    refuse_everything(site, REFUSED[name])
    result = scrape("dossier", site.dossier_url, "--db", db, *FAST)

    assert result.exit_code == 1, result.output
    assert len(page_requests(site.server)) <= 3, page_requests(site.server)
    assert "refused access" in result.output
    assert 'scrape import FILE' in result.output
    if name in VENDORS:
        assert f"bot protection: {VENDORS[name]}" in result.output
    else:
        assert "session of your cookies has expired" in result.output
    assert all(rows == [] for rows in table_rows(db).values()), table_rows(db)
    assert scalar(db, "select count(*) from fetches where error_class = 'blocked'") >= 1
    assert scalar(db, "select blocked from runs") >= 1  # the run ledger counts refusals apart
    result = scrape("stats", "--db", db, "--json")
    assert result.exit_code == 0
    assert '"blocked"' in result.output

    site.serve_all()  # the server cooperates again
    result = scrape("dossier", site.dossier_url, "--db", db, *FAST)
    assert result.exit_code == 0, result.output
    assert scalar(db, "select count(*) from articles") == 10
    assert scalar(db, "select count(*) from dossier_articles") == 10


@pytest.mark.parametrize("name", ["cloudflare", "datadome", "imperva"])
def test_a_refused_list_of_50_urls_asks_three_pages_then_names_the_rest(site: Site, tmp_path: Path,
                                                                       name: str) -> None:
    db = tmp_path / "a.db"
    site.articles = make_articles(50)
    refuse_everything(site, REFUSED[name])
    listed = tmp_path / "urls.txt"
    listed.write_text("".join(site.base + article.path + "\n" for article in site.articles))
    result = scrape("url", "-i", listed, "--db", db, *FAST)

    assert result.exit_code == 1, result.output
    assert len(page_requests(site.server)) <= 3
    assert "refused access" in result.output
    assert "not asked" in result.output
    assert scalar(db, "select count(*) from articles") == 0

    site.serve_all()
    result = scrape("url", "-i", listed, "--db", db, *FAST)
    assert result.exit_code == 0, result.output
    assert scalar(db, "select count(*) from articles") == 50


def test_a_refused_robots_txt_is_reported_and_nothing_else_is_asked(site: Site, tmp_path: Path) -> None:
    status, headers, page = REFUSED["cloudflare"]
    site.serve_all()
    site.server.route("/robots.txt", Respond(status, page, headers))
    result = scrape("dossier", site.dossier_url, "--db", tmp_path / "a.db", *FAST)
    assert result.exit_code == 1, result.output
    assert page_requests(site.server) == []
    assert "robots.txt: refused" in result.output
    assert "refused access" in result.output
    assert scalar(tmp_path / "a.db", "select count(*) from fetches where url like '%robots.txt'"
                                     " and error_class = 'blocked'") == 1


# --- refused over an archive that holds the dossier: nothing changes ------------------------------------------

@pytest.fixture
def archived(site: Site, tmp_path: Path) -> Path:
    db = tmp_path / "a.db"
    site.serve_all()
    result = scrape("dossier", site.dossier_url, "--db", db, *FAST)
    assert result.exit_code == 0, result.output
    return db


def cookies(tmp_path: Path) -> Path:
    path = tmp_path / "cookies.txt"
    path.write_text("# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabonne\n")
    return path


@pytest.mark.parametrize("how", ["", "--refresh", "--cookies", "--refresh --cookies"])
@pytest.mark.parametrize("name", list(SERVED_200))
def test_challenges_served_with_200_over_the_archive_change_nothing(site: Site, archived: Path, tmp_path: Path,
                                                                   name: str, how: str) -> None:
    before = table_rows(archived)
    refuse_everything(site, SERVED_200[name])
    options = [*(["--refresh"] if "--refresh" in how else []),
               *(["--cookies", str(cookies(tmp_path))] if "--cookies" in how else [])]
    result = scrape("dossier", site.dossier_url, "--db", archived, *FAST, *options)

    assert result.exit_code == 1, result.output
    assert table_rows(archived) == before
    assert "cookies: logged in" not in result.output
    assert "│ cookies  │ logged in" not in result.output
    assert "refused access" in result.output
    assert len(page_requests(site.server)) - 11 <= 3  # 11 pages were asked by the first run


@pytest.mark.parametrize("name", list(SERVED_200))
def test_scrape_url_of_an_archived_article_served_a_challenge_keeps_the_article(site: Site, archived: Path,
                                                                              name: str) -> None:
    before = table_rows(archived)
    refuse_everything(site, SERVED_200[name])
    result = scrape("url", site.base + site.articles[0].path, "--db", archived, *FAST)
    assert result.exit_code == 1, result.output
    assert table_rows(archived) == before
    assert scalar(archived, "select count(*) from fetches where error_class = 'blocked'") == 1


def test_an_error_page_served_with_200_over_an_article_is_not_stored_over_it(site: Site, archived: Path) -> None:
    """No signature at all: a bare page with a title and nothing else. The archived article keeps its dates and
    text; the fetch is a failure that says why; a genuine change (a new title) is still an update."""
    before = table_rows(archived)
    article = site.articles[0]
    site.server.route(article.path, Respond(200, "<html><head><title>Erreur</title></head><body><h1>Erreur"
                                                 " temporaire</h1></body></html>"))
    result = scrape("url", site.base + article.path, "--db", archived, *FAST)
    assert result.exit_code == 1, result.output
    assert "not stored over it" in result.output, result.output
    assert table_rows(archived) == before
    assert scalar(archived, "select count(*) from fetches where error like '%not stored over it%'") == 1

    article.title = "Un titre revu par la rédaction"
    site.serve_article(article)
    result = scrape("url", site.base + article.path, "--db", archived, *FAST)
    assert result.exit_code == 0, result.output
    assert "updated" in result.output, result.output


def test_a_dossier_page_that_lost_every_entry_is_not_stored_over_its_contents(site: Site, archived: Path) -> None:
    before = table_rows(archived)
    empty = site.dossier_path
    site.server.route(empty, Respond(200, "<html><head><title>Voirie durable : le dossier</title></head><body>"
                                          "<h1>Voirie durable : le dossier</h1><p>Bientôt.</p></body></html>"))
    result = scrape("url", site.dossier_url, "--db", archived, *FAST)
    assert result.exit_code == 1, result.output
    assert "lists no article where the archive holds 10" in result.output, result.output
    assert table_rows(archived) == before


def test_with_cookies_a_login_page_says_the_session_expired_never_logged_in(site: Site, archived: Path,
                                                                           tmp_path: Path) -> None:
    site.serve_dossier()
    for article in site.articles:
        site.server.route(article.path, Respond(200, LOGIN_PAGE))
    result = scrape("dossier", site.dossier_url, "--db", archived, *FAST, "--refresh",
                    "--cookies", cookies(tmp_path))
    assert result.exit_code == 1, result.output
    assert "NOT logged in" in result.output
    assert "session" in result.output
    assert "logged in: " not in result.output.replace("NOT logged in", "")
