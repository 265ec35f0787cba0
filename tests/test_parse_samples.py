"""Every sample parses to its expected record, compared field by field (one test per field)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scraper.parse import parse_page

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
EXPECTED = ROOT / "tests" / "expected"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))


def _page_cases() -> list[tuple[str, str]]:
    cases = []
    for expected in sorted(EXPECTED.glob("*.json")):
        sample = next((name for name in MANIFEST if Path(name).stem == expected.stem), None)
        if sample is None or not sample.endswith(".html"):
            continue
        record = json.loads(expected.read_text(encoding="utf-8"))
        cases += [(sample, field) for field in record]
    return cases


def _parsed(sample: str) -> dict:
    entry = MANIFEST[sample]
    content = (SAMPLES / sample).read_bytes()
    return parse_page(content, entry["url"], content_type=entry.get("content_type")).to_dict()


_cache: dict[str, dict] = {}


@pytest.mark.parametrize(("sample", "field"), _page_cases())
def test_sample_field(sample: str, field: str) -> None:
    if sample not in _cache:
        _cache[sample] = _parsed(sample)
    expected = json.loads((EXPECTED / f"{Path(sample).stem}.json").read_text(encoding="utf-8"))
    assert _cache[sample][field] == expected[field]


@pytest.mark.parametrize("sample", [name for name in MANIFEST if name.endswith(".html")])
def test_sample_record_has_exactly_the_contract_keys(sample: str) -> None:
    record = _parsed(sample)
    expected = json.loads((EXPECTED / f"{Path(sample).stem}.json").read_text(encoding="utf-8"))
    assert list(record) == list(expected)


@pytest.mark.parametrize("sample", [name for name in MANIFEST if name.endswith(".html")])
def test_parsing_ignores_the_file_name_and_fetch_url(sample: str) -> None:
    """Type detection and the canonical URL come from the page itself, not from where it was read."""
    content = (SAMPLES / sample).read_bytes()
    record = parse_page(content, "file:///tmp/page.html", content_type=MANIFEST[sample].get("content_type"))
    expected = json.loads((EXPECTED / f"{Path(sample).stem}.json").read_text(encoding="utf-8"))
    assert (record.type, record.url) == (expected["type"], expected["url"])
