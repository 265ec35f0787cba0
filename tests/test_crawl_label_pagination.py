"""`scrape dossier` follows a dossier's next page that only a label names: no `rel=next` in the head nor on the
link, the pagination a <nav> of "Suivant" or of bare numbers and "»" (issue 18)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from crawlsite import Site, cached, dossier_html, make_articles
from faultserver import FaultServer, Respond
from typer.testing import CliRunner

from scraper.cli import app

FAST = ["--delay", "0", "--timeout", "5", "--retries", "0"]
_REL_NEXT = re.compile(r'\s*<link rel="next" href="[^"]*" />')
_PAGINATION = re.compile(r'<div class="pagination"><a class="next page-numbers" href="([^"]*)">[^<]*</a></div>')


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault_server:
        fault_server.route("/robots.txt", Respond(200, "User-agent: *\n", content_type="text/plain"))
        yield fault_server


def _serve_with(site: Site, pagination: str) -> None:
    """The dossier's pages, their pagination replaced by `pagination` (with {next} for the next page's URL)."""
    pages = site.pages()
    for number, items in enumerate(pages, start=1):
        next_url = site.base + site.page_path(number + 1) if number < len(pages) else None
        body = _REL_NEXT.sub("", dossier_html(site.base, site.page_path(number), site.title, items, next_url))
        body = _PAGINATION.sub(lambda match: pagination.format(next=match.group(1)), body)
        assert "rel=\"next\"" not in body
        assert "page-numbers" not in body
        site.server.route(site.page_path(number), cached(body))
    for article in site.articles:
        site.serve_article(article)


@pytest.mark.parametrize("pagination", [
    '<nav class="navigation" aria-label="Publications"><div class="nav-links"><a href="{next}">Suivant</a></div></nav>',
    '<nav aria-label="Pages"><span>1</span> <a href="{next}">2</a> <a href="{next}">»</a></nav>',
], ids=["suivant", "numbers-and-arrow"])
def test_the_dossier_crawl_follows_a_next_page_named_only_by_its_label(server: FaultServer, db_path: Path,
                                                                        pagination: str) -> None:
    site = Site(server, articles=make_articles(9), per_page=4)
    _serve_with(site, pagination)

    result = CliRunner().invoke(app, ["dossier", site.dossier_url, "--db", str(db_path), *FAST],
                                catch_exceptions=False)

    assert result.exit_code == 0, result.stderr
    assert {site.page_path(2), site.page_path(3)} <= {request.path for request in server.requests}
    with sqlite3.connect(db_path) as conn:
        listed = conn.execute("select count(*) from dossier_articles").fetchone()[0]
    assert listed == 9
