"""A benchmark whose baseline cannot run fails loudly, instead of printing a table without it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from conftest import ROOT


def test_bench_parse_stops_when_trafilatura_cannot_be_imported(tmp_path: Path) -> None:
    broken = tmp_path / "trafilatura"
    broken.mkdir()  # what a current lxml without lxml_html_clean gives: trafilatura fails on import
    (broken / "__init__.py").write_text("raise ImportError('lxml.html.clean module is now a separate project')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / "bench_parse.py"), "--rounds", "1"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0
    assert "trafilatura" in done.stderr
    assert "lxml.html.clean" in done.stderr
    assert "overall" not in done.stdout


def test_the_bench_extra_brings_what_trafilatura_imports() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(requirement.startswith("lxml_html_clean") for requirement in extras["bench"])
