"""The samples and their expected records are well formed: this guards the ground truth, not the parser.

Every manifest entry names an existing file that decodes with the charset its server would declare (an
ISO-8859-1 label read as windows-1252, as browsers do); the windows-1252 sample really holds cp1252 bytes;
every expected record is a valid contract record that round-trips through `record_from_dict`/`to_dict`.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scraper.models import record_from_dict

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
EXPECTED = ROOT / "tests" / "expected"
MANIFEST: dict[str, dict[str, str]] = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))
HTML_SAMPLES = sorted(name for name in MANIFEST if name.endswith(".html"))
CP1252_SAMPLE = "article-2016-cp1252.html"
ARTICLE_SAMPLES = [
    "article-smart-city-2018.html",
    "article-free-2018.html",
    "article-smart-city-redesign.html",
    CP1252_SAMPLE,
]

# WHATWG Encoding Standard: these labels all mean windows-1252.
_WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "windows-1252",
                        "cp1252"}
_C1_CONTROLS = re.compile("[\x80-\x9f]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)


def _codec(label: str) -> str:
    """The Python codec a browser would use for a charset label."""
    label = label.strip().lower()
    if label in _WINDOWS_1252_LABELS:
        return "cp1252"
    return codecs.lookup(label).name


def _header_charset(sample: str) -> str:
    match = re.search(r"charset=([^;\s]+)", MANIFEST[sample]["content_type"], re.IGNORECASE)
    assert match, f"{sample}: the manifest content_type declares no charset"
    return match.group(1).strip("\"'")


def _decoded(sample: str) -> str:
    return (SAMPLES / sample).read_bytes().decode(_codec(_header_charset(sample)))


def _expected(sample: str) -> dict:
    return json.loads((EXPECTED / f"{Path(sample).stem}.json").read_text(encoding="utf-8"))


def test_the_article_samples_are_in_the_manifest() -> None:
    assert set(ARTICLE_SAMPLES) <= set(MANIFEST)


@pytest.mark.parametrize("sample", sorted(MANIFEST))
def test_manifest_entry_names_an_existing_file_on_the_site(sample: str) -> None:
    entry = MANIFEST[sample]
    assert (SAMPLES / sample).is_file()
    url = urlsplit(entry["url"])
    assert url.scheme in ("http", "https")
    assert url.hostname == "www.lagazettedescommunes.com"
    assert entry["content_type"].split(";")[0].strip()


@pytest.mark.parametrize("sample", sorted(MANIFEST))
def test_sample_decodes_strictly_with_its_declared_charset(sample: str) -> None:
    text = _decoded(sample)  # strict: raises UnicodeDecodeError on a byte the codec does not define
    assert "\ufffd" not in text
    assert not _C1_CONTROLS.search(text), "C1 control characters: the bytes are not in the declared charset"


@pytest.mark.parametrize("sample", HTML_SAMPLES)
def test_meta_charset_agrees_with_the_http_header(sample: str) -> None:
    match = _META_CHARSET.search((SAMPLES / sample).read_bytes()[:4096])
    assert match, f"{sample}: no <meta> charset in the head"
    assert _codec(match.group(1).decode("ascii")) == _codec(_header_charset(sample))


def test_cp1252_sample_is_labelled_iso_8859_1_but_holds_windows_1252_bytes() -> None:
    raw = (SAMPLES / CP1252_SAMPLE).read_bytes()
    assert _header_charset(CP1252_SAMPLE).lower() == "iso-8859-1"
    assert b'content="text/html; charset=iso-8859-1"' in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    # Read as true ISO-8859-1 these bytes would be C1 controls; as windows-1252 they are ’ … – œ €.
    assert _C1_CONTROLS.search(raw.decode("iso-8859-1"))
    text = raw.decode("cp1252")
    for char in "’…–œ€":
        assert char in text, f"{char!r} missing from the decoded page"


def test_cp1252_expected_record_keeps_the_windows_1252_characters() -> None:
    record = _expected(CP1252_SAMPLE)
    fields = " ".join([record["title"], record["teaser"], record["body"]])
    for char in "’…–œ€":
        assert char in fields


@pytest.mark.parametrize("sample", HTML_SAMPLES)
def test_every_html_sample_has_an_expected_record(sample: str) -> None:
    assert (EXPECTED / f"{Path(sample).stem}.json").is_file()


@pytest.mark.parametrize("sample", HTML_SAMPLES)
def test_expected_record_round_trips_through_the_models(sample: str) -> None:
    data = _expected(sample)
    rebuilt = record_from_dict(data).to_dict()
    assert rebuilt == data
    assert json.dumps(rebuilt, ensure_ascii=False) == json.dumps(data, ensure_ascii=False), "key order differs"


@pytest.mark.parametrize("sample", HTML_SAMPLES)
def test_expected_file_is_utf8_json_with_indent_2(sample: str) -> None:
    text = (EXPECTED / f"{Path(sample).stem}.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("sample", HTML_SAMPLES)
def test_expected_url_is_where_the_page_lives(sample: str) -> None:
    assert _expected(sample)["url"] == MANIFEST[sample]["url"]


@pytest.mark.parametrize("sample", ARTICLE_SAMPLES)
def test_expected_article_is_consistent_with_itself(sample: str) -> None:
    record = _expected(sample)
    assert record["type"] == "article"
    assert record["warnings"] == []
    assert record["site_id"] == int(urlsplit(record["url"]).path.split("/")[1])
    texts = [record["title"], record["kicker"], record["teaser"], record["body"], *record["authors"],
             *record["themes"], *record["paywall"]["markers"]]
    texts += [value for link in record["related"] for value in (link["title"], link["teaser"])]
    texts += [comment["text"] for comment in record["comments"]]
    for text in filter(None, texts):
        for block in text.split("\n\n"):
            assert block == " ".join(block.split()), f"not whitespace-normalised: {block[:60]!r}"
    for url in [record["url"], *(link["url"] for link in record["related"])]:
        assert urlsplit(url).scheme in ("http", "https")
    if record["image"]:
        assert urlsplit(record["image"]["url"]).scheme in ("http", "https")
    if record["paywall"]["markers"]:
        assert record["paywall"]["is_paywalled"]
    for index, comment in enumerate(record["comments"]):
        assert comment["in_reply_to"] is None or 0 <= comment["in_reply_to"] < index
    if record["comments"]:
        assert record["comments_count"] == len(record["comments"])
