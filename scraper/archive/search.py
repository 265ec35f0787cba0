"""Full-text search over the archived articles: what people type, in French, best matches first.

A query is words, as typed: apostrophes (' and ’), hyphens, colons, quotes and parentheses only separate them
("l'éclairage", "main-d'œuvre", "nids-de-poule"), and every word must be found. A word is found in any of its
inflected forms and whatever its accents, case and ligatures: "chaussee" finds "chaussées", "oeuvre" finds
"œuvre". Elided articles (l', d', qu'…) are left out, and so are the commonest small words (le, de, et…) when
the query has others. Words are looked for in the article's title, kicker, teaser and body (the FTS5 index
`articles_fts`, tokenizer `unicode61 remove_diacritics 2`, kept in sync by triggers), its authors, dossier
title and themes, and its readers' comments (the FTS5 index `comments_fts`); each hit says where it matched.
`fts=True` takes the query as FTS5 syntax instead ("a phrase", prefix*, OR, NOT, NEAR(a b), title:word), over
the title, kicker, teaser and body.

Inflected forms come from Snowball's French stemmer (scraper.archive.words), applied at query time to the words
of the query and to the index's own vocabulary (FTS5's fts5vocab): a query word stands for every indexed term
whose stem is the word's, e.g. chaussee → ("chaussee" OR "chaussees"). The stored index is the one
`sqlite-utils search` and Datasette read, unchanged, and storing a page costs nothing more (a stemmed copy of
the text in a second index would cost about as much as `articles_fts` again, 1.2 KB an article, and a Python
step in every write that other tools writing the file would skip). Ranking is bm25 over the article's text with
a title match worth most, then the teaser, the kicker and the body, and the words as typed worth more than their
other forms; articles matched only by their authors, dossier, themes or comments come after.
"""

from __future__ import annotations

import re
import sqlite3
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from scraper.archive.db import Archive
from scraper.archive.queries import article_filters
from scraper.archive.schema import COMMENTS_FTS_TABLE, FTS_COLUMNS, FTS_TABLE
from scraper.archive.words import (
    MAX_QUERY_CHARS,
    MAX_QUERY_WORDS,
    WORD,
    finder,
    prefixes,
    query_words,
    spelt,
    stem,
    word_keys,
)
from scraper.errors import ArchiveError, InvalidOption, InvalidQuery

# bm25 weights, in the order of the FTS columns (title, kicker, teaser, body).
WEIGHTS = (10.0, 2.0, 5.0, 1.0)
MARK_START, MARK_END = "\x02", "\x03"  # around each matched word in `Hit.snippet`
SNIPPET_TOKENS = 16
# Where a match can be, in the order a hit lists them.
FIELDS = (*FTS_COLUMNS, "authors", "dossier", "themes", "comments")

MAX_FORMS = 64  # indexed forms one word stands for (a French word has a handful)
# The form typed counts this many times more in the ranking (bm25 sums each phrase of the expression): "voirie"
# before "voir", which the stemmer gives the same stem.
EXACT_BOOST = 1

# What SQLite says when the archive itself is at fault; any other error of a MATCH is the query's.
_ARCHIVE_ERROR = re.compile(r"no such table|locked|disk image|readonly|unable to open|out of memory|I/O")


@dataclass
class Hit:
    """One article that matches, with a snippet whose matched words sit between MARK_START and MARK_END, and
    the fields the query matched in (FIELDS' names)."""

    id: int
    site_id: int | None
    url: str
    title: str | None
    published_at: str | None
    dossier: str | None
    is_paywalled: bool
    snippet: str
    rank: float
    matched_in: list[str] = field(default_factory=list)

    def to_dict(self, mark: tuple[str, str] = ("<mark>", "</mark>")) -> dict[str, Any]:
        """The hit as JSON-ready data, with the matched words of the snippet between `mark`."""
        data = asdict(self)
        data["snippet"] = marked(self.snippet, *mark)
        return data


@dataclass
class Results:
    """The best `hits` (at most the limit asked) among `total` matching articles."""

    hits: list[Hit]
    total: int


