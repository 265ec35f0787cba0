"""URL helpers that never raise: pages carry malformed links ('http://[::1/') and the parser must not care."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit


def join(base: str | None, href: str) -> str | None:
    """`href` made absolute against `base`, or None when either is malformed."""
    try:
        absolute = urljoin(base or "", href.strip())
        urlsplit(absolute)  # validates (e.g. brackets of an IPv6 host)
    except ValueError:
        return None
    return absolute
