"""Load the Netscape cookies.txt a subscriber passes with `--cookies`, so requests carry their session."""

from __future__ import annotations

import time
import warnings
from http.cookiejar import LoadError, MozillaCookieJar
from pathlib import Path

from scraper.errors import SourceError
from scraper.fetch.response import describe


def load_cookies(path: str | Path) -> MozillaCookieJar:
    """Read a Netscape/Mozilla cookies.txt file into a cookie jar.

    Browser exports write session cookies with an expiry of 0: those are kept as session cookies
    (the standard library would drop them as long expired); cookies whose expiry has passed are dropped.
    Raises `SourceError` (one line) when the file is missing, unreadable or not in that format.
    """
    path = Path(path)
    jar = MozillaCookieJar(str(path))
    try:
        with warnings.catch_warnings():
            # On a malformed line http.cookiejar warns with a full traceback before raising LoadError.
            warnings.simplefilter("ignore")
            jar.load(ignore_discard=True, ignore_expires=True)
    except FileNotFoundError:
        raise SourceError(f"cookies file not found: {path}") from None
    except IsADirectoryError:
        raise SourceError(f"cookies file is a directory: {path}") from None
    except LoadError as exc:
        raise SourceError(f"not a Netscape cookies.txt file: {path} ({describe(exc)})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read cookies file {path}: {describe(exc)}") from None
    _drop_expired(jar)
    return jar


def _drop_expired(jar: MozillaCookieJar) -> None:
    now = time.time()
    for cookie in list(jar):
        if cookie.expires == 0:
            cookie.expires = None
            cookie.discard = True
        elif cookie.expires is not None and cookie.expires <= now:
            jar.clear(cookie.domain, cookie.path, cookie.name)
