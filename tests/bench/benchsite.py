"""A generated dossier served from its own process, for the crawl benchmarks.

Run by the benchmarks, not by hand: `python tests/bench/benchsite.py --articles 2000` binds 127.0.0.1 on a
free port, generates every page in memory (the markup of tests/crawlsite.py, which the project's parser
reads), prints `PORT <n>` and serves until it is killed. An asyncio HTTP/1.1 server with keep-alive: a page
is a dictionary look-up and one write, so the server is not what limits a crawl (bench_crawl.py prints its CPU
time over the crawl's wall time to show it).

- `/robots.txt` allows everything but /private/ (both crawlers read and obey it);
- the dossier `/dossiers/bench/` (pages `/dossiers/bench/page/N/`, `per_page` articles each) and its
  articles; every page has an ETag and a matching If-None-Match gets a 304 without a body;
- `/__log` returns, as JSON, one entry per request since the last `/__reset` (those two not counted):
  `[start, target, status, body bytes, wire bytes]` (`start`: time.monotonic() when the request head had
  arrived; the clock is shared by all processes of the machine).
- `--pad-kb N` pads every HTML page with N KB of comment, to a real page's weight.

`BenchSite` starts and stops it from a benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import psutil

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from crawlsite import article_html, dossier_html, make_articles  # noqa: E402

DOSSIER_PATH = "/dossiers/bench/"
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class Page:
    body: bytes
    etag: str
    content_type: str


def page_path(number: int) -> str:
    return DOSSIER_PATH if number == 1 else f"{DOSSIER_PATH}page/{number}/"


def generate(base: str, articles: int, per_page: int, pad_kb: int = 0) -> dict[str, Page]:
    """Every page of the site, by path; `pad_kb` KB of comment added to each HTML page (the real site's
    pages weigh 40 to 170 KB, the generated ones about 2)."""
    items = make_articles(articles, first_id=700000)
    chunks = [items[i:i + per_page] for i in range(0, len(items), per_page)] or [[]]
    title = "Dossier de référence du banc d'essai"
    texts: dict[str, tuple[str, str]] = {"/robots.txt": (ROBOTS.decode(), "text/plain")}
    for number, chunk in enumerate(chunks, start=1):
        next_url = base + page_path(number + 1) if number < len(chunks) else None
        texts[page_path(number)] = (dossier_html(base, page_path(number), title, chunk, next_url), "")
    for article in items:
        texts[article.path] = (article_html(base, article, dossier=(base + DOSSIER_PATH, title)), "")
    pages = {}
    filler = "<!-- " + "scripts, menus and footers of a real page " * (pad_kb * 1024 // 43) + "-->\n"
    for path, (text, content_type) in texts.items():
        body = (text.replace("</body>", filler + "</body>") if pad_kb and not content_type else text).encode("utf-8")
        pages[path] = Page(body, '"' + sha256(body).hexdigest()[:16] + '"',
                           content_type or "text/html; charset=utf-8")
    return pages


class Server:
    """The asyncio side: answers from `pages`, logs every request."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.log: list[tuple[float, str, int, int, int]] = []

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                started = time.monotonic()
                if not self.answer(head, started, writer):
                    return
                await writer.drain()
        except ConnectionError:
            return
        finally:
            writer.close()

    def answer(self, head: bytes, started: float, writer: asyncio.StreamWriter) -> bool:
        lines = head.decode("latin-1").split("\r\n")
        _method, target, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status, body, extra = self.respond(target, headers)
        reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
        head_out = f"HTTP/1.1 {status} {reason}\r\n{extra}"
        if status != 304:
            head_out += f"Content-Length: {len(body)}\r\n"
        data = (head_out + "\r\n").encode("latin-1") + body
        writer.write(data)
        if not target.startswith("/__"):
            self.log.append((started, target, status, len(body), len(data)))
        return headers.get("connection", "").lower() != "close"

    def respond(self, target: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
        path = target.split("?", 1)[0]
        if path == "/__log":
            return 200, json.dumps(self.log).encode(), "Content-Type: application/json\r\n"
        if path == "/__reset":
            self.log = []
            return 200, b"ok", "Content-Type: text/plain\r\n"
        page = self.pages.get(path)
        if page is None:
            return 404, b"not found", "Content-Type: text/plain\r\n"
        extra = f"ETag: {page.etag}\r\n"
        if headers.get("if-none-match") == page.etag:
            return 304, b"", extra
        return 200, page.body, extra + f"Content-Type: {page.content_type}\r\n"


async def serve(articles: int, per_page: int, pad_kb: int) -> None:
    server = Server()
    listener = await asyncio.start_server(server.connection, "127.0.0.1", 0, backlog=256)
    port = listener.sockets[0].getsockname()[1]
    server.pages = generate(f"http://127.0.0.1:{port}", articles, per_page, pad_kb)
    print(f"PORT {port} PAGES {len(server.pages) - 1}", flush=True)
    async with listener:
        await listener.serve_forever()


class BenchSite:
    """The server process, from a benchmark: `with BenchSite(2000) as site: ... site.log()`."""

    def __init__(self, articles: int, per_page: int = 20, pad_kb: int = 0) -> None:
        self.articles = articles
        self.per_page = per_page
        self.pad_kb = pad_kb
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.pages = 0  # the dossier's pages and articles (robots.txt not counted)

    def __enter__(self) -> BenchSite:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--articles", str(self.articles), "--per-page", str(self.per_page),
             "--pad-kb", str(self.pad_kb)],
            stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        words = self.process.stdout.readline().split()
        if len(words) != 4 or words[0] != "PORT":
            self.process.kill()
            raise RuntimeError(f"bench server did not start: {words}")
        self.port, self.pages = int(words[1]), int(words[3])
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dossier_url(self) -> str:
        return self.base + DOSSIER_PATH

    def log(self) -> list[tuple[float, str, int, int, int]]:
        """The requests since the last reset: (start, target, status, body bytes, wire bytes)."""
        with urllib.request.urlopen(self.base + "/__log", timeout=30) as response:
            return [tuple(entry) for entry in json.load(response)]

    def reset(self) -> None:
        with urllib.request.urlopen(self.base + "/__reset", timeout=30) as response:
            response.read()

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far."""
        assert self.process is not None
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system


@dataclass
class ChildRun:
    """A finished child process: exit code, wall time, peak RSS, CPU time, output."""

    code: int
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float
    stdout: str
    stderr: str


def run_child(args: list[str], *, timeout: float = 600.0, env: dict[str, str] | None = None) -> ChildRun:
    """Run `args` to its end, reading its peak RSS (VmHWM) every few milliseconds.

    VmHWM, the kernel's high-water mark of the process's resident memory since its exec, holds peaks that
    fall between two readings; only growth in the last few milliseconds before the exit can be missed.
    (`ru_maxrss` from wait4 is no use here: it counts the benchmark's own pages, mapped in the child
    between fork and exec.) CPU time comes from wait4.
    """
    with open(os.devnull, "rb") as stdin, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdin=stdin, stdout=out, stderr=err, env=env)
        peak_kb = 0
        deadline = started + timeout
        while True:
            peak_kb = max(peak_kb, _high_water_kb(process.pid, args))
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                _pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.003)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(process.returncode, seconds, peak_kb / 1024, usage.ru_utime + usage.ru_stime,
                        out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def _high_water_kb(pid: int, args: list[str]) -> int:
    """VmHWM of `pid` once it runs `args` (0 before its exec, while it still is this process's fork, or
    once it has exited)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    if [arg.decode() for arg in cmdline[len(cmdline) - len(args) + 1:]] != args[1:]:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--pad-kb", type=int, default=0)
    options = parser.parse_args()
    asyncio.run(serve(options.articles, options.per_page, options.pad_kb))


if __name__ == "__main__":
    main()
