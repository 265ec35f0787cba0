"""What the archive itself can stop: a lock another writer holds too long, a full disk. A crawl so stopped is a
failure of the run (exit 1) with the summary of what it stored, which is kept; a compact so stopped keeps what
it recompressed and says how to finish. Real crawls on 127.0.0.1, real SQLite files; the full disk is a real
one, a tmpfs of a few MB mounted for the test."""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import rows, scrape, tmpfs
from crawlsite import Site, make_articles
from faultserver import FaultServer, Request, Respond

from scraper.archive import Archive

FAST = ["--delay", "0", "--timeout", "5", "--retries", "0", "--concurrency", "1"]


def words(seed: int, count: int) -> str:
    """`count` made-up words: text that compresses about as little as an article's."""
    rng = random.Random(seed)
    return " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
                    for _ in range(count))


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A directory on a tmpfs of 4 MB (root may mount one; elsewhere the test cannot make a full disk)."""
    with tmpfs(tmp_path / "disk", "4m", "a full disk") as mount_point:
        yield mount_point


# --- a lock held by another writer ---------------------------------------------------------------------

def test_a_lock_held_too_long_ends_the_crawl_with_exit_1_and_what_was_stored(
        db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # It ended with exit 2 (the usage-error code) and no summary.
    from scraper.archive import connection

    monkeypatch.setattr(connection, "BUSY_TIMEOUT_SECONDS", 1.0)  # SQLite's wait for the lock: 30 s otherwise
    holder: list[sqlite3.Connection] = []
    with FaultServer() as server:
        site = Site(server, articles=make_articles(12, paywalled_every=0))
        site.serve_all()
        locked_at = site.articles[5]

        def lock_then_answer(request: Request) -> Respond:
            """Another writer takes the archive's lock, and keeps it, as the sixth article is first asked for."""
            if not holder:
                writer = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
                writer.execute("begin immediate")
                holder.append(writer)
            return Respond(200, site.article_body(locked_at))

        server.route(locked_at.path, lock_then_answer)
        result = scrape("dossier", site.dossier_url, "--db", db_path, *FAST)
        for writer in holder:
            writer.execute("rollback")
            writer.close()
        assert result.exit_code == 1, result.stderr
        assert "locked by another writer past 1 s" in result.stderr
        assert "the 6 page(s) stored before are kept" in " ".join(result.stderr.split())  # the dossier, 5 articles
        assert "stored (new)" in result.stdout
        assert rows(db_path, "select count(*) from articles") == [(5,)]
        # the run resumes where it stopped
        again = scrape("dossier", site.dossier_url, "--db", db_path, *FAST)
        assert again.exit_code == 0, again.stderr
        assert rows(db_path, "select count(*) from articles") == [(12,)]


# --- a full disk -----------------------------------------------------------------------------------------

def test_a_full_disk_ends_the_crawl_with_exit_1_and_keeps_what_was_stored(tiny_disk: Path, tmp_path: Path
                                                                          ) -> None:
    # It ended with exit 2 (the usage-error code) and no summary.
    db = tiny_disk / "archive.db"
    with FaultServer() as server:
        # 300 articles of 800 words: an archive of about 6 MB, more than the disk holds (with a commit per page,
        # the WAL alone filled it after 80; a crawl's commit groups write a tenth of that)
        site = Site(server, articles=make_articles(300, paywalled_every=0), per_page=300)
        site.serve_dossier()
        for article in site.articles:
            server.route(article.path, Respond(200, site.article_body(article).replace(
                "Premier paragraphe", words(article.site_id, 800))))
        # --delay 0.02: about 50 pages a second, so that commit groups (one a second) are made before it fills
        result = scrape("dossier", site.dossier_url, "--db", db, "--json", *FAST, "--delay", "0.02")
        assert result.exit_code == 1, result.stderr
        assert "the disk is full" in result.stderr
        assert "running the same command again resumes it" in result.stderr
        import json

        summary = json.loads(result.stdout)
        assert summary["stopped_by"]
        assert summary["exit_code"] == 1
        stored = summary["pages"]["inserted"]
        assert 3 <= stored < 301, summary["pages"]  # the disk filled up mid-way
        assert rows(db, "pragma integrity_check") == [("ok",)]
        assert rows(db, "select count(*) from articles") == [(stored - 1,)]  # the dossier and its articles
        # On a disk with room, the same command finishes the crawl.
        roomy = tmp_path / "roomy"
        roomy.mkdir()
        for part in tiny_disk.iterdir():
            shutil.copy(part, roomy / part.name)
        again = scrape("dossier", site.dossier_url, "--db", roomy / "archive.db", *FAST)
        assert again.exit_code == 0, again.stderr
        assert rows(roomy / "archive.db", "select count(*) from articles") == [(300,)]


@pytest.fixture(scope="module")
def uncompacted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of 1,000 raw pages (1.5 MB), 200 of them stored before its first dictionary: compact trains
    a new one and recompresses them all."""
    db = tmp_path_factory.mktemp("uncompacted") / "archive.db"
    with Archive(db) as archive:
        store = archive.bodies
        for n in range(1000):
            with archive.transaction():
                store.store(f"<html><nav>{words(1, 300)}</nav><p>{words(n, 60)}</p></html>".encode())
    return db


@pytest.mark.parametrize(("free", "when"), [(800_000, "in its batches"), (1_200_000, "in its VACUUM")])
def test_a_full_disk_during_compact_keeps_what_was_recompressed_and_says_how_to_finish(
        tiny_disk: Path, tmp_path: Path, uncompacted: Path, free: int, when: str) -> None:
    on_disk = tiny_disk / "archive.db"
    shutil.copy(uncompacted, on_disk)
    room = shutil.disk_usage(tiny_disk).free
    (tiny_disk / "filler").write_bytes(b"x" * (room - free))
    result = scrape("compact", "--db", on_disk)
    assert result.exit_code == 1, result.stdout
    message = " ".join(result.stderr.split())
    assert "the disk is full" in message
    assert "free some disk and run `scrape compact` again to finish" in message
    newest = rows(on_disk, "select count(*) from bodies where dictionary_id = (select max(id) from dictionaries)")
    recompressed = newest[0][0]
    assert f"the {recompressed} raw pages recompressed are kept" in message, message
    assert rows(on_disk, "pragma integrity_check") == [("ok",)]
    if when == "in its batches":
        assert 0 < recompressed < 1000
        assert "VACUUM" not in message
    else:
        assert recompressed == 1000
        assert "VACUUM" in message
    # with room, running it again finishes the work
    (tiny_disk / "filler").unlink()
    again = scrape("compact", "--db", on_disk, "--json")
    assert again.exit_code == 0, again.stderr
    assert rows(on_disk, "select count(*) from bodies where dictionary_id = (select max(id) from dictionaries)"
                ) == [(1000,)]
