"""The records the parser produces and the archive stores, the outcome of one fetch, and a crawl's failures.

The JSON shape of each record is the record contract (docs/record.md): `to_dict()` gives exactly those keys
(`warnings` among them: what the parser could not read), `record_from_dict()` reads it back.

PAGE_TYPES is the one registry of the types of page (article, dossier, listing): the record class of each, its
contract keys, the parser that reads it, the archive table that keeps it, and what the rest of the tool asks of
it (whether it lists articles, whether it shows content). The parser, the crawl, `scrape parse --type` and the
refusal check read it rather than keeping their own lists.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from scraper.errors import ErrorClass

PageType = Literal["article", "dossier", "listing"]  # the names of PAGE_TYPES, for type checkers


class PageRecord:
    """What every record of a page has: its contract dict, by the keys its page type lists."""

    type: str

    def to_dict(self) -> dict[str, Any]:
        return _ordered(self, page_kind(self.type).keys)


@dataclass
class Image:
    url: str
    alt: str | None = None
    credit: str | None = None


@dataclass
class DossierRef:
    title: str
    url: str | None = None


@dataclass
class Paywall:
    is_paywalled: bool = False
    markers: list[str] = field(default_factory=list)


@dataclass
class RelatedLink:
    section: str | None
    title: str
    url: str
    teaser: str | None = None


@dataclass
class Comment:
    author: str | None
    posted_at: str | None
    text: str
    in_reply_to: int | None = None


@dataclass
class ListItem:
    """One entry of a dossier's table of contents or of a listing page. `section` is the heading of the page's
    section it was found under, as shown ("Club Techni.Cités", "Sur le même sujet"), None when none."""

    position: int
    title: str
    url: str
    site_id: int | None = None
    kicker: str | None = None
    teaser: str | None = None
    is_paywalled: bool = False
    section: str | None = None


@dataclass
class Article(PageRecord):
    url: str
    title: str
    site_id: int | None = None
    kicker: str | None = None
    published_at: str | None = None
    updated_at: str | None = None
    authors: list[str] = field(default_factory=list)
    teaser: str | None = None
    body: str | None = None
    image: Image | None = None
    dossier: DossierRef | None = None
    paywall: Paywall = field(default_factory=Paywall)
    related: list[RelatedLink] = field(default_factory=list)
    comments_count: int | None = None
    comments: list[Comment] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    type: Literal["article"] = "article"
    unread_links: list[str] = field(default_factory=list)  # not in the contract: see UNREAD_LINKS_DOC


@dataclass
class Dossier(PageRecord):
    url: str
    title: str
    intro: str | None = None
    articles: list[ListItem] = field(default_factory=list)
    next_page: str | None = None
    warnings: list[str] = field(default_factory=list)
    type: Literal["dossier"] = "dossier"
    unread_links: list[str] = field(default_factory=list)  # not in the contract: see UNREAD_LINKS_DOC
    linked_articles: int = 0  # not in the contract: the articles the page links to anywhere (see below)


@dataclass
class Listing(PageRecord):
    url: str
    title: str
    articles: list[ListItem] = field(default_factory=list)
    next_page: str | None = None
    warnings: list[str] = field(default_factory=list)
    type: Literal["listing"] = "listing"
    unread_links: list[str] = field(default_factory=list)  # not in the contract: see UNREAD_LINKS_DOC
    linked_articles: int = 0  # not in the contract: the articles the page links to anywhere (see below)


Record = Article | Dossier | Listing

UNREAD_LINKS_DOC = """`unread_links`: the URLs of the article links in the page's content areas that the parser put
nowhere (no list entry, related link, dossier box, article text, nor a section it leaves out by name), page order,
each once. Empty on a page read whole. Kept out of `to_dict()` (not part of the contract) and never stored:
the crawl, `scrape stats` and the canary read it from the record (a record with some carries the warning
'N article links were not read: …').

