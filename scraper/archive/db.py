"""`Archive`: one archive file — a `Connection` (scraper.archive.connection) whose schema is checked and brought
up to date when it opens, with the archive's tables bound to it, one object per concern:

    archive.runs        runs of the commands (scraper.archive.runs)
    archive.fetches     the fetch log (scraper.archive.fetchlog)
    archive.bodies      the raw bodies (scraper.archive.bodies)
    archive.headers     the shared header sets (scraper.archive.headers)
    archive.records     what a page's record does to the tables (scraper.archive.records)
    archive.articles    the articles read back (scraper.archive.queries)
    archive.versions    an article's history (scraper.archive.versions)
    archive.canary      the canary's flags (scraper.archive.canary)
    archive.queue(kind, root)   one crawl's frontier (scraper.archive.queue)

so a caller writes `archive.fetches.record(result)` or `archive.records.store(record)`. The services (search,
check, stats, compact) take the archive and read through these and the connection's plain SQL. Code outside the
package never writes SQL: tests/test_structure.py keeps it so.
"""

from __future__ import annotations

from scraper.archive.bodies import Bodies
from scraper.archive.canary import CanaryFlags
from scraper.archive.connection import Connection
from scraper.archive.fetchlog import Fetches
from scraper.archive.headers import Headers
from scraper.archive.keysets import KeySet
from scraper.archive.queries import Articles, PageTypes
from scraper.archive.queue import CrawlQueue, EntryKind
from scraper.archive.records import Records
from scraper.archive.runs import Runs
from scraper.archive.schema import SCHEMA_VERSION, TABLE_NAMES, create_or_migrate
from scraper.archive.versions import Versions
from scraper.errors import ArchiveError, NoArchive


class Archive(Connection):
    """One SQLite archive file. Use one `Archive` per thread (or process), as a context manager.

    Opening it (`Archive(path, create=True, read_only=False)`) creates a missing file (unless `create` is
    False), switches it to WAL and brings its schema up to date. `read_only`: for the commands that only read.
    The file is opened read-only (an SQLite `mode=ro` URI) and never written, so a read-only file can be read;
    it must exist, be an archive, and be of the current schema (an older one is brought up to date by any
    command that stores).

    Raises NoArchive when `create` is False (or `read_only`) and there is no file, or a file that is not an
    archive (an empty file is not turned into one); DamagedArchive when the file is damaged; ArchiveError when
    the path is a directory, cannot be written, or is not SQLite.
    """

    def prepare(self) -> None:
        """Bind the tables, and bring the schema up to date."""
        self.runs = Runs(self)
        self.bodies = Bodies(self)
        self.headers = Headers(self)
        self.articles = Articles(self)
        self.fetches = Fetches(self, self.bodies, self.headers, self.articles)
        self.records = Records(self, self.articles)
        self.versions = Versions(self, self.articles)
        self.canary = CanaryFlags(self)
        self._ensure_schema()

    def check_contents(self) -> None:
        """NoArchive when the file holds no archive: empty, or another SQLite database."""
        if self.path == ":memory:" or self.schema_version():
            return
        tables = self.table_names()
        if not tables:
            raise NoArchive(f"{self.path} is not an archive (an empty database): only the commands that store"
                            " pages (scrape url, dossier, listing, feed, import) create one")
        if not {"articles", "fetches"} <= tables:
            raise NoArchive(f"{self.path} is not an archive of scrape (an SQLite database of something else)")

    def _ensure_schema(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise ArchiveError(f"archive {self.path} has schema version {version}, newer than this tool's"
                               f" ({SCHEMA_VERSION}): upgrade scrape")
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise ArchiveError(f"archive {self.path} has schema version {version}, older than this tool's"
                               f" ({SCHEMA_VERSION}): a command that stores (or `scrape check --fix`) brings it"
                               " up to date; this one only reads")
        with self.transaction():
            if self.schema_version() != SCHEMA_VERSION:  # another process may have migrated it meanwhile
                create_or_migrate(self)

    def queue(self, kind: EntryKind, root: str) -> CrawlQueue:
        """The rows of `crawl_queue` of the crawl `kind` (the command: dossier, listing, feed) from `root`."""
        return CrawlQueue(self, kind, root)

    def key_set(self, name: str, select: str | None = None) -> KeySet:
        """A set of keys kept in the temporary table `name` (scraper.archive.keysets), filled by `select`."""
        return KeySet(self, name, select)

    def page_types(self) -> PageTypes:
        """The type each page has in the archive now, kept for a reparse to tell which pages change type."""
        return PageTypes(self)

    def counts(self) -> dict[str, int]:
        """Rows per table of the archive."""
        return {name: int(self.scalar(f"select count(*) from [{name}]")) for name in TABLE_NAMES}
