"""How politely and how stubbornly to fetch (`FetchPolicy`), and the User-Agent that names the tool."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

from scraper import __version__, site
from scraper.errors import InvalidOption
from scraper.fetch._httpx import httpx
from scraper.fetch.cookies import load_cookies
from scraper.fetch.response import bracketed
from scraper.site import SITE_HOSTS


def default_user_agent(contact: str | None = None) -> str:
    """`scrape/<version> (+<project url>; archiver for Club Techni.Cites[; contact: <contact>])`.

    The project URL comes from the package metadata (`[project.urls]`) and is left out when there is
    none. Header values must be ASCII, hence "Cites" without its accent.
    """
    url = _project_url()
    parts = ([f"+{url}"] if url else []) + ["archiver for Club Techni.Cites"]
    return with_contact(f"scrape/{__version__} ({'; '.join(parts)})", contact)


def with_contact(user_agent: str, contact: str | None) -> str:
    """The user agent with `contact: <contact>` added (inside its trailing comment when it has one)."""
    if not contact or f"contact: {contact}" in user_agent:
        return user_agent
    _check_header_text(contact, "contact")
    if user_agent.endswith(")"):
        return f"{user_agent[:-1]}; contact: {contact})"
    return f"{user_agent} (contact: {contact})"


def _project_url() -> str | None:
    try:
        meta = metadata.metadata("scrape")
    except metadata.PackageNotFoundError:
        return None
    for entry in meta.get_all("Project-URL") or []:
        _label, _, url = entry.partition(",")
        if url.strip():
            return url.strip()
    return meta.get("Home-page") or None


def url_problem(url: str) -> str | None:
    """Why `url` cannot be requested (not http(s), no host, a port out of range, malformed), or None when it
    can."""
    problem = url_shape_problem(url)
    if problem is not None:
        return problem
    try:
        httpx.URL(url.strip())
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        return f"not a valid URL ({exc}): {url!r}"
    return None


def url_shape_problem(url: str) -> str | None:
    """What `url_problem` finds without httpx's reading of the URL (which building the request does anyway):
    not http(s), no host, a port out of range or 0, not a URL at all."""
    parts = site.split(url.strip())
    if parts is None:
        return f"not a valid URL: {url!r}"
    if parts.scheme.lower() not in DEFAULT_PORTS:
        return f"only http(s) URLs are fetched: {url!r}"
    try:
        port = parts.port
    except ValueError:
        return f"not a valid URL (bad port): {url!r}"
    if not parts.hostname or port == 0:
        return f"not a valid URL ({'no host' if not parts.hostname else 'port 0'}): {url!r}"
    return None


def _check_header_text(value: str, what: str) -> None:
    if not value.isascii() or not value.isprintable():
        raise InvalidOption(f"{what} must be printable ASCII (it goes into an HTTP header): {value!r}")




@dataclass
class FetchPolicy:
    """How politely and how stubbornly to fetch. Every field maps to a command-line option."""

    delay: float = 1.0  # seconds between the starts of two requests to one host
    concurrency: int = 2  # requests in flight per host
    timeout: float = 30.0  # the whole of one request (connect, head, body), and of each read and write in it
    retries: int = 3  # further attempts after a retryable failure
    max_wait: float = 120.0  # cap on any Retry-After or backoff wait
    max_bytes: int = 20 * 2**20  # cap on a body, compressed and decompressed
    max_redirects: int = 5
    allowed_hosts: frozenset[str] = SITE_HOSTS  # "host" (its default ports) or "host:port" that may be fetched
    obey_robots: bool = True
    user_agent: str = field(default_factory=default_user_agent)
    contact: str | None = None  # appended to the user agent: "; contact: <email or url>"
    cookies_file: Path | None = None  # a Netscape cookies.txt
    backoff: float = 1.0  # base of the exponential backoff: attempt n waits up to backoff * 2**n

    def __post_init__(self) -> None:
        for name in ("delay", "timeout", "max_wait", "backoff"):
            _check_seconds(name, getattr(self, name), allow_zero=name != "timeout")
        checks = [
            (self.concurrency >= 1, "concurrency must be >= 1"),
            (self.retries >= 0, "retries must be >= 0"),
            (self.max_bytes > 0, "max_bytes must be > 0"),
            (self.max_redirects >= 0, "max_redirects must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidOption(message)
        _check_header_text(self.user_agent, "user agent")
        if self.contact:
            _check_header_text(self.contact, "contact")
        self.allowed_hosts = frozenset(filter(None, map(_origin_entry, self.allowed_hosts)))
        if self.cookies_file is not None:
            self.cookies_file = Path(self.cookies_file)
            load_cookies(self.cookies_file)  # a file that cannot be read is said now, before anything is done

    def allowing(self, *sources: str) -> FetchPolicy:
        """A copy that also allows the origins of `sources`: URLs, bare host names (their default ports) or
        HOST:PORT."""
        origins = {_origin_entry(source) for source in sources}
        return replace(self, allowed_hosts=self.allowed_hosts | {origin for origin in origins if origin})

    def allows(self, url: str) -> bool:
        """Whether `url` is an http(s) URL of an allowed origin: its host at its scheme's default port when the
        host is allowed, or its host and port when HOST:PORT is. Another port is another site: a page or a
        redirect that leads to it is not followed (the subscriber's cookies would go there)."""
        parts = site.split(url)
        if parts is None or parts.scheme.lower() not in DEFAULT_PORTS:
            return False
        try:
            port = parts.port
        except ValueError:
            return False
        host = bracketed(parts.hostname or "")
        default = DEFAULT_PORTS[parts.scheme.lower()]
        if not host:
            return False
        return ((port in (None, default) and host in self.allowed_hosts)
                or f"{host}:{port or default}" in self.allowed_hosts)

    def origin_hint(self, url: str) -> str:
        """What to pass to --allow-host to allow `url`."""
        return _origin_entry(url) or url


DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_SECONDS = 3600.0  # the longest delay, timeout or wait an option may ask for: an hour


def _check_seconds(name: str, value: float, *, allow_zero: bool) -> None:
    """A duration is a finite number of seconds, from 0 (or above 0) to MAX_SECONDS: 'inf' would wait forever."""
    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= MAX_SECONDS):
        low = "0" if allow_zero else "more than 0"
        option = name.replace("_", "-")
        raise InvalidOption(f"--{option} must be a number of seconds from {low} to {MAX_SECONDS:g}, not {value!r}")


def _origin_entry(source: str) -> str:
    """What allows `source` in `allowed_hosts`: "host" (default ports) or "host:port"; "" when unreadable."""
    source = source.strip()
    is_url = "://" in source
    if not is_url and source.count(":") > 1 and not source.startswith("["):
        return bracketed(source)  # a bare IPv6 address
    parts = site.split(source if is_url else f"//{source.split('/')[0]}")
    if parts is None:
        return ""
    try:
        port = parts.port
    except ValueError:
        return ""
    host = bracketed(parts.hostname or "")
    default = DEFAULT_PORTS.get(parts.scheme.lower()) if is_url else None
    if not host or port is None or port == default:
        return host
    return f"{host}:{port}"
