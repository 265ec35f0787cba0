"""The Scrapy side of bench_crawl.py: a spider that crawls a dossier with the project's parse and store.

Run by the benchmark in its own process: `python tests/bench/scrapy_dossier.py URL DB --concurrency 16`.
It does what `scrape dossier URL --delay 0 --concurrency N` does to a fresh archive, minus the fetch log and
the crawl queue: it obeys robots.txt, fetches the dossier's pages (following rel=next) and every article
they list, parses each page with `scraper.parse.parse_page` and stores the record with
`archive.records.store` into its own SQLite file. It prints the stored pages per action as JSON.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

from scraper.archive import Archive
from scraper.models import Dossier
from scraper.parse import parse_page


class DossierSpider(scrapy.Spider):
    name = "dossier"

    def __init__(self, url: str, db: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url = url
        self.archive = Archive(db)
        self.actions: Counter[str] = Counter()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.start_url, callback=self.parse_dossier)

    def store(self, response: Response, page_type: str) -> Any:
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        record = parse_page(response.body, response.url, content_type=content_type, page_type=page_type)
        self.actions[self.archive.records.store(record).action] += 1
        return record

    def parse_dossier(self, response: Response) -> Iterator[scrapy.Request]:
        record = self.store(response, "dossier")
        if not isinstance(record, Dossier):
            return
        for item in record.articles:
            yield scrapy.Request(response.urljoin(item.url), callback=self.parse_article)
        if record.next_page:
            yield scrapy.Request(response.urljoin(record.next_page), callback=self.parse_dossier)

    def parse_article(self, response: Response) -> None:
        self.store(response, "article")

    def closed(self, reason: str) -> None:
        self.archive.close()
        print(json.dumps({"reason": reason, "pages": dict(self.actions)}), flush=True)


def settings(concurrency: int) -> dict[str, Any]:
    """Scrapy's defaults, with the benchmark's politeness: robots.txt obeyed, no delay, `concurrency`."""
    return {
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "AUTOTHROTTLE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("db")
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    process = CrawlerProcess(settings(options.concurrency))
    process.crawl(DossierSpider, url=options.url, db=options.db)
    process.start()


if __name__ == "__main__":
    main()