def marked(snippet: str, start: str, end: str) -> str:
    """`snippet` with its match marks replaced by `start` and `end`."""
    return snippet.replace(MARK_START, start).replace(MARK_END, end)


def search(archive: Archive, query: str, *, dossier: str | None = None, since: str | None = None,
           limit: int = 20, fts: bool = False) -> Results:
    """The articles matching `query`, best first: the words as typed, or FTS5 syntax with `fts`.

    `dossier`: a dossier URL (any page) or words of its title (any case); `since`: YYYY-MM-DD, articles
    published (else updated) on or after it. An empty, too long or (with `fts`) malformed query raises
    InvalidQuery, a dossier that matches none InvalidOption.
    """
    if not query.strip():
        raise InvalidQuery("empty search query")
    if limit < 1:
        raise InvalidOption(f"invalid limit {limit}: at least 1")
    plan = _fts_plan(query) if fts else _words_plan(archive, query)
    wheres, params = article_filters(dossier_ids=archive.articles.named_dossier_ids(dossier), since=since)
    try:
        matched = _matching_ids(archive, plan, wheres, params)
        hits = _hits(archive, _best(archive, plan, matched, limit))
        _describe(archive, plan, hits)
    except sqlite3.OperationalError as error:
        raise _query_error(query, error, fts) from None
    return Results(hits, len(matched))


@dataclass
class _Plan:
    """A query made SQL: for each word, the queries of the ids of the articles that have it (`words`: an article
    matches when it is in one of each word's), `ranking` the FTS5 expression whose bm25 orders them, `params`
    the values they name."""

    words: list[list[str]]
    ranking: str | None
    params: dict[str, Any] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)  # stems of the words, to mark them outside articles_fts
    other_ids: dict[str, set[int]] = field(default_factory=dict)  # authors, dossier, themes: the rows matched
    comments: str | None = None  # the FTS5 expression over comments_fts
    forms: set[str] | None = None  # the indexed forms of the words, ligatures spelt out (None: FTS5 syntax)
    comment_forms: set[str] = field(default_factory=set)  # the same, in comments_fts


def _fts_plan(query: str) -> _Plan:
    words = len(WORD.findall(query))
    if len(query) > MAX_QUERY_CHARS or words > MAX_QUERY_WORDS:
        raise InvalidQuery(f"search query too long: {max(words, 1)} words, {len(query)} characters"
                           f" (at most {MAX_QUERY_WORDS} words and {MAX_QUERY_CHARS} characters)")
    return _Plan([[_ARTICLES_MATCHING.format(name="ranking")]], query, {"ranking": query})


def _words_plan(archive: Archive, query: str) -> _Plan:
    """Each word found in any of its forms, in any field; every word in each matching article."""
    words, phrase = query_words(query)
    comments_indexed = _exists(archive, COMMENTS_FTS_TABLE)
    if phrase:
        return _phrase_plan(words, comments_indexed)
    articles = _Vocabulary(archive, FTS_TABLE)
    comments = _Vocabulary(archive, COMMENTS_FTS_TABLE) if comments_indexed else None
    names = {field_name: _NameIndex(archive, sql) for field_name, sql in _NAMES.items()}
    plan = _Plan([], None, keys={key for word in words for key in word_keys(word)},
                 other_ids={field_name: set() for field_name in _NAMES}, forms=set())
    name = "a{number}"
    article_forms, comment_forms = [], []
    for number, word in enumerate(words):
        parts = []
        forms = articles.forms(word)
        if forms:
            plan.params[name.format(number=number)] = _any_of(forms)
            article_forms += forms + [word] * EXACT_BOOST * (word in forms)
            plan.forms |= {spelt(form) for form in forms}
            parts.append(_ARTICLES_MATCHING.format(name=name.format(number=number)))
        if comments is not None and (forms := comments.forms(word)):
            plan.params[f"c{number}"] = _any_of(forms)
            comment_forms += forms
            plan.comment_forms |= {spelt(form) for form in forms}
            parts.append(_COMMENTS_MATCHING.format(name=f"c{number}"))
        for field_name, index in names.items():
            if ids := index.ids(word):
                plan.other_ids[field_name] |= ids
                parts.append(_OWNERS[field_name].format(ids=", ".join(map(str, sorted(ids)))))
        plan.words.append(parts)
    plan.ranking = _any_of(article_forms) if article_forms else None
    plan.comments = _any_of(dict.fromkeys(comment_forms)) if comment_forms else None
    if plan.ranking:
        plan.params["ranking"] = plan.ranking
    return plan


