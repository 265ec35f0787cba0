"""Verify an archive, and repair what can be rebuilt.

Checks: SQLite's own `PRAGMA integrity_check` and `PRAGMA foreign_key_check`; the full-text index
`articles_fts`: present, configured as the tool creates it (columns, accent-folding tokenizer), kept in
sync by its three triggers, one entry per article, and its content equal to the articles' (FTS5's
'integrity-check' against the content table). `repair` recreates the index and its triggers or rebuilds
it from the articles; a damaged file or broken foreign keys are reported, not repaired.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from scraper.archive.db import Archive
from scraper.archive.schema import FTS_COLUMNS, FTS_TABLE, FTS_TOKENIZE, FTS_TRIGGERS, recreate_fts
from scraper.errors import ArchiveError

SHOWN = 5  # problems quoted per check
DAMAGED = "the file is damaged"


@dataclass
class Finding:
    """The outcome of one check; `fixable` problems are what `repair` rebuilds."""

    check: str
    ok: bool
    detail: str
    fixable: bool = False


@dataclass
class CheckReport:
    findings: list[Finding]
    repaired: list[str] = field(default_factory=list)  # what `--fix` did

    @property
    def ok(self) -> bool:
        return all(finding.ok for finding in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "findings": [asdict(finding) for finding in self.findings], "repaired": self.repaired}


def check(archive: Archive, *, fix: bool = False) -> CheckReport:
    """Run every check; with `fix`, repair what is fixable and check again."""
    findings = run_checks(archive)
    if not fix or all(finding.ok or not finding.fixable for finding in findings):
        return CheckReport(findings)
    repaired = repair(archive, findings)
    return CheckReport(run_checks(archive), repaired)


def run_checks(archive: Archive) -> list[Finding]:
    """Every check, in order; the FTS content checks only when the index exists. On a damaged file, what
    cannot be read is a failed check, not an error."""
    integrity = _guarded(_integrity, archive)
    if integrity.detail.startswith(DAMAGED):
        return [integrity]  # the other checks would only read the damage again
    findings = [integrity] + [_guarded(check, archive) for check in (_foreign_keys, _fts_table)]
    if findings[-1].ok:
        findings += [_guarded(check, archive) for check in (_fts_triggers, _fts_rows, _fts_content)]
    return findings


def _guarded(check: Callable[[Archive], Finding], archive: Archive) -> Finding:
    try:
        return check(archive)
    except sqlite3.DatabaseError as error:
        return Finding(check.__name__.lstrip("_"), False, f"could not be read: {error}")


def repair(archive: Archive, findings: list[Finding]) -> list[str]:
    """Rebuild what `findings` found out of sync; returns what was done."""
    broken = {finding.check for finding in findings if not finding.ok and finding.fixable}
    done = []
    try:
        if broken & {"fts_table", "fts_triggers"}:
            recreate_fts(archive.db)
            done.append("recreated the full-text index articles_fts and its triggers from the articles")
        elif broken & {"fts_rows", "fts_content"}:
            with archive.db.conn:
                archive.db.execute(f"insert into [{FTS_TABLE}]([{FTS_TABLE}]) values ('rebuild')")
            done.append("rebuilt the full-text index articles_fts from the articles")
    except sqlite3.Error as error:
        raise ArchiveError(f"archive {archive.path}: cannot rebuild the full-text index: {error}") from error
    return done


# --- the checks -----------------------------------------------------------------------------------

def _integrity(archive: Archive) -> Finding:
    recover = (f"restore a backup, or copy what can be read with `sqlite3 {archive.path} .recover | sqlite3"
               " recovered.db` (check --fix rebuilds only the full-text index)")
    try:
        messages = [message for (message,) in archive.db.execute("pragma integrity_check")]
    except sqlite3.DatabaseError as error:
        damaged = _unreadable_tables(archive)
        return Finding("integrity", False, f"{DAMAGED} ({error})"
                       + (f": {', '.join(damaged)} cannot be read" if damaged else "") + f"; {recover}")
    if messages == ["ok"]:
        return Finding("integrity", True, "PRAGMA integrity_check: ok")
    return Finding("integrity", False, f"PRAGMA integrity_check: {_quoted(messages)}; {recover}")


def _unreadable_tables(archive: Archive) -> list[str]:
    """The tables of the archive that cannot be read to the end."""
    try:
        names = [name for (name,) in archive.db.execute("select name from sqlite_master where type = 'table'")]
    except sqlite3.DatabaseError:
        return ["the list of tables (sqlite_master)"]
    damaged = []
    for name in names:
        try:
            archive.db.execute(f"select * from [{name}]").fetchall()
        except sqlite3.DatabaseError:
            damaged.append(name)
    return damaged


def _foreign_keys(archive: Archive) -> Finding:
    rows = archive.db.execute("pragma foreign_key_check").fetchall()
    if not rows:
        return Finding("foreign_keys", True, "PRAGMA foreign_key_check: no dangling reference")
    problems = [f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in rows]
    return Finding("foreign_keys", False, f"{len(rows)} rows point to missing rows: {_quoted(problems)}")


def _fts_table(archive: Archive) -> Finding:
    row = archive.db.execute("select sql from sqlite_master where name = ?", [FTS_TABLE]).fetchone()
    if row is None:
        return Finding("fts_table", False, f"no full-text index {FTS_TABLE}", fixable=True)
    sql = row[0] or ""
    wanted = [f'"{column}"' for column in FTS_COLUMNS] + [FTS_TOKENIZE, 'content="articles"']
    missing = [part for part in wanted if part not in sql]
    if missing:
        return Finding("fts_table", False, f"{FTS_TABLE} is not configured as expected (no {', '.join(missing)})",
                       fixable=True)
    return Finding("fts_table", True, f"{FTS_TABLE} over {', '.join(FTS_COLUMNS)}, {FTS_TOKENIZE}")


def _fts_triggers(archive: Archive) -> Finding:
    present = {name for (name,) in archive.db.execute("select name from sqlite_master where type = 'trigger'")}
    missing = [name for name in FTS_TRIGGERS if name not in present]
    if missing:
        return Finding("fts_triggers", False, f"missing triggers {', '.join(missing)}: the index stops following"
                       " the articles", fixable=True)
    return Finding("fts_triggers", True, "triggers keep the index in sync on insert, update and delete")


def _fts_rows(archive: Archive) -> Finding:
    indexed = archive.db.execute(f"select count(*) from [{FTS_TABLE}_docsize]").fetchone()[0]
    articles = archive.db.execute("select count(*) from articles").fetchone()[0]
    if indexed != articles:
        return Finding("fts_rows", False, f"{indexed} rows indexed for {articles} articles", fixable=True)
    return Finding("fts_rows", True, f"{indexed} rows indexed for {articles} articles")


def _fts_content(archive: Archive) -> Finding:
    """FTS5's own integrity-check, which SQLite runs as a write that changes nothing (rolled back): on an
    archive opened read-only, through a second connection when the file may be written, else not at all."""
    if archive.read_only:
        if not os.access(archive.path, os.W_OK):
            return Finding("fts_content", True, "not compared (the file is read-only): rows and triggers checked")
        with Archive(archive.path, create=False) as writable:
            return _fts_content(writable)
    conn = archive.db.conn
    try:
        conn.execute(f"insert into [{FTS_TABLE}]([{FTS_TABLE}], rank) values ('integrity-check', 1)")
    except sqlite3.DatabaseError as error:
        detail = f"the index does not match the articles' text (FTS5 integrity-check: {error})"
        return Finding("fts_content", False, detail, fixable=True)
    finally:
        if conn.in_transaction:
            conn.execute("rollback")
    return Finding("fts_content", True, "the index matches the articles' title, kicker, teaser and body")


def _quoted(messages: list[str]) -> str:
    shown = "; ".join(messages[:SHOWN])
    return shown + (f"; and {len(messages) - SHOWN} more" if len(messages) > SHOWN else "")
