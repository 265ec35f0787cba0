"""Shared fixtures: the samples served by a real HTTP server on 127.0.0.1, at the paths they have on the site."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import sqlite3
import ssl
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import Result
from typer.testing import CliRunner

from scraper.archive import Archive
from scraper.cli import app
from scraper.ingest import ingest
from scraper.models import FetchResult

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
MANIFEST: dict[str, dict[str, str]] = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))


@dataclass
class SampleSite:
    """A running server: `url(sample)` is where a sample file is served; `requests` logs every path asked."""

    base: str
    routes: dict[str, tuple[int, str, bytes]]
    requests: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    ca_file: Path | None = None  # over HTTPS: the PEM of the certificate authority that signed the server's

    def url(self, sample: str) -> str:
        return self.base + urlsplit(MANIFEST[sample]["url"]).path

    def add(self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200) -> str:
        self.routes[path] = (status, content_type, body)
        return self.base + path


def sample_routes() -> dict[str, tuple[int, str, bytes]]:
    routes = {"/robots.txt": (200, "text/plain", b"User-agent: *\nDisallow: /wp-admin/\n")}
    for name, entry in MANIFEST.items():
        path = urlsplit(entry["url"]).path
        routes.setdefault(path, (200, entry.get("content_type", "text/html; charset=utf-8"),
                                 (SAMPLES / name).read_bytes()))
    return routes


def _handler(site: SampleSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = urlsplit(self.path).path
            site.requests.append(path)
            site.user_agents.append(self.headers.get("User-Agent", ""))
            status, content_type, body = site.routes.get(path, (404, "text/html", b"<h1>Not found</h1>"))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def _serve(site: SampleSite, tls: ssl.SSLContext | None = None) -> Iterator[SampleSite]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)  # a failed handshake drops that client
    site.base = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sample_site() -> Iterator[SampleSite]:
    """The bundled samples on a real HTTP server on 127.0.0.1 (a fresh one per test)."""
    with _serve(SampleSite(base="", routes=sample_routes())) as site:
        yield site


def server_tls(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a certificate for 127.0.0.1 signed by a throwaway certificate authority, and
    that authority's PEM file (written in `folder`) for the client to trust."""
    import trustme

    authority = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(tls)
    ca_file = folder / "test-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return tls, ca_file


@pytest.fixture
def https_sample_site(tmp_path: Path) -> Iterator[SampleSite]:
    """The bundled samples over HTTPS on 127.0.0.1, with a certificate for 127.0.0.1 signed by a throwaway
    certificate authority; `ca_file` is that authority's PEM (trusted only where a test sets SSL_CERT_FILE)."""
    tls, ca_file = server_tls(tmp_path)
    with _serve(SampleSite(base="", routes=sample_routes(), ca_file=ca_file), tls) as site:
        yield site


@contextmanager
def tmpfs(mount_point: Path, size: str, made_for: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `mount_point` for the test's time (mounting needs root: elsewhere the test
    is skipped, saying that `made_for` needs it), unmounted after."""
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"{made_for} is made by mounting a tmpfs, which needs root: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "archive.db"


def ingest_samples(archive: Archive, *, run_id: int | None = None,
                   fetched_at: str = "2024-01-01T00:00:00+00:00") -> None:
    """Store every bundled sample as if it had been fetched from its URL on the site."""
    for name, entry in MANIFEST.items():
        ingest(archive, FetchResult(url=entry["url"], final_url=entry["url"], status=200, fetched_at=fetched_at,
                                    body=(SAMPLES / name).read_bytes(), content_type=entry["content_type"]),
               run_id=run_id)


@pytest.fixture
def archive_db(db_path: Path) -> Path:
    """An archive holding every bundled sample."""
    with Archive(db_path) as archive:
        ingest_samples(archive)
    return db_path


def run_on_a_terminal(*args: str, timeout: float = 60, columns: int = 160) -> tuple[int, str]:
    """Run `python -m scraper ARGS` with a pseudo-terminal `columns` wide as its stdin, stdout and stderr, as a
    user at a terminal would; returns its exit code and what it showed, escape sequences removed."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "scraper", *args], stdin=child, stdout=child, stderr=child,
                               env=env, cwd=ROOT)
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child side closed
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    code = process.wait(timeout=timeout)
    return code, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode("utf-8", "replace"))


# --- running the CLI -------------------------------------------------------------------------------------------

def scrape(*args: str | Path, input: str | bytes | None = None, catch_exceptions: bool = False) -> Result:
    """Run `scrape ARGS` in-process with Typer's runner (paths given as they are); `input` is its standard input.
    An exception the CLI lets out is raised in the test, with its traceback (with `catch_exceptions`, it becomes
    `result.exception` and exit code 1, as Typer's runner does by default)."""
    return CliRunner().invoke(app, [str(arg) for arg in args], input=input, catch_exceptions=catch_exceptions)


def _command(args: Sequence[str | Path]) -> list[str]:
    return [sys.executable, "-m", "scraper", *map(str, args)]


def _environment(env: dict[str, str] | None, columns: int | None) -> dict[str, str]:
    width = {"COLUMNS": str(columns)} if columns is not None else {}
    return {**os.environ, "PYTHONPATH": str(ROOT), **width, **(env or {})}


def run_scrape(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None,
               stdin: str | bytes | None = None, columns: int | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m scraper ARGS` as a user would, in `cwd`, with this environment plus `env` (and COLUMNS set
    to `columns` if given); `stdin` is what it reads (text is sent as UTF-8). Its stdout and stderr are text
    (UTF-8, newlines as `\\n`). `timeout` is a hang guard."""
    ran = subprocess.run(_command(args), capture_output=True, cwd=cwd, env=_environment(env, columns),
                         input=stdin.encode() if isinstance(stdin, str) else stdin, timeout=timeout)
    return subprocess.CompletedProcess(ran.args, ran.returncode, _text(ran.stdout), _text(ran.stderr))


def _text(output: bytes) -> str:
    return output.decode().replace("\r\n", "\n").replace("\r", "\n")


def start_scrape(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None,
                 columns: int | None = None) -> subprocess.Popen[str]:
    """Start `python -m scraper ARGS` and leave it running (to signal it, or wait on it with `communicate`);
    its stdout and stderr are pipes of text, its environment and COLUMNS as in `run_scrape`."""
    return subprocess.Popen(_command(args), cwd=cwd, env=_environment(env, columns), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


# --- reading an archive -----------------------------------------------------------------------------------------

def rows(db: Path, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    """The rows `sql` selects from the archive file `db`, as tuples, read with the sqlite3 module."""
    with closing(sqlite3.connect(db)) as connection:
        return connection.execute(sql, params).fetchall()


def scalar(db: Path, sql: str, params: Sequence[object] = ()) -> Any:
    """The first column of the first row `sql` selects from the archive file `db`."""
    return rows(db, sql, params)[0][0]