`linked_articles` (dossiers and listings): how many distinct articles the page links to, anywhere in it. A list
page with no entry while it links to articles is a page the parser could not read (`unreadable_list`)."""


def unreadable_list(record: Record) -> str | None:
    """Why a page that lists articles (a dossier, a listing) cannot be stored as read: it gives no entry while it
    links to articles (storing it would empty the list the archive holds for it). None for any other record."""
    if page_kind(record.type).lists_articles and not record.articles and record.linked_articles:  # type: ignore[union-attr]
        return (f"no article read in the list of {record.url} although the page links to {record.linked_articles}"
                " articles: the site's markup may have changed")
    return None

# How a list of authors is written as text, everywhere: the CSV export, Markdown and plain text, and the
# `article_details` view of the archive (group_concat(name, '; ')). A semicolon, as library catalogues and
# citation managers (Zotero, BibTeX's "and" aside) separate authors; a name never holds one.
AUTHOR_SEPARATOR = "; "

ARTICLE_KEYS = (
    "type", "url", "site_id", "kicker", "title", "published_at", "updated_at", "authors", "teaser",
    "body", "image", "dossier", "paywall", "related", "comments_count", "comments", "themes", "warnings",
)
DOSSIER_KEYS = ("type", "url", "title", "intro", "articles", "next_page", "warnings")
LISTING_KEYS = ("type", "url", "title", "articles", "next_page", "warnings")


def _ordered(record: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: plain(getattr(record, key)) for key in keys}


def plain(value: Any) -> Any:
    """`value` as plain data (what `dataclasses.asdict` gives): dataclasses as dicts of their fields, lists, tuples
    and dicts rebuilt, every other value as it is (records hold strings, numbers, booleans and None, which asdict's
    deep copy returns as they are), in a fifth of asdict's time: it runs on every record stored."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(plain(item) for item in value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _FIELD_NAMES[kind] = tuple(field.name for field in dataclasses.fields(value))
        return plain(value)
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, once per class


def to_json(record: Record, indent: int | None = 2) -> str:
    """The record as JSON text, UTF-8 characters kept as they are (no \\u escapes)."""
    return json.dumps(record.to_dict(), ensure_ascii=False, indent=indent)


def record_from_dict(data: dict[str, Any]) -> Record:
    """Rebuild a record from its contract dict (the inverse of `to_dict`); ValueError for an unknown type."""
    kind = PAGE_TYPES.get(str(data.get("type")))
    if kind is None:
        raise ValueError(f"unknown record type: {data.get('type')!r}")
    return kind.from_dict(data)  # type: ignore[no-any-return]


def _list_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The fields a dossier and a listing share, from their contract dict."""
    return {"url": data["url"], "title": data["title"],
            "articles": [ListItem(**item) for item in data.get("articles", [])],
            "next_page": data.get("next_page"), "warnings": list(data.get("warnings", []))}


def _article_from_dict(data: dict[str, Any]) -> Article:
    image = data.get("image")
    dossier = data.get("dossier")
    paywall = data.get("paywall") or {}
    return Article(
        url=data["url"],
        title=data["title"],
        site_id=data.get("site_id"),
        kicker=data.get("kicker"),
        published_at=data.get("published_at"),
        updated_at=data.get("updated_at"),
        authors=list(data.get("authors", [])),
        teaser=data.get("teaser"),
        body=data.get("body"),
        image=Image(**image) if image else None,
        dossier=DossierRef(**dossier) if dossier else None,
        paywall=Paywall(bool(paywall.get("is_paywalled")), list(paywall.get("markers", []))),
        related=[RelatedLink(**link) for link in data.get("related", [])],
        comments_count=data.get("comments_count"),
        comments=[Comment(**comment) for comment in data.get("comments", [])],
        themes=list(data.get("themes", [])),
        warnings=list(data.get("warnings", [])),
    )


# --- the types of page ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageKind:
    """One type of page of the site, as every part of the tool knows it.

    `name`: the record's `type`. `record`: its class. `keys`: its contract keys, in order (`to_dict`).
    `parser`: "module:function" of the parser that reads a scraper.parse Page as this type. `table`: the
    archive's table of one row per page of this type. `lists_articles`: its record lists articles (`articles`,
    `next_page`, `linked_articles`), and a page with none while it links to some is unreadable. `has_content`:
    whether a record shows what a page of the site shows (a challenge or login page parsed as this type does
    not). `from_dict`: the record rebuilt from its contract dict."""

    name: str
    record: type
    keys: tuple[str, ...]
    parser: str
    table: str
    lists_articles: bool
    has_content: Callable[[Any], bool]
    from_dict: Callable[[dict[str, Any]], Any]


PAGE_TYPES: dict[str, PageKind] = {}


def register_page_type(kind: PageKind) -> PageKind:
    """Make `kind` a type of page the parser, the crawl and the command line know (replacing one of that name)."""
    PAGE_TYPES[kind.name] = kind
    return kind


def page_kind(name: str) -> PageKind:
    """The registered type of page named `name`; ValueError for another name."""
    try:
        return PAGE_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown page type {name!r}: one of {', '.join(PAGE_TYPES)}") from None


def is_record(value: object) -> bool:
    """Whether `value` is the record of a registered type of page."""
    return any(isinstance(value, kind.record) for kind in PAGE_TYPES.values())


for _kind in (
    PageKind("article", Article, ARTICLE_KEYS, "scraper.parse.article:parse_article", "articles", False,
             lambda record: bool(record.published_at or record.updated_at or record.authors), _article_from_dict),
    PageKind("dossier", Dossier, DOSSIER_KEYS, "scraper.parse.listing:parse_dossier", "dossiers", True,
             lambda record: bool(record.articles),
             lambda data: Dossier(intro=data.get("intro"), **_list_fields(data))),
    PageKind("listing", Listing, LISTING_KEYS, "scraper.parse.listing:parse_listing", "listings", True,
             lambda record: bool(record.articles), lambda data: Listing(**_list_fields(data))),
):
    register_page_type(_kind)


# Headers that carry a session or credentials: never stored in any table, never exported (either direction).
PRIVATE_HEADERS = frozenset({"cookie", "set-cookie", "set-cookie2", "authorization", "proxy-authorization"})


def public_headers(headers: dict[str, str]) -> dict[str, str]:
    """`headers` without the ones that carry a session or credentials (PRIVATE_HEADERS)."""
    return {name: value for name, value in headers.items() if name.lower() not in PRIVATE_HEADERS}


def public_header_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers as (name, value) pairs, in order, without the ones that carry a session or credentials."""
    return [(name, value) for name, value in pairs if name.lower() not in PRIVATE_HEADERS]


