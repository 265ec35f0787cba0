"""The modules only some commands need, imported when a command first uses them.

Every `scrape` run imports the whole command line to know its commands; a crawl from cron must not carry what
reparse, search, check, stats, WARC work or Datasette need (process pools, warcio, feedparser's users…), so
the commands reach those modules through this one place: `lazy.search.search(...)` imports
scraper.archive.search on first use. tests/test_cli_imports.py checks what a run loads.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

_MODULES = {
    "reparse": "scraper.reparse",  # process pools
    "search": "scraper.archive.search",
    "check": "scraper.archive.check",
    "stats": "scraper.archive.stats",
    "compact": "scraper.archive.compact",
    "export": "scraper.export",
    "warc": "scraper.warc",  # warcio
    "imports": "scraper.imports.formats",  # the readers of scrape import (warcio, email, zipfile)
    "datasette": "scraper.datasette",
    "progress": "rich.progress",  # drawn only on a terminal
}

if TYPE_CHECKING:
    from rich import progress

    from scraper import datasette, export, reparse, warc
    from scraper.archive import check, compact, search, stats
    from scraper.imports import formats as imports

__all__ = ["check", "compact", "datasette", "export", "imports", "progress", "reparse", "search", "stats", "warc"]


def __getattr__(name: str) -> ModuleType:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(_MODULES[name])