def _phrase_plan(words: list[str], comments_indexed: bool) -> _Plan:
    """Small words alone: as a phrase of the article's text, or all in one comment (whose index keeps no word
    positions)."""
    phrase = '"' + " ".join(words) + '"'
    plan = _Plan([[_ARTICLES_MATCHING.format(name="ranking")]], phrase, {"ranking": phrase},
                 keys={stem(word) for word in words})
    if comments_indexed:
        plan.comments = plan.params["comments"] = " AND ".join(f'"{word}"' for word in words)
        plan.words[0].append(_COMMENTS_MATCHING.format(name="comments"))
    return plan


_ARTICLES_MATCHING = f"select rowid from [{FTS_TABLE}] where [{FTS_TABLE}] match :{{name}}"
_COMMENTS_MATCHING = (f"select article_id from comments where rowid in (select rowid from [{COMMENTS_FTS_TABLE}]"
                      f" where [{COMMENTS_FTS_TABLE}] match :{{name}})")


def _any_of(forms: Iterable[str]) -> str:
    return " OR ".join('"' + form.replace('"', '""') + '"' for form in forms)


def _exists(archive: Archive, table: str) -> bool:
    return archive.scalar("select 1 from sqlite_master where name = ?", [table]) is not None


class _Vocabulary:
    """The terms of an FTS5 index (through a temporary fts5vocab table), looked up by stem."""

    def __init__(self, archive: Archive, table: str) -> None:
        self.archive = archive
        self.terms = f"{table}_terms"
        archive.execute(f"create virtual table if not exists temp.[{self.terms}] using fts5vocab(main, [{table}],"
                        " row)")

    def forms(self, word: str) -> list[str]:
        """The indexed terms whose stem is the word's: its inflections, with or without ligatures."""
        keys = word_keys(word)
        found: list[str] = []
        for prefix in prefixes(word, keys):
            rows = self.archive.execute(f"select term from temp.[{self.terms}] where term >= ? and term < ?",
                                        [prefix, prefix + "\U0010ffff"])
            found += [term for (term,) in rows if stem(term) in keys]
        return sorted(set(found))[:MAX_FORMS]


# The tables whose few short names are matched in memory, and the articles each name belongs to.
_NAMES = {
    "authors": "select id, name from authors",
    "dossier": "select id, title from dossiers where title is not null",
    "themes": "select id, name from themes",
}
_OWNERS = {
    "authors": "select article_id from article_authors where author_id in ({ids})",
    "dossier": "select id from articles where dossier_id in ({ids})",
    "themes": "select article_id from article_themes where theme_id in ({ids})",
}


class _NameIndex:
    """The names of a table (authors, dossiers, themes) as one text, folded and ligatures spelt out, a line each."""

    def __init__(self, archive: Archive, sql: str) -> None:
        rows = archive.execute(sql).fetchall()
        self.row_ids = [row_id for row_id, _ in rows]
        text = "\n".join([name for _, name in rows])
        if text.count("\n") != len(rows) - 1:  # a name of several lines
            text = "\n".join([" ".join(name.split()) for _, name in rows])
        self.text = spelt(text)
        self.line_ends = [match.start() for match in re.finditer("\n", self.text)]

    def ids(self, word: str) -> set[int]:
        """The rows with a word of the stem of `word` (the words that begin as its forms do, stemmed)."""
        keys = word_keys(word)
        starts = "|".join(re.escape(start) for start in prefixes(word, keys))
        found = (match for match in re.finditer(rf"(?:{starts})[^\W_]*", self.text)
                 if match.start() == 0 or not self.text[match.start() - 1].isalnum())
        return {self.row_ids[bisect_left(self.line_ends, match.start())] for match in found
                if stem(match.group()) in keys}


