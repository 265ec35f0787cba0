"""Property: a sample mutated as a redesign, an older theme or another publishing path would, gives the same
record on every field the mutation keeps (tests/robustness/table.py prints the whole table)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .mutations import BY_NAME, MUTATIONS, Mutation
from .records import HTML_SAMPLES, charset_of, compared, sample_text

LIST_SAMPLES = [name for name in HTML_SAMPLES if not name.startswith("article")]


@pytest.mark.parametrize("sample", HTML_SAMPLES)
@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda mutation: mutation.name)
def test_a_mutation_keeps_every_field_it_does_not_remove(sample: str, mutation: Mutation) -> None:
    comparison = compared(sample, (mutation,))
    assert comparison.wrong == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(HTML_SAMPLES),
       st.lists(st.sampled_from(MUTATIONS), min_size=2, max_size=4, unique_by=lambda mutation: mutation.name))
def test_mutations_combined_keep_every_field_none_of_them_removes(sample: str, mutations: list[Mutation]) -> None:
    comparison = compared(sample, tuple(mutations))
    assert comparison.wrong == [], [mutation.name for mutation in mutations]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda mutation: mutation.name)
def test_a_mutation_changes_every_list_page(mutation: Mutation) -> None:
    """No mutation passes for being a no-op: each one changes the dossier and listing pages."""
    for sample in LIST_SAMPLES:
        text, charset = sample_text(sample), charset_of(sample)
        assert mutation.apply(text, charset) != (text, charset), sample


def test_what_the_structural_mutations_do() -> None:
    text = sample_text("dossier-smart-city.html")
    stripped, _ = BY_NAME["strip classes"].apply(text, "utf-8")
    assert " class=" not in stripped.split("<body", 1)[1]
    assert " id=" not in stripped.split("<body", 1)[1]
    moved, _ = BY_NAME["heading out"].apply(text, "utf-8")
    assert '</h2><section class="dossierSommaire">' in moved.replace("\n", "").replace("\t", "")
    flagged, _ = BY_NAME["move paywall flag"].apply(text, "utf-8")
    assert 'class="listDossier__item isAbo"' in flagged
    retagged, _ = BY_NAME["retag containers"].apply(text, "utf-8")
    assert re.search(r"<(ol|li)\b", retagged) is None
    latin, charset = BY_NAME["windows-1252"].apply(text, "utf-8")
    assert charset == "iso-8859-1"
    assert "charset=iso-8859-1" in latin
    amp, _ = BY_NAME["AMP"].apply(text, "utf-8")
    assert "<html ⚡" in amp
    assert "<img" not in amp
    assert "<amp-img" in amp
