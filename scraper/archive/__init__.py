"""The archive: one SQLite file, built for sqlite-utils and Datasette. The only package that speaks SQL.

In three layers, each importing only from the layers below it (tests/test_structure.py checks it):

    the connection
      connection  `Connection`: opening, settings, transactions, errors, plain SQL (execute, select, one…)
      values, keeping   the archive's one format of time, JSON; what "newer" and "emptier" mean (no SQL)
    the tables, each an object bound to a connection
      bodies      `Bodies`: the raw bodies, zstd with dictionaries trained on the archive's pages
      headers     `Headers`: the fetches' headers, each set shared by many fetches stored once
      runs        `Runs`: one row per command, with its counts
      queries     `Articles`: reading articles back, and the one dossier and date filter of every command
      keysets     `KeySet`: sets of keys a long pass keeps on disk (temporary tables), not in memory
      queue       `CrawlQueue`: one crawl's frontier (`crawl_queue`)
      canary      `CanaryFlags`: flagged pages, and what the recent pages of each kind yielded
      fetchlog    `Fetches`: the fetch log (bodies and headers through their objects)
      records     `Records`: what a page's record does to the tables (articles and versions, dossiers, listings)
      versions    `Versions`: an article's history, every version rebuilt
      group       `CommitGroup`: many pages of a crawl in one write transaction
    the archive and its services
      schema, convert   every table, view and index under one schema version; the migrations
      db          `Archive`: a Connection with its schema checked and the tables above bound to it
      search, check, stats, compact    the services, imported by the commands that use them
"""

from scraper.archive.db import Archive
from scraper.archive.records import Action, StoreOutcome
from scraper.archive.schema import SCHEMA_VERSION, TABLE_NAMES

__all__ = ["SCHEMA_VERSION", "TABLE_NAMES", "Action", "Archive", "StoreOutcome"]
