"""The site's URLs: post ids, dossier pages, and the normal form under which pages are queued and keyed."""

from __future__ import annotations

import pytest

from scraper.site import dossier_base_url, is_dossier_url, normal_url, scheme_variants, site_id_from_url

SITE = "https://www.lagazettedescommunes.com"


@pytest.mark.parametrize(("url", "expected"), [
    (f"{SITE}/554253/face-a-la-radicalisation/", 554253),
    (f"{SITE}/554253/face-a-la-radicalisation", 554253),
    (f"{SITE}/554253/face-a-la-radicalisation/?abo=1", 554253),
    (f"{SITE}/?p=554253", 554253),
    ("/457321/la-smart-city/#commentaires", 457321),
    (f"{SITE}/dossiers/smart-city/", None),
    (f"{SITE}/rubriques/club-technicites/page/2/", None),
    ("http://[::1/x", None),
    (None, None),
])
def test_site_id_from_url(url: str | None, expected: int | None) -> None:
    assert site_id_from_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), [
    (f"{SITE}/554253/slug/?abo=1", f"{SITE}/554253/slug/"),  # the paywall hint names the same page
    (f"{SITE}/554253/slug/?utm_source=x&utm_medium=rss&xtor=RSS-1", f"{SITE}/554253/slug/"),
    (f"{SITE}/554253/slug/#commentaires", f"{SITE}/554253/slug/"),
    (f"{SITE}/554253/slug", f"{SITE}/554253/slug/"),  # WordPress's own form of an article URL
    ("HTTPS://WWW.LaGazetteDesCommunes.com/554253/Slug/", f"{SITE}/554253/Slug/"),  # the path keeps its case
    (f"{SITE}/dossiers/smart-city", f"{SITE}/dossiers/smart-city/"),
    (f"{SITE}/?s=voirie&abo=1", f"{SITE}/?s=voirie"),  # other parameters stay
    (f"{SITE}/rubriques/club-technicites/feed", f"{SITE}/rubriques/club-technicites/feed"),
    ("  http://127.0.0.1:8000/1234/x/?abo=1  ", "http://127.0.0.1:8000/1234/x/"),
    ("http://[::1/x", "http://[::1/x"),  # malformed: left as it is
])
def test_normal_url(url: str, expected: str) -> None:
    assert normal_url(url) == expected
    assert normal_url(expected) == expected  # a normal form is its own


def test_dossier_urls_and_pages() -> None:
    base = f"{SITE}/dossiers/smart-city/"
    assert is_dossier_url(base)
    assert is_dossier_url(f"{base}page/3/")
    assert not is_dossier_url(f"{SITE}/1234/x/")
    assert dossier_base_url(f"{base}page/3/") == (base, 3)
    assert scheme_variants(base) == [base, base.replace("https://", "http://")]
