"""`scrape check [--fix]`: archives broken on purpose, found out and repaired, through the CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import scrape


def sql(db: Path, *statements: str) -> None:
    with sqlite3.connect(db) as connection:
        for statement in statements:
            connection.execute(statement)


def check(db: Path, *args: str) -> tuple[int, dict]:
    result = scrape("check", "--db", db, "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def failing(report: dict) -> set[str]:
    return {finding["check"] for finding in report["findings"] if not finding["ok"]}


def found(db: Path, query: str) -> int:
    result = scrape("search", "--db", db, "--json", "--fts", query)  # the index as it is: FTS5 syntax, no stemming
    assert result.exit_code == 0, result.stderr
    return len(json.loads(result.stdout))


def test_a_sound_archive_passes(archive_db: Path) -> None:
    code, report = check(archive_db)
    assert code == 0
    assert report["ok"] is True
    assert [finding["check"] for finding in report["findings"]] == [
        "integrity", "foreign_keys", "fts_table", "fts_triggers", "fts_rows", "fts_content"]
    result = scrape("check", "--db", archive_db)
    assert result.exit_code == 0
    assert "integrity" in result.stdout


def test_an_update_without_its_trigger_is_found_and_fixed(archive_db: Path) -> None:
    sql(archive_db, "drop trigger articles_au", "update articles set title = 'Zanzibar' where site_id = 554402")
    assert found(archive_db, "zanzibar") == 0  # the index no longer follows the articles
    code, report = check(archive_db)
    assert code == 1
    assert report["ok"] is False
    assert failing(report) == {"fts_triggers", "fts_content"}
    human = scrape("check", "--db", archive_db)
    assert human.exit_code == 1
    assert "FAIL" in human.stdout
    assert "--fix" in human.stdout
    code, report = check(archive_db, "--fix")
    assert code == 0
    assert report["ok"] is True
    assert report["repaired"]
    assert found(archive_db, "zanzibar") == 1
    sql(archive_db, "update articles set title = 'Tombouctou' where site_id = 554402")
    assert found(archive_db, "tombouctou") == 1  # the trigger is back
    assert check(archive_db)[0] == 0


def test_a_missing_index_row_is_found_and_rebuilt(archive_db: Path) -> None:
    sql(archive_db, "drop trigger articles_ai",
        "insert into articles (url, title, record) values ('https://example.org/1/', 'Hors index', '{}')",
        "create trigger articles_ai after insert on articles begin"
        " insert into articles_fts (rowid, title, kicker, teaser, body)"
        " values (new.rowid, new.title, new.kicker, new.teaser, new.body); end")
    code, report = check(archive_db)
    assert code == 1
    assert failing(report) == {"fts_rows", "fts_content"}
    result = scrape("check", "--db", archive_db, "--fix")
    assert result.exit_code == 0, result.output
    assert "rebuilt the full-text index" in result.stderr
    assert found(archive_db, '"hors index"') == 1


def test_an_index_without_accent_folding_is_recreated(archive_db: Path) -> None:
    sql(archive_db, "drop table articles_fts",
        "create virtual table articles_fts using fts5 (title, kicker, teaser, body, content=articles,"
        " tokenize='unicode61 remove_diacritics 0')",
        "insert into articles_fts (articles_fts) values ('rebuild')")
    assert found(archive_db, "telegestion") == 0  # "télégestion" is no longer found without its accents
    code, report = check(archive_db)
    assert code == 1
    assert "fts_table" in failing(report)
    assert check(archive_db, "--fix")[0] == 0
    assert found(archive_db, "telegestion") == 1


def test_a_missing_index_is_recreated(archive_db: Path) -> None:
    sql(archive_db, "drop table articles_fts")
    code, report = check(archive_db)
    assert code == 1
    assert failing(report) == {"fts_table"}
    assert check(archive_db, "--fix")[0] == 0
    assert found(archive_db, "voirie") == 1


def test_dangling_foreign_keys_are_reported_not_fixed(archive_db: Path) -> None:
    sql(archive_db, "insert into comments (article_id, position, text) values (9999, 0, 'orphelin')")
    code, report = check(archive_db)
    assert code == 1
    assert failing(report) == {"foreign_keys"}
    detail = next(finding["detail"] for finding in report["findings"] if finding["check"] == "foreign_keys")
    assert "comments" in detail
    assert "articles" in detail
    code, report = check(archive_db, "--fix")
    assert code == 1
    assert report["repaired"] == []


def test_quiet_prints_only_the_problems(archive_db: Path) -> None:
    sql(archive_db, "drop trigger articles_ad")
    result = scrape("check", "--db", archive_db, "--quiet")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "fts_triggers" in result.stderr
    assert "articles_ad" in result.stderr


def test_a_missing_archive_is_a_usage_error(tmp_path: Path) -> None:
    result = scrape("check", "--db", tmp_path / "none.db")
    assert result.exit_code == 2
    assert "no such archive" in result.stderr


def test_a_file_that_is_not_sqlite_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    path.write_bytes(b"not a database at all" * 100)
    result = scrape("check", "--db", path)
    assert result.exit_code == 2
    assert "not an SQLite database" in result.stderr
    assert "Traceback" not in result.output
