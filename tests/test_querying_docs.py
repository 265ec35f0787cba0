"""The README's "Querying your archive" section, run: every command of its ```bash blocks, against an archive
of the bundled samples, must exit 0 and print (or write) something. So the documentation never goes stale.

Commands run in order, in one directory holding `archive.db` (later ones use what earlier ones wrote, like
metadata.json), through bash, with the virtualenv's bin first on PATH as a reader's shell would have it.
A command that starts a Datasette server runs with `--get /` instead, so it answers one request and exits.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import MANIFEST, ROOT

README = ROOT / "README.md"
START, END = "<!-- querying:start -->", "<!-- querying:end -->"
BIN = Path(sys.executable).parent
TIMEOUT = 120


def section() -> str:
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text, "README.md lost its querying markers"
    return text[text.index(START) + len(START):text.index(END)]


def commands(markdown: str) -> list[str]:
    """The commands of every ```bash block: one per line (backslash continuations joined), no comments."""
    found = []
    for block in re.findall(r"^```bash\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found.append(line.strip())
    return found


def runnable(command: str) -> str:
    """A Datasette server command answers one request instead of serving forever."""
    words = shlex.split(command)
    if words[0] == "datasette" and "--get" not in words and words[1:2] != ["--version"]:
        return f"{command} --get /"
    return command


@dataclass
class Ran:
    command: str
    returncode: int
    output: str


def run_in(directory: Path, command: str) -> Ran:
    env = {key: value for key, value in os.environ.items() if key != "SCRAPE_DB"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    before = {path: path.stat().st_mtime_ns for path in directory.iterdir()}
    result = subprocess.run(["bash", "-o", "pipefail", "-c", runnable(command)], cwd=directory, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT)
    written = [path for path in directory.iterdir()
               if path.is_file() and before.get(path) != path.stat().st_mtime_ns and path.suffix != ".db"
               and not path.name.endswith(("-wal", "-shm"))]
    output = result.stdout + result.stderr + "".join(f"\n[wrote {path.name}: {path.stat().st_size} bytes]"
                                                     for path in written if path.stat().st_size)
    return Ran(command, result.returncode, output)


@pytest.fixture(scope="module")
def sample_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with archive.db holding the bundled HTML samples, stored as the README says."""
    directory = tmp_path_factory.mktemp("querying")
    pages = sorted(str(ROOT / "samples" / name) for name in MANIFEST if name.endswith(".html"))
    stored = run_in(directory, "scrape url " + " ".join(map(shlex.quote, pages)))
    assert stored.returncode == 0, stored.output
    return directory


def test_the_section_shows_sqlite_utils_and_datasette() -> None:
    found = commands(section())
    assert len(found) >= 10
    assert any(command.startswith("sqlite-utils tables archive.db") for command in found)
    assert any("article_details" in command for command in found)
    assert 'sqlite-utils search archive.db articles "telegestion"' in " ".join(found)
    assert any("dossier_contents" in command for command in found)
    assert "scrape datasette-metadata > metadata.json" in found
    assert any(command.startswith("datasette archive.db -m metadata.json") for command in found)


def test_every_command_of_the_section_runs(sample_archive: Path) -> None:
    ran = [run_in(sample_archive, command) for command in commands(section())]
    failed = [f"$ {r.command}\nexit {r.returncode}\n{r.output[-2000:]}" for r in ran if r.returncode != 0]
    assert not failed, "\n\n".join(failed)
    silent = [r.command for r in ran if not r.output.strip()]
    assert not silent, f"commands that printed and wrote nothing: {silent}"


def test_the_examples_answer_what_the_text_says(sample_archive: Path) -> None:
    search = run_in(sample_archive, 'sqlite-utils search archive.db articles "telegestion" -c title')
    assert "La télégestion de l’éclairage public séduit les petites communes" in search.output
    dossier = run_in(sample_archive, next(c for c in commands(section()) if "dossier_contents" in c))
    assert "La Smart city à la recherche de modèles économiques" in dossier.output
    assert run_in(sample_archive, "scrape datasette-metadata > metadata.json").returncode == 0
    served = run_in(sample_archive, "datasette archive.db -m metadata.json")
    assert served.returncode == 0 and "Club Techni.Cités archive" in served.output