@dataclass
class Attempt:
    """One request made for a fetch: a retry or a redirect hop. `status` is the answer's, else `error_class`
    says what went wrong; `cookies` whether the request carried cookies; `waited` the seconds waited before
    the next attempt when this one was retried."""

    url: str
    status: int | None = None
    error_class: str | None = None
    cookies: bool = False
    waited: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in plain(self).items() if value is not None}


@dataclass
class FetchResult:
    """What one request (or one local file read) gave: the row of the archive's `fetches` table.

    `body` is None when nothing was downloaded (an error, or a 304 Not Modified).
    `error_class` is one of the closed list of `ErrorClass` (`timeout`, `connect`, `tls`, `http_status`…), so
    people can group failures; `error` is the human message.
    `request_headers` are the headers of the request that got the answer, as sent (name, value), without
    the Cookie and credentials: a shared archive or WARC never carries a subscriber's session.
    `cookies_sent` says whether the request that got the answer carried cookies; `attempts` lists every
    request made (retries and redirect hops, each with its status or error class and its cookies).
    """

    url: str
    final_url: str | None = None
    status: int | None = None
    fetched_at: str = ""
    elapsed: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    error: str | None = None
    error_class: ErrorClass | None = None
    retries: int = 0
    cookies_sent: bool = False
    source: Literal["http", "file", "warc", "wacz", "har", "mhtml", "singlefile"] = "http"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    asked: bool = True  # False: no request was made, its host having refused this run (not logged, left to do)

    @property
    def ok(self) -> bool:
        return self.error is None and self.status in (200, 304, None) and (
            self.body is not None or self.status == 304
        )

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Fault:
    """Why a page failed, as a value from where it happened to the fetch log and the crawl queue: its class (the
    closed list of ErrorClass) and a message for people."""

    error_class: ErrorClass
    message: str

    @classmethod
    def of(cls, result: FetchResult) -> Fault:
        """The fault of a fetch that brought nothing to store."""
        if result.error:
            return cls(result.error_class or ErrorClass.FETCH, result.error)
        return cls(ErrorClass.FETCH, "nothing to parse (a 304 without a stored copy)")

    def __str__(self) -> str:
        return f"{self.error_class}: {self.message}"


@dataclass
class Failure:
    """A page a crawl could not store: its URL, kind, why (an ErrorClass and a message) and the runs that
    tried it."""

    url: str
    kind: str
    error_class: ErrorClass | None
    error: str
    attempts: int = 0
