"""Crawls: a dossier, a rubrique listing or a feed, and every article they lead to, resumable.

    run         the entry points: a row in `runs`, the signals that stop a crawl
    engine      the loop: one run over one root, pages in flight, one transaction per batch
    rules       what a page leads to (--since, --pages, incremental stops), the login check of --cookies
    report      the events a reporter receives, and the summary of a run
The frontier itself lives in the archive (scraper.archive.queue).
"""

from scraper.crawl.engine import Crawl
from scraper.crawl.report import CrawlEvent, CrawlKind, CrawlSummary, Reporter
from scraper.crawl.rules import CrawlOptions
from scraper.crawl.run import check_crawl_url, crawl, run_crawl

__all__ = ["Crawl", "CrawlEvent", "CrawlKind", "CrawlOptions", "CrawlSummary", "Reporter", "check_crawl_url", "crawl",
           "run_crawl"]
