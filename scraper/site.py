"""What the tool knows of the site's URLs, in one place: its hosts, the post id of an article URL, dossier
pages, and the normal form of a URL under which pages are queued and keyed.

Never raises: pages carry malformed links ('http://[::1/') and every caller must be able to ask about them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

SITE_HOSTS = frozenset({
    "www.lagazettedescommunes.com",
    "lagazettedescommunes.com",
    "services.lagazettedescommunes.com",
    "emploi.lagazettedescommunes.com",
    "forums.lagazettedescommunes.com",
})

# Query parameters that name the same page: the site's paywall hint and the usual campaign trackers.
IGNORED_PARAMETERS = frozenset({"abo", "xtor", "fbclid", "gclid", "mc_cid", "mc_eid"})
IGNORED_PARAMETER_PREFIXES = ("utm_",)

_POST_ID_PATH = re.compile(r"^/(\d{3,})/[^/]+/?$")
# Possessive: no part can give back what it took and let the next match (a scheme holds no ':', a host no '/', a slug
# stops before the only characters that may follow it), so the match fails at once rather than by backtracking.
_POST_ID_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*+://[^/?#]*+)?+/(\d{3,})/[^/?#]++/?(?:[?#]|$)")
post_id_url = _POST_ID_URL.match  # site_id_from_url's common case, for a caller that asks about every link of a page
_DOSSIER_PATH = re.compile(r"^/dossiers?/[^/]+(/page/\d+)?/?$")
_PAGE_SUFFIX = re.compile(r"page/(\d+)/?$")


def is_site_host(host: str | None) -> bool:
    """Whether `host` is one of the site's (its case and a leading 'www.' aside)."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    return host in SITE_HOSTS or "www." + host in SITE_HOSTS


def off_site_reason(record_url: str | None, final_url: str | None = None,
                    allows: Callable[[str], bool] | None = None) -> str | None:
    """Why a page is not one of the site's, or None: its final URL (after redirects) or its record's URL (its
    canonical link, else og:url, else where it was read) is an http(s) URL that is not on the site's hosts
    (`allows`, e.g. a fetch policy's, says which origins stand for the site; by default SITE_HOSTS). A URL that is
    unknown or not http(s) (a saved file without a canonical link) says nothing."""
    for url in (final_url, record_url):
        if url and is_url(url.strip()) and not (allows(url.strip()) if allows else _on_site_hosts(url.strip())):
            return f"not a page of the site: {url.strip()}"
    return None


def _on_site_hosts(url: str) -> bool:
    parts = split(url)
    return parts is not None and is_site_host(parts.hostname)


def is_url(source: str) -> bool:
    """Whether `source` is an http(s) URL (anything else a command reads as a local path)."""
    return source.startswith(("http://", "https://"))


def split(url: str | None) -> SplitResult | None:
    """`url` split into its parts, or None when it is empty or malformed."""
    if not url:
        return None
    try:
        return urlsplit(url)
    except ValueError:
        return None


def path_of(url: str | None) -> str:
    parts = split(url)
    return (parts.path if parts else "") or "/"


def site_id_from_url(url: str | None) -> int | None:
    """The WordPress post id of an article URL: /NNNNNN/slug/ or ?p=NNNNNN."""
    if not url:
        return None
    match = _POST_ID_URL.match(url)  # the common case, without splitting the URL; most other links fail it at once
    if match:
        return int(match.group(1))
    if "p=" not in url:
        return None
    parts = split(url)
    if parts is None:
        return None
    match = _POST_ID_PATH.match(parts.path)
    if match:
        return int(match.group(1))
    post = dict(parse_qsl(parts.query)).get("p")
    return int(post) if post and post.isdigit() else None


def is_dossier_path(path: str) -> bool:
    """Whether a URL path is a dossier's (/dossiers/<slug>/, any of its /page/N/)."""
    return _DOSSIER_PATH.match(path) is not None


def is_dossier_url(url: str) -> bool:
    return is_dossier_path(path_of(url))


def dossier_base_url(url: str) -> tuple[str, int]:
    """A dossier page URL split into the dossier's base URL and the page number (1 when absent)."""
    match = _PAGE_SUFFIX.search(url)
    if not match or not url[: match.start()].endswith("/"):
        return url, 1
    return url[: match.start()], int(match.group(1))


def without_scheme(url: str) -> str:
    """A URL without its scheme: the site's http and https pages are the same page."""
    return url.split("://", 1)[-1]


def scheme_variants(url: str) -> list[str]:
    """The http and https spellings of one URL (the same page on the site), `url` first."""
    for scheme, other in (("https://", "http://"), ("http://", "https://")):
        if url.startswith(scheme):
            return [url, other + url[len(scheme):]]
    return [url]


def normal_url(url: str) -> str:
    """The form under which a page is queued and keyed: scheme and host in lower case, no fragment, no `abo`
    or tracking parameters, and the trailing slash of an article or dossier path. A malformed URL comes
    back stripped of surrounding spaces, otherwise as it is."""
    url = url.strip()
    parts = split(url)
    if parts is None or not parts.scheme:
        return url
    query = _kept_query(parts.query)
    path = parts.path
    if not path.endswith("/") and (_POST_ID_PATH.match(path + "/") or is_dossier_path(path + "/")):
        path += "/"
    netloc = parts.netloc if "@" in parts.netloc else parts.netloc.lower()  # user info keeps its case
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def _kept_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(name, value) for name, value in pairs
            if name.lower() not in IGNORED_PARAMETERS and not name.lower().startswith(IGNORED_PARAMETER_PREFIXES)]
    return query if len(kept) == len(pairs) else urlencode(kept)
