"""Answers that are not the page asked for: a bot-protection service's challenge or block page, and a login
page served in place of an article (a subscriber whose session has expired).

One classifier for every way a page comes in (a fetch, robots.txt, an import), so such an answer is never
stored as a page. It decides on what the services themselves send, never on a header that also comes with
pages that were let through (`server: cloudflare`, `cf-ray`, `x-datadome: protected`):

- `cf-mitigated: challenge`: Cloudflare sets it on every challenge page, whatever the status;
- a refusal status (401, 403, 429, 503) whose body carries a challenge marker (`CHALLENGE_MARKERS`);
- a 401 or 403 with DataDome's headers (`x-dd-b`, a `datadome=` cookie set);
- a challenge marker in a page of any status that holds no article, dossier or listing (an interstitial
  served with 200): asked once the page is parsed (`refused_page`).

Pure functions of what was received: no I/O, no state.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from scraper.models import PAGE_TYPES, Record

REFUSAL_STATUSES = frozenset({401, 403, 429, 503})
MARKER_WINDOW = 256 * 1024  # challenge pages are small: their markers are near the top

# (marker as it appears in the page's bytes, lower case; vendor)
CHALLENGE_MARKERS: tuple[tuple[bytes, str], ...] = (
    (b"<title>just a moment...", "Cloudflare"),
    (b"attention required! | cloudflare", "Cloudflare"),
    (b"/cdn-cgi/challenge-platform/", "Cloudflare"),
    (b"captcha-delivery.com", "DataDome"),
    (b"var dd={", "DataDome"),
    (b"_incapsula_resource", "Imperva"),
    (b"perimeterx", "PerimeterX"),
)
_AKAMAI_DENIED = b"access denied"
_AKAMAI_REFERENCE = (b"reference #", b"reference&#32;&#35;")  # its page writes the words as entities

_REFERENCES = {  # where each vendor writes the reference a page shows (read with its entities decoded)
    "Cloudflare": re.compile(r"ray id:?\s*(?:<[^>]*>\s*)*([0-9a-f]{12,20})"),
    "DataDome": re.compile(r"['\"]?cid['\"]?\s*:\s*['\"]([^'\"]{6,200})['\"]"),
    "Akamai": re.compile(r"reference\s*#\s*([0-9a-z.]{6,64})"),
    "Imperva": re.compile(r"incident id:?\s*([0-9a-z-]{6,64})"),
}

# A login page: a password field, and a title that names a login (every page of the site has a login form in
# its header: the title tells the login page from them), or words of an expired session.
_PASSWORD_FIELD = re.compile(rb"<input[^>]*type\s*=\s*['\"]?password", re.IGNORECASE)
_LOGIN_TITLE = re.compile(r"connexion|identifi|se connecter|login|log in|sign in|mon compte|espace abonn",
                          re.IGNORECASE)
_SESSION_EXPIRED = re.compile(rb"session (?:a |est )?expir|session has expired|session expired", re.IGNORECASE)


@dataclass(frozen=True)
class Refusal:
    """Why an answer is not the page: `vendor` (Cloudflare, DataDome, Akamai, Imperva, PerimeterX, or None when
    unknown), the `reference` the page shows (a Cloudflare ray id, a DataDome cid, an Akamai "Reference #"),
    and whether it is a login page (an expired session) rather than a bot protection."""

    status: int | None
    vendor: str | None = None
    reference: str | None = None
    login: bool = False

    @property
    def message(self) -> str:
        """One line for the fetch log: 'HTTP 403, bot protection: DataDome, ref 1a2b…'."""
        status = f"HTTP {self.status}, " if self.status else ""
        if self.login:
            return (f"{status}the site's login page came in place of the page: the session of your cookies has"
                    " expired; export fresh cookies from your browser (--cookies)")
        vendor = f": {self.vendor}" if self.vendor else ""
        reference = f", ref {self.reference}" if self.reference else ""
        return f"{status}bot protection{vendor}{reference}"


def refusal_of(status: int | None, headers: dict[str, str], body: bytes | None) -> Refusal | None:
    """The refusal an HTTP answer is by its headers and status alone (with its body's markers for a refusal
    status), or None. `headers` are the answer's own, names in any case (a `set-cookie` included)."""
    lower = {name.lower(): value for name, value in headers.items()}
    if lower.get("cf-mitigated", "").strip().lower() == "challenge":
        return Refusal(status, "Cloudflare", lower.get("cf-ray") or _reference(_head(body), "Cloudflare"))
    if status not in REFUSAL_STATUSES:
        return None  # every page let through ends here, its body not looked at
    head = _head(body)
    vendor = _marker_vendor(head, lower)
    if vendor is not None:
        return Refusal(status, vendor, _reference(head, vendor))
    if status in (401, 403) and ("x-dd-b" in lower or "datadome=" in lower.get("set-cookie", "").lower()):
        return Refusal(status, "DataDome", _reference(head, "DataDome"))
    return None


def refused_page(status: int | None, headers: dict[str, str], body: bytes | None, record: Record | None
                 ) -> Refusal | None:
    """The refusal a page that came (any status, 200 included) is, now that it is parsed into `record`: a
    refusal by `refusal_of`, or a page that holds no article, dossier or listing of the site (and links to no
    article) while it carries a challenge marker, or is a login page (a password field, and a title that names
    a login or words of an expired session). None for a page of the site."""
    found = refusal_of(status, headers, body)
    if found is not None or holds_content(record) or getattr(record, "linked_articles", 0):
        return found
    head = _head(body)
    vendor = _marker_vendor(head, {name.lower(): value for name, value in headers.items()})
    if vendor is not None:
        return Refusal(status, vendor, _reference(head, vendor))
    if _PASSWORD_FIELD.search(head) and (_LOGIN_TITLE.search(getattr(record, "title", "") or "")
                                         or _SESSION_EXPIRED.search(head)):
        return Refusal(status, login=True)
    return None


def holds_content(record: Record | None) -> bool:
    """Whether a record is a page of the site as a reader knows one (its type's `has_content`: an article that
    shows a date or an author, a dossier or listing with entries). A challenge or login page parsed as an
    article has neither."""
    kind = PAGE_TYPES.get(getattr(record, "type", ""))
    return kind is not None and isinstance(record, kind.record) and kind.has_content(record)


def _head(body: bytes | None) -> bytes:
    return (body or b"")[:MARKER_WINDOW].lower()


def _marker_vendor(head: bytes, lower_headers: dict[str, str]) -> str | None:
    for marker, vendor in CHALLENGE_MARKERS:
        if marker in head:
            return vendor
    if (_AKAMAI_DENIED in head and any(words in head for words in _AKAMAI_REFERENCE)
            and "akamaighost" in lower_headers.get("server", "").lower()):
        return "Akamai"
    return None


def _reference(head: bytes, vendor: str) -> str | None:
    pattern = _REFERENCES.get(vendor)
    found = pattern.search(html.unescape(head.decode("latin-1"))) if pattern else None
    return found.group(1)[:64] if found else None
