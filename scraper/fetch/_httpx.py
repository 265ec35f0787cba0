"""httpx, imported without its optional command line.

httpx's `__init__` imports `httpx._main` (its `httpx` command: click, pygments, rich.syntax, rich.progress) in a
try/except ImportError, and falls back to a stub `httpx.main` that asks for `pip install 'httpx[cli]'` when
that import fails. `scrape` never runs that command: a None in `sys.modules` makes the import fail, which
saves every run the memory of those modules (docs/benchmarks.md says how much). Nothing changes when
something imported `httpx._main` before us (setdefault), and the rest of httpx is the same module.
"""

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402

__all__ = ["httpx"]
