"""Archives that are damaged, read-only, or not archives at all: one line, the right exit code, nothing written.

A read-only archive is made with file permissions; as root (CI) they do not hold, so the commands run in a
process without the capability that overrides them (`setpriv`), as an ordinary user would be.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, scrape, tmpfs

from scraper.archive import Archive
from scraper.errors import ArchiveError, NoArchive

READ_COMMANDS = [["stats"], ["search", "ville"], ["export"], ["check"], ["reparse", "--dry-run"], ["history", "554402"]]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def damage_pages(path: Path, *tables: str) -> None:
    """Overwrite the first b-tree page of each of `tables`: SQLite then says "database disk image is malformed"."""
    with sqlite3.connect(path) as conn:
        pages = dict(conn.execute("select name, rootpage from sqlite_master where rootpage > 0").fetchall())
        page_size = conn.execute("pragma page_size").fetchone()[0]
    with path.open("r+b") as stream:
        for table in tables:
            stream.seek((pages[table] - 1) * page_size)
            stream.write(b"\x0d\xff\xff\xff\xff\xff\xff\xff" * 8)


# --- 5. a damaged archive ---------------------------------------------------------------------------

def test_check_says_in_one_line_what_is_damaged_and_what_can_be_done(archive_db: Path) -> None:
    damage_pages(archive_db, "fetches", "articles")
    result = scrape("check", "--db", archive_db, "--quiet")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("integrity: the file is damaged")
    assert "fetches" in lines[0]
    assert "articles" in lines[0]
    assert ".recover" in lines[0]


@pytest.mark.parametrize("command", [["stats"], ["reparse"], ["search", "ville"], ["export"]])
def test_the_other_commands_say_it_in_one_line_without_a_traceback(archive_db: Path, command: list[str]) -> None:
    damage_pages(archive_db, "fetches", "articles")
    result = scrape(*command, "--db", archive_db)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1
    assert "is damaged" in result.stderr
    assert ".recover" in result.stderr
    assert "Traceback" not in result.output


def test_a_damaged_stored_page_is_counted_by_reparse_which_goes_on(archive_db: Path) -> None:
    with sqlite3.connect(archive_db) as conn:
        conn.execute("update bodies set compressed = x'789c0000deadbeef' where rowid = 1")
    result = scrape("reparse", "--db", archive_db)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "1 pages have no readable raw body" in result.stderr
    assert "pages reparsed" in result.stdout


# --- 10. a read-only archive ------------------------------------------------------------------------

def run_without_write_access(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scraper", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root ignores file permissions and setpriv is missing to drop that capability")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def read_only_db(archive_db: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "shelf"
    folder.mkdir()
    path = folder / "archive.db"
    shutil.copy(archive_db, path)
    path.chmod(0o444)
    folder.chmod(0o555)
    yield path
    folder.chmod(0o755)


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_a_read_only_archive_can_be_read(read_only_db: Path, command: list[str]) -> None:
    before = digest(read_only_db)
    result = run_without_write_access(*command, "--db", str(read_only_db))
    assert result.returncode == 0, result.stderr
    assert "readonly" not in result.stderr
    assert digest(read_only_db) == before
    assert sorted(path.name for path in read_only_db.parent.iterdir()) == ["archive.db"]


@pytest.fixture
def read_only_mount(archive_db: Path, tmp_path: Path) -> Iterator[Path]:
    """The archive on a file system mounted read-only (a tmpfs remounted so; mounting needs root)."""
    with tmpfs(tmp_path / "ro", "16m", "a read-only mount") as mount_point:
        shutil.copy(archive_db, mount_point / "archive.db")
        subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
        yield mount_point / "archive.db"


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_the_commands_that_only_read_work_on_a_read_only_mount(read_only_mount: Path, command: list[str]) -> None:
    # `scrape history` failed there: it opened the archive to write.
    before = digest(read_only_mount)
    result = scrape(*command, "--db", read_only_mount)
    assert result.exit_code == 0, result.output
    assert digest(read_only_mount) == before
    assert sorted(path.name for path in read_only_mount.parent.iterdir()) == ["archive.db"]


def test_commands_that_only_read_never_write(archive_db: Path) -> None:
    for command in READ_COMMANDS:
        before = digest(archive_db)
        result = scrape(*command, "--db", archive_db)
        assert result.exit_code == 0, (command, result.output)
        assert digest(archive_db) == before, command
    with Archive(archive_db, read_only=True) as archive, pytest.raises(ArchiveError, match="readonly"):
        archive.runs.start("nothing")


# --- 11. a file that is not an archive ----------------------------------------------------------------

@pytest.mark.parametrize("command", [*READ_COMMANDS, ["reparse"]])
def test_an_empty_file_is_not_turned_into_an_archive(tmp_path: Path, command: list[str]) -> None:
    empty = tmp_path / "e.db"
    empty.touch()
    result = scrape(*command, "--db", empty)
    assert result.exit_code == 2
    assert "not an archive" in result.stderr
    assert empty.stat().st_size == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["e.db"]


def test_another_sqlite_database_is_not_an_archive(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table notes (text)")
    with pytest.raises(NoArchive, match="not an archive of scrape"):
        Archive(other, read_only=True)
