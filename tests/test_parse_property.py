"""Property: whatever bytes come in, parse_page returns a well-formed record, and never through its
last-resort fallback (which would mean some code path raised)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.models import ARTICLE_KEYS, DOSSIER_KEYS, LISTING_KEYS
from scraper.parse import parse_page

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "samples").glob("*.html"))
SAMPLE_BYTES = [path.read_bytes() for path in SAMPLES]
KEYS = {"article": ARTICLE_KEYS, "dossier": DOSSIER_KEYS, "listing": LISTING_KEYS}
FRAGMENTS = ["<p>", "</p>", "<div class='chapo'>", "</div>", "<li class='comment'>", "<ul>", "</ul>", "<h1>", "</h1>",
             "Par ", " et ", "Publié le 12/03/2018 à 10h45", "Mis à jour le 31/02/2016", "x - 01/01/2020 10h:00",
             "Article réservé aux abonnés", "Thèmes abordés", "Sur le même sujet", "L'actu Technique",
             "<a href='/123456/a/'>", "<a href='javascript:x'>", "</a>", "3 | réagir", "&eacute;", "&#xD800;", "\x00",
             "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"headline\": [1, {}]}</script>",
             "<script type='application/ld+json'>{oops</script>", "<meta property='og:type' content='article'>",
             "<link rel='canonical' href='http://[::1/'>", "<article class='blocType isAbo'>", "</article>",
             "Cet article fait partie du dossier", "<a href='/dossiers/d/'>", "<figure><img src=''>", "Page suivante"]


def assert_well_formed(content: bytes | str, url: str | None = "https://www.lagazettedescommunes.com/1/x/") -> None:
    record = parse_page(content, url)
    data = record.to_dict()
    assert tuple(data) == KEYS[data["type"]]
    json.dumps(data, ensure_ascii=False)
    assert not any(warning.startswith("page could not be parsed") for warning in record.warnings), record.warnings


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLE_BYTES), st.floats(min_value=0, max_value=1))
def test_truncated_samples(sample: bytes, fraction: float) -> None:
    assert_well_formed(sample[: int(len(sample) * fraction)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLE_BYTES), st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=8)),
                                               min_size=1, max_size=20))
def test_mutated_samples(sample: bytes, mutations: list[tuple[float, bytes]]) -> None:
    content = bytearray(sample)
    for where, replacement in mutations:
        at = int(len(content) * where)
        content[at:at + len(replacement)] = replacement
    assert_well_formed(bytes(content))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=20), max_size=40), st.sampled_from(
    [None, "", "file:///tmp/x.html", "https://www.lagazettedescommunes.com/dossiers/d/",
     "https://www.lagazettedescommunes.com/rubriques/club-technicites/page/2/"]))
def test_random_html_fragments(fragments: list[str], url: str | None) -> None:
    assert_well_formed("".join(fragments), url)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes(content: bytes) -> None:
    assert_well_formed(content)
