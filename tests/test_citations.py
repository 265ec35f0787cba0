"""References for the tools people cite with (`scrape export --format csl-json|ris|bibtex`) and Markdown's front
matter, read back by the libraries and tools that consume them: citeproc-py (with a CSL style it ships),
bibtexparser, rispy, PyYAML and pandoc (where it is installed), from a real archive through the real CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import bibtexparser
import citeproc
import pytest
import rispy
import yaml
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from conftest import ingest_samples, scrape

from scraper.archive import Archive
from scraper.citations import CONTAINER, PAYWALL_NOTE, split_name
from scraper.models import Article, DossierRef, Paywall

SITE = "https://www.lagazettedescommunes.com"
HARVARD = Path(citeproc.__file__).parent / "data" / "styles" / "harvard-cite-them-right.csl"
TITLE = "Éclairage : 50 % d’économies & un « {pilote} » à 100 $ #1"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        archive.records.store(Article(
            url=f"{SITE}/610001/eclairage-economies/", title=TITLE, site_id=610001, kicker="Éclairage public",
            published_at="2018-03-12T10:45:00+01:00", authors=["Hélène Girard", "Jean de La Fontaine",
                                                             "Jean-Marc Le Bihan"],
            teaser="Trois communes témoignent.", body="Premier paragraphe.", themes=["Énergie", "Éclairage"],
            dossier=DossierRef("Smart city : les territoires connectés", f"{SITE}/dossiers/smart-city/"),
            paywall=Paywall(True, ["Article réservé aux abonnés"])))
        archive.records.store(Article(url=f"{SITE}/610002/voirie/", title="Voirie : le bilan", site_id=610002,
                                     published_at="2019-07-01", authors=["Rédaction"], body="Texte."))
        archive.records.store(Article(url=f"{SITE}/610003/eau/", title="Eau", site_id=610003, body="Texte."))
    return path


def exported(db: Path, fmt: str, *args: str) -> str:
    result = scrape("export", "--db", db, "--format", fmt, *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(("name", "parts"), [
    ("Hélène Girard", {"family": "Girard", "given": "Hélène"}),
    ("Jean de La Fontaine", {"family": "La Fontaine", "given": "Jean", "non-dropping-particle": "de"}),
    ("Jean-Marc Le Bihan", {"family": "Le Bihan", "given": "Jean-Marc"}),
    ("Anne-Sophie du Pont", {"family": "Pont", "given": "Anne-Sophie", "non-dropping-particle": "du"}),
    ("Marie d’Ornano", {"family": "Ornano", "given": "Marie", "non-dropping-particle": "d’"}),
    ("Pierre Van der Berg", {"family": "Van der Berg", "given": "Pierre"}),
    ("Marc Jean Dupont", {"family": "Dupont", "given": "Marc Jean"}),
    ("Rédaction", {"literal": "Rédaction"}),
])
def test_authors_are_split_into_family_and_given_names(name: str, parts: dict[str, str]) -> None:
    assert split_name(name) == parts


def test_csl_json_renders_with_a_real_style_through_citeproc_py(db: Path) -> None:
    items = json.loads(exported(db, "csl-json"))
    assert [item["id"] for item in items] == ["gazette610003", "gazette610001", "gazette610002"]  # no date first
    first = items[1]
    assert first["type"] == "article-magazine"
    assert first["container-title"] == CONTAINER
    assert first["issued"] == {"date-parts": [[2018, 3, 12]]}
    assert first["accessed"]["date-parts"][0][0] >= 2024  # when the archive fetched it
    assert (first["abstract"], first["keyword"], first["note"]) == ("Trois communes témoignent.",
                                                                    "Énergie, Éclairage", PAYWALL_NOTE)
    assert "note" not in items[2]  # free
    style = CitationStylesStyle(str(HARVARD), validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    rendered = [str(entry) for entry in bibliography.bibliography()]
    text = next(entry for entry in rendered if "Girard" in entry)
    assert text.startswith("Girard, H., de La Fontaine, J. and Le Bihan, J.-M. (2018) “Éclairage : 50 % d’économies"
                           " & un « {pilote} » à 100 $ #1”, La Gazette des communes — Club Techni.Cités, 12 March.")
    assert f"Available at: {SITE}/610001/eclairage-economies/ (Accessed: " in text
    assert any(entry.startswith("Rédaction (2019) “Voirie : le bilan”") for entry in rendered), rendered


def test_bibtex_reads_back_through_bibtexparser(db: Path) -> None:
    text = exported(db, "bibtex")
    library = bibtexparser.parse_string(text, append_middleware=[
        LatexDecodingMiddleware(), SeparateCoAuthors(), SplitNameParts()])
    assert library.failed_blocks == []
    assert len(library.entries) == 3
    entry = {field.key: field.value for field in library.entries_dict["gazette610001"].fields}
    assert library.entries_dict["gazette610001"].entry_type == "article"
    assert entry["title"] == TITLE
    assert [(name.first, name.von, name.last) for name in entry["author"]] == [
        (["Hélène"], [], ["Girard"]), (["Jean"], ["de"], ["La", "Fontaine"]), (["Jean-Marc"], [], ["Le", "Bihan"])]
    assert (entry["journal"], entry["year"], entry["date"], entry["url"]) == (
        CONTAINER, "2018", "2018-03-12", f"{SITE}/610001/eclairage-economies/")
    assert (entry["keywords"], entry["note"], entry["abstract"]) == ("Énergie, Éclairage", PAYWALL_NOTE,
                                                                     "Trois communes témoignent.")
    assert len(entry["urldate"]) == 10
    one_word = {field.key: field.value for field in library.entries_dict["gazette610002"].fields}
    assert [name.last for name in one_word["author"]] == [["Rédaction"]]


def test_ris_reads_back_through_rispy(db: Path) -> None:
    records = rispy.loads(exported(db, "ris"))
    assert len(records) == 3
    first = next(record for record in records if record["id"] == "gazette610001")
    assert first["type_of_reference"] == "MGZN"
    assert first["title"] == TITLE
    assert first["secondary_title"] == CONTAINER
    assert first["authors"] == ["Girard, Hélène", "de La Fontaine, Jean", "Le Bihan, Jean-Marc"]
    assert (first["year"], first["date"], first["urls"]) == ("2018", "2018/03/12",
                                                             [f"{SITE}/610001/eclairage-economies/"])
    assert first["keywords"] == ["Énergie", "Éclairage"]
    assert first["notes"] == [PAYWALL_NOTE]
    assert first["abstract"] == "Trois communes témoignent."
    assert len(first["access_date"]) == 10


@pytest.mark.parametrize(("fmt", "extension", "read"), [
    ("csl-json", ".json", lambda text: json.loads(text)),
    ("ris", ".ris", lambda text: rispy.loads(text)),
    ("bibtex", ".bib", lambda text: bibtexparser.parse_string(text).entries),
])
def test_one_reference_file_per_article(db: Path, tmp_path: Path, fmt: str, extension: str, read: Any) -> None:
    folder = tmp_path / "refs"
    result = scrape("export", "--db", db, "--format", fmt, "--output", f"{folder}/")
    assert result.exit_code == 0, result.stderr
    names = sorted(path.name for path in folder.iterdir())
    assert names == [f"610001-eclairage-economies{extension}", f"610002-voirie{extension}", f"610003-eau{extension}"]
    for name in names:
        assert len(read((folder / name).read_text(encoding="utf-8"))) == 1


# --- Markdown's front matter -------------------------------------------------------------------------------------

def front_matter(db: Path, folder: Path, name: str) -> dict[str, Any]:
    assert scrape("export", "--db", db, "--format", "markdown", "--output", f"{folder}/").exit_code == 0
    document = (folder / name).read_text(encoding="utf-8")
    assert document.startswith("---\n")
    return yaml.safe_load(document.split("\n---\n", 1)[0].removeprefix("---\n"))


def test_the_front_matter_is_yaml_with_what_a_citation_needs(db: Path, tmp_path: Path) -> None:
    meta = front_matter(db, tmp_path / "md", "610001-eclairage-economies.md")
    assert meta["title"] == TITLE
    assert meta["kicker"] == "Éclairage public"
    assert meta["author"] == ["Hélène Girard", "Jean de La Fontaine", "Jean-Marc Le Bihan"]
    assert (meta["date"], meta["url"], meta["themes"]) == ("2018-03-12T10:45:00+01:00",
                                                           f"{SITE}/610001/eclairage-economies/",
                                                           ["Énergie", "Éclairage"])
    assert meta["dossier"] == {"title": "Smart city : les territoires connectés", "url": f"{SITE}/dossiers/smart-city/"}
    assert meta["paywalled"] is True
    assert meta["lang"] == "fr-FR"
    assert meta["archived"].endswith(("+01:00", "+02:00"))  # in Paris time


def test_the_front_matter_survives_hostile_text(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    title = 'a: "b"\n---\n# c\u2028d: [e] {f} #g'
    with Archive(db) as archive:
        archive.records.store(Article(url=f"{SITE}/1/x/", title=title, site_id=1, authors=["- x", "y: z"],
                                     body="Texte."))
    meta = front_matter(db, tmp_path / "md", "1-x.md")
    assert meta["title"] == title
    assert meta["author"] == ["- x", "y: z"]


def test_subheadings_become_markdown_headings(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        ingest_samples(archive)
    document = exported(db, "markdown")
    assert "\n\n## Des économies mesurées\n\nSelon le syndicat" in document  # an <h2> of the article's text
    assert "\n\n## A l’origine, les grandes entreprises\n\n" in document
    assert "\n\n## Le coût de la main-d’œuvre en question\n\n" in document
    assert "## Le principe est simple" not in document  # a paragraph stays one


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed (apt-get install pandoc)")
def test_pandoc_reads_the_front_matter_and_the_headings(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "md"
    assert scrape("export", "--db", db, "--format", "markdown", "--output", f"{folder}/").exit_code == 0
    path = folder / "610001-eclairage-economies.md"
    result = subprocess.run(["pandoc", "-f", "markdown", "-t", "json", str(path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    meta = document["meta"]

    def plain(value: dict[str, Any]) -> str:
        return subprocess.run(["pandoc", "-f", "json", "-t", "plain"], input=json.dumps(
            {"pandoc-api-version": document["pandoc-api-version"], "meta": {},
             "blocks": [{"t": "Plain", "c": value["c"]}]}), capture_output=True, text=True, timeout=120).stdout.strip()

    assert plain(meta["title"]) == TITLE
    assert [plain(author) for author in meta["author"]["c"]] == ["Hélène Girard", "Jean de La Fontaine",
                                                                 "Jean-Marc Le Bihan"]
    assert meta["paywalled"] == {"t": "MetaBool", "c": True}
    assert document["blocks"][0]["t"] == "Header"
    assert document["blocks"][0]["c"][0] == 1  # the title, a heading