def _matching_ids(archive: Archive, plan: _Plan, wheres: list[str], params: dict[str, Any]) -> set[int]:
    """The ids of the articles that have every word (in one of the places each word's queries look) and pass
    the filters."""
    matched: set[int] | None = None
    for parts in sorted(plan.words, key=len):  # a word found nowhere first: then nothing else is read
        having = {row_id for sql in parts for (row_id,) in archive.execute(sql, plan.params)}
        matched = having if matched is None else matched & having
        if not matched:
            return set()
    if matched and wheres:
        matched &= {row_id for (row_id,) in archive.execute(f"select id from articles where {' and '.join(wheres)}",
                                                            params)}
    return matched or set()


def _best(archive: Archive, plan: _Plan, matched: set[int], limit: int) -> list[tuple[int, float]]:
    """The `limit` best of `matched` with their rank: by bm25 over the article's text (SQLite keeps the best rows
    only, more when too few of them match every word), then those matched elsewhere alone, by id."""
    best: list[tuple[int, float]] = []
    scored: set[int] = set()
    weights = ", ".join(str(weight) for weight in WEIGHTS)
    sql = (f"select rowid, bm25([{FTS_TABLE}], {weights}) as rank from [{FTS_TABLE}] where [{FTS_TABLE}]"
           " match :ranking order by rank limit :rows")
    rows = limit
    while plan.ranking and matched:
        ranked = archive.execute(sql, {"ranking": plan.ranking, "rows": rows}).fetchall()
        best = [(row_id, rank) for row_id, rank in ranked if row_id in matched][:limit]
        if len(best) == limit or len(ranked) < rows:
            scored = {row_id for row_id, _ in ranked}
            break
        rows *= 4
    if len(best) == limit:
        return best
    return best + [(row_id, 0.0) for row_id in sorted(matched - scored)[:limit - len(best)]]


def _hits(archive: Archive, best: list[tuple[int, float]]) -> list[Hit]:
    if not best:
        return []
    rows = archive.execute(
        "select articles.id, articles.site_id, articles.url, articles.title, articles.published_at, dossiers.title,"
        " articles.is_paywalled from articles left join dossiers on dossiers.id = articles.dossier_id"
        f" where articles.id in ({', '.join(str(row_id) for row_id, _ in best)})")
    found = {row[0]: row for row in rows}
    return [Hit(*found[row_id][:6], bool(found[row_id][6]), "", rank) for row_id, rank in best]


def _describe(archive: Archive, plan: _Plan, hits: list[Hit]) -> None:
    """Give each hit its snippet and the fields it matched in."""
    if not hits:
        return
    by_id = {hit.id: hit for hit in hits}
    ids = ", ".join(str(hit.id) for hit in hits)
    if plan.ranking:
        _describe_text(archive, plan, by_id, ids)
    for field_name, matched_ids in plan.other_ids.items():
        if matched_ids:
            _describe_names(archive, plan, by_id, ids, field_name)
    if plan.comments:
        _describe_comments(archive, plan, by_id, ids)
    for hit in hits:
        hit.matched_in.sort(key=FIELDS.index)


