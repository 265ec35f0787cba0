"""Bad command lines: one line on stderr, exit code 2, and the archive byte for byte as it was (or not created).

Every usage error is found before the archive is opened: no `runs` row, no empty archive, nothing fetched.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import MANIFEST, ingest_samples
from typer.testing import CliRunner

from scraper.archive import Archive
from scraper.cli import app, main

DOSSIER = MANIFEST["dossier-smart-city.html"]["url"]

BAD = {
    "--delay inf": ["dossier", DOSSIER, "--delay", "inf"],
    "--delay nan": ["dossier", DOSSIER, "--delay", "nan"],
    "--delay -1": ["listing", DOSSIER, "--delay", "-1"],
    "--timeout inf": ["url", DOSSIER, "--timeout", "inf"],
    "--timeout of a year": ["feed", DOSSIER, "--timeout", "31536000"],
    "--max-wait inf": ["dossier", DOSSIER, "--max-wait", "inf"],
    "a file URL": ["dossier", "file:///etc/passwd"],
    "an ftp feed": ["feed", "ftp://x/feed/"],
    "a data listing": ["listing", "data:,x"],
    "a URL without a scheme": ["dossier", "www.lagazettedescommunes.com/dossiers/smart-city/"],
    "http:///x": ["url", "http:///x"],
    "http://:80/": ["url", "http://:80/"],
    "port 99999": ["url", "http://www.lagazettedescommunes.com:99999/"],
    "http://[::1/x": ["url", "http://[::1/x"],
    "a dossier without a host": ["dossier", "http:///dossiers/x/"],
    "a file that is not a WARC": ["import-warc", "pyproject.toml"],
    "a file that is not a capture": ["import", "pyproject.toml"],
    "a missing capture": ["import", "saved-page.har"],
    "a capture, then a missing one": ["import", "tests/captures/site.wacz", "no-such-folder/"],
    "a missing cookies file": ["dossier", DOSSIER, "--cookies", "no-such-cookies.txt"],
    "--pages 0": ["listing", DOSSIER, "--pages", "0"],
    "--since 2024-13-45": ["feed", DOSSIER, "--since", "2024-13-45"],
}


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as ended:
        main(args)
    return int(ended.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("name", list(BAD))
def test_a_usage_error_is_one_line_and_leaves_the_archive_as_it_was(name: str, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        ingest_samples(archive)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    code, stderr = run([*BAD[name], "--db", str(db)], capsys)
    assert code == 2, stderr
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("error:"), stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("name", list(BAD))
def test_a_usage_error_creates_no_archive(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _stderr = run([*BAD[name], "--db", str(tmp_path / "new.db")], capsys)
    assert code == 2
    assert list(tmp_path.iterdir()) == []


def test_a_range_error_names_the_option_and_the_help_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, stderr = run(["dossier", DOSSIER, "--concurrency", "0"], capsys)
    assert code == 2
    assert stderr.count("\n") == 1
    assert "--concurrency" in stderr
    assert "scrape dossier --help" in stderr


def test_the_url_command_says_a_bad_url_before_fetching_anything(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["url", "samples/article-free-2018.html", "http://[::1/x",
                                      "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2
    assert "not a valid URL" in result.stderr
    assert not (tmp_path / "a.db").exists()
