"""Commit groups: the pages of a crawl stored in one write transaction, committed together.

A commit writes and syncs every page of the file the transaction changed (the tables' and indexes' pages, the
full-text index's, the queue's), about the same for one stored page as for a hundred: sharing a commit between
pages divides those bytes between them (a crawl at --delay 0 wrote 80x what it kept with a commit per page, 4.2x
with groups; a polite crawl, a page or two a second, gains less: each of its commits holds one or two). A kill
loses at most the pages of the open group, which a re-run does again, and another process that writes the
archive waits at most about GROUP_SECONDS for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from scraper.archive.connection import Connection

GROUP_PAGES = 500  # a bound on a group's size on a fast machine: at a few hundred pages a second, time rules
GROUP_SECONDS = 1.0


class CommitGroup:
    """Many pages in one write transaction: opened by the first page's writes, committed once `pages` pages are in
    it or `seconds` after it opened, whichever comes first (a caller that waits for work waits in `wait()`, or asks
    `due()` and calls `commit_if_due()`), and at the end. Inside it, `Archive.transaction()` is a savepoint.

    A page's writes happen in `with group.page():`; an error there rolls back the whole open group (what a kill
    at that moment would leave: every page of the group is still to do), and the error goes on (an SQLite error
    as the tool's, `Archive.error`). Each committed page is whole, so an archive killed at any moment is whole,
    and a re-run does the pages that were lost. `commits` counts the commits made, for a caller that keeps
    track of what is committed."""

    def __init__(self, connection: Connection, *, pages: int = GROUP_PAGES, seconds: float = GROUP_SECONDS) -> None:
        self.connection = connection
        self.pages = pages
        self.seconds = seconds
        self.commits = 0
        self._count = 0
        self._opened: float | None = None  # time.monotonic() when the open group began

    @contextlib.contextmanager
    def page(self, count: int = 1) -> Iterator[None]:
        """The writes of `count` pages, in the open group (opened when none is); committed when the group is due."""
        if self._opened is None:
            self._begin()
        try:
            yield
        except sqlite3.Error as exc:  # the tool's own error, as `Archive.transaction()` raises it (ArchiveFull…)
            self.rollback()
            raise self.connection.error(exc) from exc
        except BaseException:
            self.rollback()
            raise
        self._count += count
        self.commit_if_due()

    def due(self) -> float | None:
        """Seconds left before the open group must be committed (None: no group is open)."""
        if self._opened is None:
            return None
        return max(0.0, self._opened + self.seconds - time.monotonic())

    async def wait(self, tasks: Iterable[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
        """Wait for the first of `tasks` to finish, or for the open group to be due (then commit it); the tasks
        finished (none when the group was due first)."""
        done, _ = await asyncio.wait(tasks, timeout=self.due(), return_when=asyncio.FIRST_COMPLETED)
        self.commit_if_due()
        return done

    def commit_if_due(self) -> None:
        if self._opened is not None and (self._count >= self.pages or self.due() == 0):
            self.commit()

    def commit(self) -> None:
        """Commit the open group, if any."""
        if self._opened is not None:
            self._opened, self._count = None, 0
            self._end("commit")
            self.commits += 1

    def rollback(self) -> None:
        if self._opened is not None:
            self._opened, self._count = None, 0
            self._end("rollback")

    def _begin(self) -> None:
        """Open the connection's outermost write transaction: `transaction()` inside it is a savepoint."""
        self.connection.begin()
        self._opened = time.monotonic()

    def _end(self, verb: Literal["commit", "rollback"]) -> None:
        """`commit` or `rollback` the transaction `_begin` opened."""
        self.connection.end(verb)

    def __enter__(self) -> CommitGroup:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: object) -> None:
        """Commit what is open; after an error, roll it back (as a kill would)."""
        if exc is None:
            self.commit()
        else:
            self.rollback()
