"""Datasette metadata for an archive: `scrape datasette-metadata > metadata.json`, then
`datasette archive.db -m metadata.json`.

It gives the archive a title, its source and a license note, a description of every table, view and
column, the label column of the tables that foreign keys point to (so an article's row shows its
dossier's title and an author link shows the author's name), and canned queries for the common
questions. The format is the metadata file of Datasette 0.x (`databases` → `tables` / `queries`).
The descriptions of the tables, views and columns are the archive's own (scraper.archive.descriptions).

It also makes the pages readable (Datasette 0.x has no metadata for hidden columns or cell width): tables that
grow open newest first (`sort_desc`); a small stylesheet, carried inside the metadata as a `data:` URL so that
nothing else needs serving, hides the heavy columns (an article's `body` and `record`) from the table pages and
cuts every table cell to one line with an ellipsis; a few lines of script (also a `data:` URL) fold the column
descriptions of a table page under "Columns" and show a row page as a card, each value under its column's name,
an article's text in paragraphs and its record as indented JSON. The JSON API is not touched:
`/archive/articles.json` has every column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from scraper import __version__
from scraper.archive.descriptions import TABLES
from scraper.archive.queries import DOSSIER_MATCH

SOURCE = "La Gazette des communes — Club Techni.Cités"
SOURCE_URL = "https://www.lagazettedescommunes.com/rubriques/club-technicites/"
LICENSE = "Texts © La Gazette des communes and their authors: a personal archive, not for republication"
LICENSE_NOTE = (
    "The articles, comments and images belong to La Gazette des communes and their authors. This archive "
    "is a personal copy for research and documentation: quote it, do not republish it."
)
ABOUT = "Archived with scrape"

# Newest first, by the date that says when a row happened.
NEWEST_FIRST = {"articles": "published_at", "fetches": "fetched_at", "fetch_details": "fetched_at",
                "runs": "started_at",
                "article_versions": "recorded_at", "comments": "posted_at"}
# Columns too heavy for a table page: shown on the row page only.
HEAVY_COLUMNS = {"articles": ("body", "record")}
CELL_WIDTH = "18em"
# What the stylesheet cannot do: a row page read as a card (each value under its column's name), an article's
# whole record (rebuilt by the view article_records, fetched from Datasette's JSON API) as indented JSON in place
# of the `record` column, and a table page's column descriptions folded under "Columns" above the rows.
PAGE_JS = (Path(__file__).parent / "datasette_page.js").read_text(encoding="utf-8")

FACETS: dict[str, list[str]] = {
    "articles": ["is_paywalled", "dossier_id"],
    "fetches": ["status", "error_class", "source"],
}

QUERIES: dict[str, dict[str, str]] = {
    "paywalled_articles_of_dossier": {
        "title": "Paywalled articles of a dossier",
        "description": "The articles of a dossier reserved to subscribers, in the dossier's order. "
        "dossier: words of its title, or the URL of any of its pages (as `scrape export --dossier`).",
        "sql": """
select * from (
  select dossiers.title as dossier, dossier_articles.page, dossier_articles.position,
    dossier_articles.title, dossier_articles.url, dossier_articles.article_id, articles.published_at
  from dossier_articles
    join dossiers on dossiers.id = dossier_articles.dossier_id
    left join articles on articles.id = dossier_articles.article_id
  where {dossier_match}
    and (dossier_articles.is_paywalled = 1 or articles.is_paywalled = 1)
  union all
  -- paywalled articles that name the dossier but are not in its table of contents
  select dossiers.title, null, null, articles.title, articles.url, articles.id, articles.published_at
  from articles join dossiers on dossiers.id = articles.dossier_id
  where {dossier_match}
    and articles.is_paywalled = 1
    and articles.id not in (select article_id from dossier_articles
                            where dossier_id = dossiers.id and article_id is not null)
)
order by dossier, page is null, page, position""".strip().format(dossier_match=DOSSIER_MATCH),
    },
    "most_commented_articles": {
        "title": "Most commented articles",
        "description": "Articles by number of comments (as announced by the page, else as archived).",
        "sql": """
select articles.id, articles.title, articles.url, articles.published_at,
  max(coalesce(articles.comments_count, 0),
      (select count(*) from comments where comments.article_id = articles.id)) as comments
