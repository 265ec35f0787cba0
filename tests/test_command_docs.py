"""The command reference (docs/commands/) is the real `--help` of every command of the app: regenerated here in
memory and compared with the pages in the repository, so a changed help text, a new command (its page missing)
or a removed one (its page left over) fails until `python -m scraper.cli.docs` writes the pages again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT

from scraper.cli import docs

FOLDER = ROOT / "docs" / docs.FOLDER


@pytest.fixture(scope="module")
def wanted() -> dict[str, str]:
    return docs.pages()


def test_the_reference_is_current(wanted: dict[str, str]) -> None:
    stale = docs.differences(FOLDER, wanted)
    assert not stale, (f"docs/commands/ is out of date ({', '.join(stale)}): run `{docs.REGENERATE}` "
                       "and commit the pages")


def test_every_command_of_the_app_has_a_page_linked_from_the_index(wanted: dict[str, str]) -> None:
    names = docs.command_names()
    assert {"url", "dossier", "search", "export", "history"} <= set(names)
    assert set(wanted) == {docs.INDEX, *(f"{name}.md" for name in names)}
    for name in names:
        assert f"[`scrape {name}`]({name}.md)" in wanted[docs.INDEX]


def test_each_page_is_the_help_the_console_script_prints(wanted: dict[str, str]) -> None:
    assert "Usage: scrape url [OPTIONS] [SOURCE...]" in wanted["url.md"]
    assert "Usage: scrape [OPTIONS] COMMAND [ARGS]..." in wanted[docs.INDEX]
    for name, text in wanted.items():
        help_lines = text.split("```text\n", 1)[1].split("\n```", 1)[0].splitlines()
        assert "Example" in "\n".join(help_lines), name
        assert all(len(line) <= int(docs.WIDTH) for line in help_lines), name  # a fixed width, whatever the terminal
        assert not re.search(r"\x1b\[|[ \t]$", text, flags=re.MULTILINE), name  # no colour, no trailing spaces


def test_the_check_names_a_missing_a_stale_and_a_left_over_page(tmp_path: Path, wanted: dict[str, str]) -> None:
    folder = tmp_path / "commands"
    assert sorted(docs.write(folder, wanted)) == sorted(wanted)
    assert docs.differences(folder, wanted) == []
    (folder / "search.md").unlink()  # as for a command added to the app: no page yet
    (folder / "url.md").write_text(wanted["url.md"].replace("--input-file", "--input"), encoding="utf-8")
    (folder / "gone.md").write_text("a command that was removed\n", encoding="utf-8")
    assert docs.differences(folder, wanted) == ["gone.md", "search.md", "url.md"]
    assert docs.write(folder, wanted) == ["gone.md", "search.md", "url.md"]
    assert docs.differences(folder, wanted) == []
    assert not (folder / "gone.md").exists()
