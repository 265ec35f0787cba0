"""The CPU baseline of bench_crawl.py: a bare loop that GETs a dossier's pages and parses each, storing nothing.

Run by the benchmark in its own process: `python tests/bench/bare_get_parse.py URL`. One `httpx.Client`
fetches the dossier's first page, then, one request at a time, every page it leads to (its articles and its
next page), each parsed with `scraper.parse.parse_page`; nothing is stored, logged or queued. It prints the
pages parsed as JSON. The benchmark divides the crawl's process CPU time per page by this loop's.
"""

from __future__ import annotations

import argparse
import json
from collections import deque
from urllib.parse import urljoin

import httpx

from scraper.models import Dossier
from scraper.parse import parse_page


def crawl(url: str) -> int:
    """Pages fetched and parsed, starting from the dossier at `url`."""
    todo: deque[tuple[str, str]] = deque([(url, "dossier")])
    pages = 0
    with httpx.Client() as client:
        while todo:
            page_url, page_type = todo.popleft()
            response = client.get(page_url)
            record = parse_page(response.content, str(response.url), page_type=page_type,  # type: ignore[arg-type]
                                content_type=response.headers.get("content-type"))
            pages += 1
            if isinstance(record, Dossier):
                todo.extend((urljoin(page_url, item.url), "article") for item in record.articles)
                if record.next_page:
                    todo.append((urljoin(page_url, record.next_page), "dossier"))
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    print(json.dumps({"pages": crawl(parser.parse_args().url)}), flush=True)


if __name__ == "__main__":
    main()