from articles
where comments > 0
order by comments desc, articles.published_at desc
limit 100""".strip(),
    },
    "articles_by_author": {
        "title": "Articles by author",
        "description": "The articles an author signed, newest first. author: part of the name.",
        "sql": """
select authors.name as author, articles.id, articles.title, articles.url, articles.published_at,
  articles.is_paywalled
from authors
  join article_authors on article_authors.author_id = authors.id
  join articles on articles.id = article_authors.article_id
where authors.name like '%' || :author || '%'
order by coalesce(articles.published_at, articles.updated_at) desc, articles.id desc""".strip(),
    },
    "changed_articles": {
        "title": "Articles that changed",
        "description": "Articles whose content changed since first archived, with what changed.",
        "sql": """
select articles.id, articles.title, articles.url, count(*) as versions,
  max(article_versions.recorded_at) as last_change,
  (select group_concat(field, ', ') from (
     select distinct json_each.value as field
     from article_versions as v, json_each(v.changed_fields)
     where v.article_id = articles.id)) as changed_fields
from article_versions join articles on articles.id = article_versions.article_id
group by articles.id
order by last_change desc""".strip(),
    },
}


def database_name(db_path: str | Path) -> str:
    """The name Datasette gives the database of `db_path` (its file name without the extension)."""
    return Path(db_path).stem


def datasette_metadata(db_path: str | Path = "archive.db") -> dict[str, Any]:
    """The metadata of the archive at `db_path` for Datasette (`datasette DB -m metadata.json`)."""
    return {
        "title": "Club Techni.Cités archive",
        "description": "Articles, dossiers, authors, themes, comments and their history, archived from "
        "the Club Techni.Cités pages of La Gazette des communes.",
        "source": SOURCE,
        "source_url": SOURCE_URL,
        "license": LICENSE,
        "license_url": SOURCE_URL,
        "about": f"{ABOUT} {__version__}",
        "extra_css_urls": [_data_url("text/css", page_css())],
        "extra_js_urls": [_data_url("text/javascript", PAGE_JS)],
        "databases": {database_name(db_path): _database_metadata()},
    }


def page_css() -> str:
    """The stylesheet of the archive's pages: heavy columns off the table pages, one-line cells there, the
    article's text in paragraphs on its row page."""
    hidden = ", ".join(f"body.table.table-{table} .col-{column}" for table, columns in HEAVY_COLUMNS.items()
                       for column in columns)
    return "\n".join([
        f"{hidden} {{ display: none; }}",
        f"body.table td {{ max-width: {CELL_WIDTH}; overflow: hidden; text-overflow: ellipsis; "
        "white-space: nowrap; }",
        "table.as-card thead { display: none; }",
        "table.as-card tr, table.as-card td { display: block; border: none; }",
        "table.as-card td { padding: 0.3em 0; max-width: 60em; }",
        "table.as-card td::before { content: attr(data-label); display: block; margin: 0; font-weight: bold; "
        "font-size: 0.8em; color: #555; }",
        "body.row.table-articles td.col-body { white-space: pre-wrap; }",
        "pre.record-json { white-space: pre-wrap; margin: 0; font-size: 0.85em; }",
        "details.column-descriptions { margin: 0.5em 0 1em; } details.column-descriptions summary { cursor: pointer; }",
    ])


def _data_url(media_type: str, text: str) -> str:
    return f"data:{media_type};charset=utf-8,{quote(text)}"


def _database_metadata() -> dict[str, Any]:
    return {
        "description": LICENSE_NOTE,
        "tables": {name: _table_metadata(name) for name in TABLES},
        "queries": {name: dict(query) for name, query in QUERIES.items()},
    }


def _table_metadata(name: str) -> dict[str, Any]:
    description, label_column, columns = TABLES[name]
    table: dict[str, Any] = {"description": description}
    if label_column:
        table["label_column"] = label_column
    if columns:
        table["columns"] = dict(columns)
    if name in FACETS:
        table["facets"] = list(FACETS[name])
    if name in NEWEST_FIRST:
        table["sort_desc"] = NEWEST_FIRST[name]
    return table
