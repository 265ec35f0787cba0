"""Export of the archived articles to JSON, JSON Lines and CSV, from a real SQLite archive."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from scraper.archive import Archive
from scraper.documents import render_markdown
from scraper.errors import InvalidDate, InvalidOption, OutputExists
from scraper.export import CSV_COLUMNS, export_article_files, export_articles, paris_time
from scraper.models import Article, Comment, Dossier, DossierRef, Image, ListItem, Paywall, RelatedLink

SITE = "https://www.lagazettedescommunes.com"
DOSSIER = DossierRef("Smart city : les territoires connectés", f"{SITE}/dossiers/smart-city/")
MARKER = "Article réservé aux abonnés"


def article(site_id: int, published_at: str, **overrides: Any) -> Article:
    fields: dict[str, Any] = {
        "url": f"{SITE}/{site_id}/article-{site_id}/",
        "title": f"Télégestion n°{site_id} : « l’eau »",
        "site_id": site_id,
        "kicker": "Eau",
        "published_at": published_at,
        "authors": ["Jean Dupont", "Marie Martin"],
        "teaser": "Un chapo ...",
        "body": "Premier paragraphe.\n\nSecond, avec \"guillemets\", virgules; et points.",
        "image": Image(f"{SITE}/files/{site_id}.jpg", "Un château d’eau", "Ville de Lyon"),
        "dossier": DOSSIER,
        "related": [RelatedLink("Sur le même sujet", "Voirie", f"{SITE}/540001/voirie/"),
                    RelatedLink("L'actu Technique", "Ponts", f"{SITE}/540002/ponts/", "Les ponts ...")],
        "comments_count": 1,
        "comments": [Comment("pseudo", "2018-03-13T09:12:00", "Bien vu.")],
        "themes": ["Eau", "Innovation"],
    }
    fields.update(overrides)
    return Article(**fields)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive(tmp_path / "archive.db") as opened:
        opened.records.store(article(550002, "2018-06-01", paywall=Paywall(True, [MARKER])))
        opened.records.store(article(550001, "2017-01-02", warnings=["no image credit"]))
        opened.records.store(article(550003, "2019-05-01T10:00:00", dossier=None, image=None, related=[],
                                    authors=[], themes=[], comments_count=None, comments=[]))
        yield opened


def export(archive: Archive, fmt: str, **filters: Any) -> tuple[int, str]:
    out = io.StringIO(newline="")
    count = export_articles(archive, out, fmt, **filters)  # type: ignore[arg-type]
    return count, out.getvalue()


PARIS_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+0[12]:00")


def in_paris(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "first_seen_at": paris_time(record["first_seen_at"]),
            "last_seen_at": paris_time(record["last_seen_at"])}


def test_json_is_one_indented_array_of_contract_records(archive: Archive) -> None:
    count, text = export(archive, "json")
    expected = [in_paris(record) for record in archive.articles.records(seen_at=True)]
    assert count == 3
    assert text == json.dumps(expected, ensure_ascii=False, indent=2) + "\n"
    assert "Télégestion" in text
    assert "\\u" not in text
    assert [record["site_id"] for record in json.loads(text)] == [550001, 550002, 550003]


def test_json_of_nothing_is_an_empty_array(archive: Archive) -> None:
    count, text = export(archive, "json", since="2030-01-01")
    assert (count, json.loads(text)) == (0, [])


def test_jsonl_is_one_record_per_line(archive: Archive) -> None:
    count, text = export(archive, "jsonl", paywalled=False)
    lines = text.splitlines()
    assert count == len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert [record["site_id"] for record in records] == [550001, 550003]
    assert records == [in_paris(record) for record in archive.articles.records(paywalled=False, seen_at=True)]


def test_records_say_when_the_archive_fetched_each_article_first_and_last_in_paris_time(archive: Archive) -> None:
    stored = archive.db.execute("select site_id, first_seen_at, last_seen_at from articles").fetchall()
    assert all(first.endswith("Z") for _, first, _ in stored)  # stored in UTC
    for fmt in ("json", "jsonl"):
        _, text = export(archive, fmt)
        records = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
        for record in records:
            assert PARIS_TIME.fullmatch(record["first_seen_at"])
            assert PARIS_TIME.fullmatch(record["last_seen_at"])
            assert record["first_seen_at"] <= record["last_seen_at"]
    _, text = export(archive, "csv")
    rows = {row["site_id"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
    for site_id, first, last in stored:
        row = rows[str(site_id)]
        assert datetime.fromisoformat(row["first_seen_at"]) == datetime.fromisoformat(first)  # the same moment
        assert datetime.fromisoformat(row["last_seen_at"]) == datetime.fromisoformat(last)
        assert PARIS_TIME.fullmatch(row["first_seen_at"])


def test_paris_time_follows_summer_time() -> None:
    assert paris_time("2024-01-01T06:00:00+00:00") == "2024-01-01T07:00:00+01:00"
    assert paris_time("2024-07-01T06:00:00+00:00") == "2024-07-01T08:00:00+02:00"
    assert paris_time("2024-07-01") == "2024-07-01"
    assert paris_time(None) is None


def test_csv_flattens_each_record(archive: Archive) -> None:
    count, text = export(archive, "csv")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    rows = list(reader)
    assert count == len(rows) == 3
    first, paywalled, bare = rows
    assert first["title"] == "Télégestion n°550001 : « l’eau »"
    assert first["authors"] == "Jean Dupont; Marie Martin"  # as the article_details view joins them
    assert first["body"] == "Premier paragraphe.\n\nSecond, avec \"guillemets\", virgules; et points."
    assert (first["dossier_title"], first["dossier_url"]) == (DOSSIER.title, DOSSIER.url)
    assert (first["image_url"], first["image_alt"], first["image_credit"]) == (
        f"{SITE}/files/550001.jpg", "Un château d’eau", "Ville de Lyon")
    assert first["related_urls"] == f"{SITE}/540001/voirie/ | {SITE}/540002/ponts/"
    assert (first["themes"], first["warnings"], first["comments_count"]) == ("Eau | Innovation",
                                                                            "no image credit", "1")
    assert (first["is_paywalled"], first["paywall_markers"]) == ("false", "")
    assert (paywalled["is_paywalled"], paywalled["paywall_markers"]) == ("true", MARKER)
    assert (bare["image_url"], bare["dossier_url"], bare["authors"], bare["comments_count"]) == ("", "", "", "")
    assert bare["site_id"] == "550003"


def test_filters_reach_every_format(archive: Archive) -> None:
    archive.records.store(Dossier(f"{SITE}/dossiers/smart-city/page/2/", DOSSIER.title, None,
                                 [ListItem(1, "Hors dossier", f"{SITE}/550003/article-550003/", 550003)]))
    assert export(archive, "json", dossier="smart city")[0] == 3  # two name it, one is in its contents
    assert export(archive, "jsonl", dossier=f"{SITE}/dossiers/smart-city/", paywalled=True)[0] == 1
    count, text = export(archive, "csv", since="2018-01-01", paywalled=False)
    assert count == 1
    assert [row["site_id"] for row in csv.DictReader(io.StringIO(text, newline=""))] == ["550003"]


def test_unknown_format_and_bad_date_are_usage_errors(archive: Archive) -> None:
    out = io.StringIO()
    with pytest.raises(InvalidOption, match="unknown export format"):
        export_articles(archive, out, "xml")  # type: ignore[arg-type]
    with pytest.raises(InvalidDate, match="invalid date"):
        export_articles(archive, out, "json", since="yesterday")
    assert out.getvalue() == ""  # nothing half-written


# --- CSV for Excel -------------------------------------------------------------------------------------

def test_excel_csv_has_a_bom_and_semicolons(archive: Archive) -> None:
    out = io.StringIO(newline="")
    count = export_articles(archive, out, "csv", excel=True)
    text = out.getvalue()
    assert text.startswith("\ufeffurl;site_id;kicker;title;")
    rows = list(csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=";"))
    assert count == len(rows) == 3
    assert rows[0]["title"] == "Télégestion n°550001 : « l’eau »"
    assert rows[0]["body"] == "Premier paragraphe.\n\nSecond, avec \"guillemets\", virgules; et points."
    assert rows[0]["authors"] == "Jean Dupont; Marie Martin"  # quoted, so its ';' is not a separator


def test_excel_is_for_csv_only(archive: Archive) -> None:
    with pytest.raises(InvalidOption, match="--excel"):
        export_articles(archive, io.StringIO(), "json", excel=True)


def test_authors_are_joined_as_the_article_details_view_joins_them(archive: Archive) -> None:
    _, text = export(archive, "csv")
    from_csv = {row["site_id"]: row["authors"] for row in csv.DictReader(io.StringIO(text, newline=""))}
    from_view = {str(row["site_id"]): row["authors"] or "" for row in archive.db.query(
        "select site_id, authors from article_details")}
    assert from_csv == from_view
    assert from_csv["550001"] == "Jean Dupont; Marie Martin"


# --- Markdown and plain text ------------------------------------------------------------------------

def test_markdown_gives_what_a_reader_needs_to_read_and_cite(archive: Archive) -> None:
    archive.records.store(article(550004, "2018-03-12T10:45:00+01:00", updated_at="2018-07-01",
                                 paywall=Paywall(True, [MARKER])))
    count, text = export(archive, "markdown", dossier="territoires")
    assert count == 3
    assert text.count("\n---\n") == 2
    document = text.split("\n---\n\n")[1]  # 2018-03-12, after 2017-01-02
    assert document.startswith("# Télégestion n°550004 : « l’eau »\n\n*Eau*\n\n")
    for line in ("- Publié le : 2018-03-12 10:45 (UTC+01:00)", "- Mis à jour le : 2018-07-01",
                 "- Auteurs : Jean Dupont; Marie Martin",
                 f"- Dossier : [{DOSSIER.title}]({DOSSIER.url})",
                 "- Réservé aux abonnés : oui — le texte ci-dessous est la partie en accès libre",
                 f"- Source : <{SITE}/550004/article-550004/>"):
        assert line + "\n" in document, line
    assert re.search(r"- Archivé le : \d{4}-\d\d-\d\d \d\d:\d\d \(UTC", document)
    assert "\n\n**Un chapo ...**\n\nPremier paragraphe.\n\nSecond, avec" in document
    _, english = export(archive, "markdown", dossier="territoires", lang="en")
    document = english.split("\n---\n\n")[1]
    for line in ("- Published: 2018-03-12 10:45 (UTC+01:00)", "- Updated: 2018-07-01",
                 "- Authors: Jean Dupont; Marie Martin", f"- Dossier: [{DOSSIER.title}]({DOSSIER.url})",
                 "- Reserved to subscribers: yes — the text below is the free part",
                 f"- Source: <{SITE}/550004/article-550004/>"):
        assert line + "\n" in document, line
    assert re.search(r"- Archived: \d{4}-", document)


def test_txt_gives_the_same_without_markup(archive: Archive) -> None:
    count, text = export(archive, "txt", paywalled=True)
    assert count == 1
    assert text.startswith("Télégestion n°550002 : « l’eau »\n" + "=" * 32 + "\nEau\n\nPublié le : 2018-06-01\n")
    assert f"Dossier : {DOSSIER.title} <{DOSSIER.url}>\n" in text
    assert "Auteurs : Jean Dupont; Marie Martin\n" in text
    assert "*" not in text
    assert "#" not in text
    _, english = export(archive, "txt", paywalled=True, lang="en")
    assert "\nPublished: 2018-06-01\n" in english
    assert "Authors: Jean Dupont; Marie Martin\n" in english


def test_markdown_shows_the_article_s_own_characters_as_they_are() -> None:
    text = render_markdown({"url": f"{SITE}/1/x/", "title": "Le *vrai* coût [enquête]", "authors": [],
                            "body": "# 1\n\n1. Premier point\n\n- un tiret <b>"})
    assert text.startswith("# Le \\*vrai\\* coût \\[enquête\\]\n")
    assert "\n\n\\# 1\n\n1\\. Premier point\n\n\\- un tiret \\<b\\>\n" in text


def test_one_file_per_article_in_a_directory(archive: Archive, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    assert export_article_files(archive, folder, "markdown") == 3
    names = sorted(path.name for path in folder.iterdir())
    assert names == ["550001-article-550001.md", "550002-article-550002.md", "550003-article-550003.md"]
    text = (folder / names[0]).read_text(encoding="utf-8")
    assert text.startswith('---\ntitle: "Télégestion n°550001 : « l’eau »"\n')  # its own file: a front matter
    assert "\n---\n\n# Télégestion n°550001" in text
    with pytest.raises(OutputExists, match="not empty"):
        export_article_files(archive, folder, "txt")
    assert export_article_files(archive, folder, "txt", force=True, paywalled=True) == 1
    assert (folder / "550002-article-550002.txt").exists()


def test_the_export_command_offers_every_registered_format() -> None:
    from typing import get_args

    from scraper.cli import pages
    from scraper.exporters import EXPORT_FORMATS

    assert get_args(pages.ExportFormatName) == tuple(EXPORT_FORMATS)
    for export_format in EXPORT_FORMATS.values():  # each names a writer that exists
        assert callable(export_format.load()), export_format.name


TITLES_WRITER = '''
def write_titles(records, out, options):
    count = 0
    for record in records:
        out.write(f"{options.lang}: {record['title']} ({record['archived_at'][:4]})\\n")
        count += 1
    return count
'''
REGISTERING_SCRAPE = '''
import sys
sys.path.insert(0, sys.argv.pop(1))
from scraper.exporters import ExportFormat, register
register(ExportFormat("titles", "articles", ".titles", "text/plain", "titles:write_titles", one_file_each=True))
from scraper.cli import main
main(sys.argv[1:])
'''


def test_a_format_registered_from_outside_is_offered_by_the_export_command_and_written(
        archive: Archive, tmp_path: Path) -> None:
    """A new format is its writer and one `register` call: `scrape export` lists it, writes one document or one
    file per article with it (by its extension)."""
    import subprocess
    import sys

    (tmp_path / "plugin").mkdir()
    (tmp_path / "plugin" / "titles.py").write_text(TITLES_WRITER, encoding="utf-8")
    archive.close()

    def scrape(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", REGISTERING_SCRAPE, str(tmp_path / "plugin"), *args],
                              capture_output=True, text=True, encoding="utf-8", timeout=120,
                              env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})

    help_text = " ".join(re.sub("[│╭╮╰╯─]", " ", scrape("export", "--help").stdout).split())
    assert "|warc|titles>" in help_text
    assert "articles to read (markdown, txt, titles)" in help_text
    assert "for markdown, txt, csl-json, ris, bibtex and titles, DIR/ writes one file per article" in help_text
    written = scrape("export", "--db", str(tmp_path / "archive.db"), "-f", "titles", "--lang", "en",
                     "-o", str(tmp_path / "all.titles"))
    assert written.returncode == 0, written.stderr
    lines = (tmp_path / "all.titles").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert all(re.fullmatch(r"en: Télégestion n°55000\d : « l’eau » \(20\d\d\)", line) for line in lines), lines
    each = scrape("export", "--db", str(tmp_path / "archive.db"), "-f", "titles", "-o", str(tmp_path / "each") + "/")
    assert each.returncode == 0, each.stderr
    assert sorted(path.name for path in (tmp_path / "each").iterdir()) == [
        "550001-article-550001.titles", "550002-article-550002.titles", "550003-article-550003.titles"]
    assert scrape("export", "-f", "yaml").returncode == 2  # what is not registered is no choice


def test_markdown_keeps_a_hostile_url_one_link_and_no_html(archive: Archive, tmp_path: Path) -> None:
    url = f"{SITE}/550009/x/?q=\"><img src=x onerror=alert(1)>(a) [b]"
    archive.records.store(article(550009, "2018-01-01", url=url,
                                 dossier=DossierRef("Dossier", f"{SITE}/dossiers/d/\"><script>x</script>")))
    _, text = export(archive, "markdown", since="2018-01-01", paywalled=False)
    document = next(part for part in text.split("\n---\n\n") if "550009" in part)
    assert "<img" not in document
    assert "<script" not in document  # the same URL, one link
    assert "- Source : <" + f"{SITE}/550009/x/?q=%22%3E%3Cimg%20src=x%20onerror=alert%281%29%3E%28a%29%20%5Bb%5D>" \
        in document
    assert "(" + f"{SITE}/dossiers/d/%22%3E%3Cscript%3Ex%3C/script%3E)" in document
    export_article_files(archive, tmp_path / "md", "markdown", since="2018-01-01", paywalled=False)
    meta, body = (tmp_path / "md" / "550009-x.md").read_text(encoding="utf-8")[4:].split("\n---\n", 1)
    assert f'url: "{SITE}/550009/x/?q=\\"><img src=x onerror=alert(1)>(a) [b]"' in meta  # a YAML string, as it is
    assert "<img" not in body


@pytest.mark.parametrize("fmt", ["json", "warc"])
def test_an_export_never_writes_over_the_archive_it_reads_nor_its_wal_and_shm(archive: Archive, tmp_path: Path,
                                                                              fmt: str) -> None:
    from typer.testing import CliRunner

    from scraper.cli import app

    db = Path(archive.path)
    archive.close()
    hard_link = tmp_path / "same-inode.db"
    hard_link.hardlink_to(db)
    symbolic = tmp_path / "link.db"
    symbolic.symlink_to(db)
    before = db.read_bytes()
    for target in (db, hard_link, symbolic, db.with_name("archive.db-wal"), db.with_name("archive.db-shm")):
        result = CliRunner().invoke(app, ["export", "--db", str(db), "--format", fmt, "--output", str(target),
                                          "--force"])
        assert result.exit_code == 2, (target, result.stdout)
        assert "a file of the archive being read" in result.stderr, target
        assert db.read_bytes() == before
        assert db.stat().st_ino == hard_link.stat().st_ino
    # the archive as an article file of a directory export: the same refusal, and the archive kept
    folder_db = tmp_path / "out" / "550001-article-550001.md"
    folder_db.parent.mkdir()
    db.rename(folder_db)
    result = CliRunner().invoke(app, ["export", "--db", str(folder_db), "--format", "markdown", "--output",
                                      str(folder_db.parent) + "/", "--force"])
    assert result.exit_code == 2
    assert "a file of the archive being read" in result.stderr
    assert folder_db.read_bytes() == before


def test_markdown_links_carry_no_html_from_a_hostile_url(archive: Archive, tmp_path: Path) -> None:
    # A canonical URL holding `"><img src=x onerror=…>` became raw HTML in the Source: and Dossier: lines.
    from markdown_it import MarkdownIt

    hostile = '"><img src=x onerror=alert(1)>'
    archive.records.store(article(550009, "2020-01-01", url=f"{SITE}/550009/piege/{hostile}",
                                 dossier=DossierRef("Piège", f"{SITE}/dossiers/piege/){hostile}")))
    count, text = export(archive, "markdown", since="2020-01-01")
    assert count == 1
    html = MarkdownIt("commonmark").render(text)
    assert "<img" not in html
    assert "onerror=alert(1)>" not in html
    links = re.findall(r'<a href="([^"]*)">', html)
    assert f"{SITE}/550009/piege/%22%3E%3Cimg%20src=x%20onerror=alert%281%29%3E" in links
    assert f"{SITE}/dossiers/piege/%29%22%3E%3Cimg%20src=x%20onerror=alert%281%29%3E" in links
    # a URL that is not http(s) is no link at all
    plain = render_markdown({"url": "javascript:alert(1)", "title": "x", "authors": []})
    assert "<a " not in MarkdownIt("commonmark").render(plain)


def test_one_file_per_article_never_takes_a_name_windows_keeps_for_a_device(tmp_path: Path) -> None:
    # `con.md`, `aux.md`, `nul.md`, `com1.md` were written: Windows cannot open them.
    slugs = ["con", "AUX", "Nul", "prn", "com1", "COM9", "lpt1", "Lpt9", "console", "com10"]
    with Archive(tmp_path / "archive.db") as opened:
        for slug in slugs:
            opened.records.store(replace(article(0, "2020-01-01", url=f"{SITE}/rubriques/{slug}/"), site_id=None))
        assert export_article_files(opened, tmp_path / "out", "markdown") == len(slugs)
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    reserved = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))}
    assert [name for name in names if name.split(".")[0].lower() in reserved] == []
    assert "con-article.md" in names
    assert "com1-article.md" in names
    assert "console.md" in names
    assert "com10.md" in names
