"""Each fact once: an article's record is rebuilt from its columns and child rows, and its history from reverse
diffs — both exactly, whatever the record holds (properties over real SQLite files)."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.archive import Archive
from scraper.diffs import reverse_diff, undo, word_diff
from scraper.models import Article, Comment, DossierRef, Image, Paywall, RelatedLink, plain

SITE = "https://www.lagazettedescommunes.com"
# Text as the parser gives it (no surrogates: SQLite stores UTF-8), with the characters JSON must escape.
TEXT = st.text(st.characters(exclude_categories=("Cs",)) | st.sampled_from(["\n", "\x00", '"', "\\", "\u2028", "é"]),
               max_size=40)
MAYBE = st.none() | TEXT
WORDS = st.lists(st.sampled_from(["le", "la", "réseau", "d’eau", "\n\n", "  ", "communes", "«", "»", "."]),
                 max_size=30).map(" ".join)


def articles(site_id: int = 550001) -> st.SearchStrategy[Article]:
    return st.builds(
        Article,
        url=st.just(f"{SITE}/{site_id}/x/") | st.just(f"http://www.lagazettedescommunes.com/{site_id}/x/"),
        title=TEXT, site_id=st.just(site_id), kicker=MAYBE,
        published_at=st.none() | st.sampled_from(["2018-03-12", "2018-03-12T10:45:00", "2016-07-26T18:00:00+02:00"]),
        updated_at=MAYBE, authors=st.lists(TEXT.filter(bool), max_size=3), teaser=MAYBE, body=st.none() | WORDS,
        image=st.none() | st.builds(Image, url=TEXT, alt=MAYBE, credit=MAYBE),
        dossier=st.none() | st.builds(DossierRef, title=TEXT, url=st.none() | st.just(f"{SITE}/dossiers/d/")),
        paywall=st.builds(Paywall, is_paywalled=st.booleans(), markers=st.lists(TEXT, max_size=3)),
        related=st.lists(st.builds(RelatedLink, section=MAYBE, title=TEXT, url=TEXT, teaser=MAYBE), max_size=3),
        comments_count=st.none() | st.integers(0, 2**40),
        comments=st.lists(st.builds(Comment, author=MAYBE, posted_at=MAYBE, text=TEXT,
                                    in_reply_to=st.none() | st.integers(0, 5)), max_size=3),
        themes=st.lists(TEXT.filter(bool), max_size=3), warnings=st.lists(TEXT, max_size=2),
    )


def without_warnings(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "warnings"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles(), articles(550002))
def test_the_record_comes_back_from_its_columns_and_child_rows(first: Article, second: Article) -> None:
    with tempfile.TemporaryDirectory() as tmp, Archive(Path(tmp) / "a.db") as archive:
        archive.records.store(first)
        archive.records.store(second)
        assert {record["site_id"]: record for record in archive.articles.records()} == {
            550001: first.to_dict(), 550002: second.to_dict()}
        assert archive.records.store(first).action == "unchanged"  # what the plan compares is exact too
        stored = archive.db.execute("select record from articles where site_id = 550001").fetchone()[0]
        assert json.loads(stored) == ({"dossier": first.to_dict()["dossier"]} if first.dossier else {})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(articles(), min_size=1, max_size=4))
def test_every_version_comes_back_from_the_reverse_diffs(captures: list[Article]) -> None:
    expected: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, Archive(Path(tmp) / "a.db") as archive:
        for number, article in enumerate(captures):
            outcome = archive.records.store(article, seen_at=f"2024-01-0{number + 1}T00:00:00+00:00")
            if outcome.action == "inserted" or [name for name in outcome.changed_fields if name != "warnings"]:
                expected.append(without_warnings(article.to_dict()))
        history = archive.versions.history("550001")
    assert [without_warnings(version.record) for version in history.versions] == expected
    assert history.versions[0].seen_from == "2024-01-01T00:00:00.000Z"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.tuples(WORDS, WORDS), st.tuples(TEXT, TEXT),
                 st.tuples(st.lists(TEXT, max_size=6), st.lists(TEXT, max_size=6)),
                 st.tuples(st.none() | st.integers(), st.none() | TEXT)))
def test_a_reverse_diff_undoes_the_change(pair: tuple[Any, Any]) -> None:
    before, after = pair
    diff = reverse_diff(before, after)
    assert undo(after, diff) == before
    # measured as the archive stores it (compact JSON): with json.dumps's spaces an edit list can look longer
    stored = {"ensure_ascii": False, "sort_keys": True, "separators": (",", ":")}
    assert len(json.dumps(diff, **stored)) <= len(json.dumps({"value": before}, **stored))


def test_a_small_edit_of_a_long_text_keeps_only_the_words_that_changed() -> None:
    body = " ".join(f"mot{number}" for number in range(2000))
    edited = body.replace("mot1000 ", "terme nouveau ")
    diff = reverse_diff(body, edited)
    assert diff == {"text": [[edited.index("terme"), edited.index("terme") + len("terme nouveau"), "mot1000"]]}
    assert undo(edited, diff) == body


def test_word_diff_gives_the_words_kept_removed_and_added() -> None:
    assert word_diff("La télégestion des réseaux", "La télégestion de nos réseaux d’eau") == [
        ("=", "La télégestion "), ("-", "des"), ("+", "de nos"), ("=", " réseaux"), ("+", " d’eau")]


@settings(max_examples=80, deadline=None)
@given(articles())
def test_a_record_as_plain_data_is_what_dataclasses_asdict_gives(article: Article) -> None:
    """models.plain, asdict's faster stand-in for every record stored, gives the same data, of the same types."""
    ours, theirs = plain(article), dataclasses.asdict(article)
    assert ours == theirs
    assert json.dumps(ours) == json.dumps(theirs)
    assert repr(ours) == repr(theirs)  # tuples stay tuples, lists lists
    assert article.to_dict() == {key: theirs[key] for key in article.to_dict()}


def test_plain_data_rebuilds_lists_tuples_and_dicts_and_leaves_nothing_shared() -> None:
    @dataclasses.dataclass
    class Inner:
        pair: tuple[int, str]
        names: dict[str, list[int]]

    @dataclasses.dataclass
    class Outer:
        inner: Inner
        items: list[Inner]

    value = Outer(Inner((1, "a"), {"x": [1, 2]}), [Inner((2, "b"), {})])
    ours = plain(value)
    assert ours == dataclasses.asdict(value) == {"inner": {"pair": (1, "a"), "names": {"x": [1, 2]}},
                                                 "items": [{"pair": (2, "b"), "names": {}}]}
    ours["inner"]["names"]["x"].append(3)
    assert value.inner.names["x"] == [1, 2]
