"""The archive: one SQLite file, built for sqlite-utils and Datasette. The only package that speaks SQL.

    schema      every table, view and index, under one schema version, and the migrations
    convert     what older versions stored in other shapes, converted in place by the migrations
    db          `Archive`: the connection, transactions, and the doors to what follows
    group       commit groups: many pages of a crawl in one write transaction
    fetchlog    runs and fetches
    bodies      the raw bodies: zstd with dictionaries trained on the archive's pages; `read_body`
    headers     the fetches' headers, each set shared by many fetches stored once (`header_sets`)
    records     storing a page's record (articles and their versions, dossiers, listings); dry runs
    versions    an article's history: reverse diffs, every version rebuilt, word by word
    queries     reading articles back, and the one dossier and date filter of every command
    keysets     sets of keys a long pass keeps on disk (temporary tables), not in memory
    queue       the crawl frontier (`crawl_queue`)
    canary      pages that lack what their kind used to have (`canary_flags`)
    search, check, stats, compact    the archive's services, imported by the commands that use them
"""

from scraper.archive.db import Archive
from scraper.archive.records import Action, StoreOutcome
from scraper.archive.schema import SCHEMA_VERSION, TABLE_NAMES

__all__ = ["SCHEMA_VERSION", "TABLE_NAMES", "Action", "Archive", "StoreOutcome"]