def _describe_text(archive: Archive, plan: _Plan, by_id: dict[int, Hit], ids: str) -> None:
    """The best snippet of each hit's text (FTS5's), and the columns that hold a form of the words: found in the
    text folded as the index folds it, or (FTS5 syntax) by FTS5's own highlighting of each column."""
    marks = f"'{MARK_START}', '{MARK_END}'"
    columns = ", ".join(FTS_COLUMNS) if plan.forms is not None else ", ".join(
        f"snippet([{FTS_TABLE}], {number}, {marks}, '', 1)" for number in range(len(FTS_COLUMNS)))
    rows = archive.execute(
        f"select rowid, snippet([{FTS_TABLE}], -1, {marks}, '…', {SNIPPET_TOKENS}), {columns} from [{FTS_TABLE}]"
        f" where [{FTS_TABLE}] match :ranking and rowid in ({ids})", {"ranking": plan.ranking})
    has_form = finder(plan.forms) if plan.forms is not None else (lambda text: MARK_START in text)
    for row_id, snippet, *texts in rows:
        hit = by_id[row_id]
        hit.matched_in += [name for name, text in zip(FTS_COLUMNS, texts, strict=True) if text and has_form(text)]
        if hit.matched_in:
            hit.snippet = snippet or ""


def _describe_names(archive: Archive, plan: _Plan, by_id: dict[int, Hit], ids: str, field_name: str) -> None:
    sql = {
        "authors": "select article_id, author_id, name from article_authors join authors on authors.id = author_id"
                   f" where article_id in ({ids}) order by article_id, position",
        "dossier": f"select articles.id, dossiers.id, dossiers.title from articles join dossiers on dossiers.id ="
                   f" articles.dossier_id where articles.id in ({ids})",
        "themes": "select article_id, theme_id, name from article_themes join themes on themes.id = theme_id"
                  f" where article_id in ({ids}) order by article_id, position",
    }[field_name]
    for article_id, row_id, name in archive.execute(sql):
        hit = by_id[article_id]
        if row_id in plan.other_ids[field_name] and field_name not in hit.matched_in:
            hit.matched_in.append(field_name)
            if not hit.snippet:
                hit.snippet = f"{field_name}: {_marked_words(name, plan.keys)}"


def _describe_comments(archive: Archive, plan: _Plan, by_id: dict[int, Hit], ids: str) -> None:
    """The hits with a comment that holds a form of the words (found in the few comments of the hits, folded as
    the index folds them; a phrase of small words, by the index)."""
    if plan.comment_forms:
        has_form = finder(plan.comment_forms)
        rows = [(article_id, text) for article_id, text in archive.execute(
            f"select article_id, text from comments where article_id in ({ids}) order by article_id, position")
            if text and has_form(text)]
    else:
        rows = archive.execute(
            f"select article_id, text from comments where article_id in ({ids}) and rowid in (select rowid from"
            f" [{COMMENTS_FTS_TABLE}] where [{COMMENTS_FTS_TABLE}] match :comments) order by article_id, position",
            {"comments": plan.comments}).fetchall()
    for article_id, text in rows:
        hit = by_id[article_id]
        if "comments" not in hit.matched_in:
            hit.matched_in.append("comments")
            if not hit.snippet:
                hit.snippet = "comment: " + _excerpt(_marked_words(text or "", plan.keys))


def _marked_words(text: str, keys: set[str]) -> str:
    """`text` with the words whose stem is one of `keys` between the match marks."""
    return WORD.sub(lambda word: f"{MARK_START}{word.group()}{MARK_END}" if stem(word.group()) in keys
                    else word.group(), text)


def _excerpt(text: str, around: int = 80) -> str:
    """The part of a marked text around its first mark, about SNIPPET_TOKENS words."""
    first = text.find(MARK_START)
    start = max(0, first - around) if first >= 0 else 0
    if start:
        start = text.find(" ", start) + 1 or start
    end = min(len(text), start + 2 * around + 40)
    if end < len(text):
        end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    excerpt = text[start:end]
    if excerpt.count(MARK_START) > excerpt.count(MARK_END):
        excerpt += MARK_END
    return ("…" if start else "") + excerpt + ("…" if end < len(text) else "")


def _query_error(query: str, error: sqlite3.OperationalError, fts: bool) -> Exception:
    message = str(error)
    if _ARCHIVE_ERROR.search(message) or not fts:
        return ArchiveError(f"search failed: {message}")
    detail = message.removeprefix("fts5: ")
    return InvalidQuery(f"invalid search query {query!r}: {detail} (FTS5 syntax: without --fts, the words are"
                        " searched as typed)")
