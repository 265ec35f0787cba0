"""Make the captures in tests/captures/ again, with the real tools a reader would use (see README.md beside).

    .venv/bin/python tests/captures/make_captures.py [--wacz PATH-TO-wacz] [--single-file PATH-TO-single-file]

The samples are served on 127.0.0.1 at their paths on the site, with a few other entries (another site's page,
an image, a script, a challenge page, an interstitial, a page of another host named like an article). Chromium
(the system's chromium-headless-shell, driven by Playwright; never `playwright install`) reaches every host
through that server: `--host-resolver-rules` maps every name to 127.0.0.1, so the pages keep the site's URLs and
nothing leaves the machine. It records `browser.har` and `mixed.har` (Playwright's `record_har_path`, bodies
embedded) and one MHTML per page (the DevTools protocol's `Page.captureSnapshot`, what "Save page as… single
file" writes).

For the WACZ, `scrape url` fetches site pages from the same server (httpx takes it as its HTTP proxy,
HTTP_PROXY, so the URLs stay the site's), in two archives; `scrape export --format warc` writes one WARC of
each, and `wacz create` (the `wacz` package, from PyPI, in its own virtual environment: --wacz names its
command) packs both WARCs into `site.wacz`, with a pages/pages.jsonl naming the pages (as ArchiveWeb.page and
Browsertrix write one).

`single-file` (the SingleFile command line, `npm install single-file-cli`, driving the same Chromium) saves one
page as SingleFile HTML, `article-free.singlefile.html`, with its defaults (images embedded as data: URIs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SAMPLES = ROOT / "samples"
MANIFEST: dict[str, dict[str, str]] = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))
SITE = "http://www.lagazettedescommunes.com"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]

# The pages Chromium visits for browser.har, in order; mixed.har holds one sample and what else a reader's
# browser meets: another site's page (with its image and script), a page of another host named like an article,
# a Cloudflare challenge and an Imperva interstitial at URLs of the site.
HAR_SAMPLES = ("article-smart-city-2018.html", "article-2016-cp1252.html", "dossier-smart-city.html",
               "listing-club-technicites.html")
MIXED_SAMPLE = "article-free-2018.html"
OTHER_SITE = "http://www.example.org/autre-site/"
EVIL = "http://evil.example/554402/pwned/"  # another host, named like the free article (issue 19, item 1)
CHALLENGE = f"{SITE}/600020/acces-bloque/"  # a Cloudflare challenge: 403, cf-mitigated: challenge
INTERSTITIAL = f"{SITE}/600030/verification/"  # an Imperva-like interstitial served with status 200
LOGO = "/wp-content/themes/gazette_v5/images/header/logo-gazette-248x72.png"
MHTML_SAMPLES = {"article-smart-city-2018.html": "article-smart-city.mhtml",
                 "article-2016-cp1252.html": "article-2016-cp1252.mhtml"}
# The pages `scrape url` fetches for each WARC of the WACZ.
WACZ_SAMPLES = (("article-free-2018.html", "dossier-smart-city-page-2.html"),
                ("listing-club-technicites-page-2.html",))
SINGLEFILE_SAMPLE = "article-free-2018.html"

CHALLENGE_PAGE = b"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="360"></head><body><div class="main-wrapper" role="main">
<h1 class="zone-name-title h1">www.lagazettedescommunes.com</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray=8f3a2b1c4d5e6f70"></script>
</div><div class="footer">Ray ID: <code>8f3a2b1c4d5e6f70</code></div></body></html>
"""
INTERSTITIAL_PAGE = b"""<html><head><meta name="robots" content="noindex,nofollow">
<title>www.lagazettedescommunes.com</title></head><body>
<iframe id="main-iframe" src="/_Incapsula_Resource?SWUDNSAI=31&xinfo=5-12345-0" frameborder=0 width="100%"
height="100%">Request unsuccessful. Incapsula incident ID: 1234000560123456789-98765432101234567</iframe>
</body></html>
"""
OTHER_SITE_PAGE = b"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Un autre site</title>
<script src="/app.js"></script></head><body><h1>Un autre site</h1><p>Une page qui n'est pas de la Gazette.</p>
<img src="/photo.png" alt="photo"></body></html>
"""


def png() -> bytes:
    """A valid 1x1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


Route = tuple[int, list[tuple[str, str]], bytes]


def routes() -> dict[tuple[str, str], Route]:
    """What the server answers, by (host, path)."""
    host = urlsplit(SITE).hostname or ""
    table: dict[tuple[str, str], Route] = {
        (host, "/robots.txt"): (200, [("Content-Type", "text/plain")], b"User-agent: *\nDisallow: /wp-admin/\n"),
        (host, LOGO): (200, [("Content-Type", "image/png")], png()),
        ("www.example.org", "/autre-site/"): (200, [("Content-Type", "text/html; charset=utf-8")], OTHER_SITE_PAGE),
        ("www.example.org", "/app.js"): (200, [("Content-Type", "text/javascript")], b"document.title += ' !';\n"),
        ("www.example.org", "/photo.png"): (200, [("Content-Type", "image/png")], png()),
        ("evil.example", "/554402/pwned/"): (200, [("Content-Type", "text/html; charset=UTF-8")], (
            SAMPLES / "article-free-2018.html").read_bytes().replace(b"La t\xc3\xa9l\xc3\xa9gestion", b"Pwned")),
        (host, urlsplit(CHALLENGE).path): (403, [("Content-Type", "text/html; charset=UTF-8"),
                                                 ("cf-mitigated", "challenge"), ("Server", "cloudflare"),
                                                 ("cf-ray", "8f3a2b1c4d5e6f70-CDG")], CHALLENGE_PAGE),
        (host, urlsplit(INTERSTITIAL).path): (200, [("Content-Type", "text/html"),
                                                    ("X-CDN", "Imperva")], INTERSTITIAL_PAGE),
    }
    for name, entry in MANIFEST.items():
        parts = urlsplit(entry["url"])
        table.setdefault((parts.hostname or "", parts.path), (200, [("Content-Type", entry["content_type"])],
                                                              (SAMPLES / name).read_bytes()))
    return table


@contextmanager
def serve(table: dict[tuple[str, str], Route]) -> Iterator[str]:
    """A server on 127.0.0.1 that answers by Host header and path (a proxy's absolute URLs included)."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            host = (parts.hostname or self.headers.get("Host", "")).split(":")[0]
            status, headers, body = table.get((host, parts.path),
                                              (404, [("Content-Type", "text/html")], b"<h1>Not found</h1>"))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chromium() -> str:
    found = next((path for name in ("chromium-headless-shell", "chromium", "chromium-browser")
                  if (path := shutil.which(name))), None)
    if found is None:
        sys.exit("no system Chromium: apt-get install chromium-headless-shell")
    return found


def browse(server: str, out: Path) -> None:
    """Record the HAR and MHTML files with Chromium, every host resolved to `server`."""
    from playwright.sync_api import sync_playwright

    flags = [*CHROMIUM_FLAGS, f"--host-resolver-rules=MAP * {server}"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=flags)
        record_har(browser, out / "browser.har", [MANIFEST[name]["url"] for name in HAR_SAMPLES])
        record_har(browser, out / "mixed.har", [MANIFEST[MIXED_SAMPLE]["url"], OTHER_SITE, EVIL, CHALLENGE,
                                                INTERSTITIAL])
        context = browser.new_context()
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        for name, file_name in MHTML_SAMPLES.items():
            page.goto(MANIFEST[name]["url"], wait_until="load")
            snapshot = cdp.send("Page.captureSnapshot", {"format": "mhtml"})["data"]
            (out / file_name).write_bytes(snapshot.encode("utf-8"))
        browser.close()


def record_har(browser: Any, path: Path, urls: list[str]) -> None:
    """Visit `urls` in a fresh context that records a HAR with the bodies embedded (written when it closes)."""
    context = browser.new_context(record_har_path=str(path), record_har_content="embed")
    page = context.new_page()
    for url in urls:
        page.goto(url, wait_until="load")
    context.close()


def make_wacz(server: str, out: Path, wacz: str) -> None:
    """Fetch pages with `scrape url` into two archives, export each as a WARC, pack both into site.wacz."""
    env = {**os.environ, "HTTP_PROXY": f"http://{server}", "http_proxy": f"http://{server}", "NO_PROXY": ""}
    with tempfile.TemporaryDirectory() as work:
        warcs = []
        for number, names in enumerate(WACZ_SAMPLES, 1):
            db, warc = Path(work) / f"part{number}.db", Path(work) / f"part{number}.warc.gz"
            urls = [MANIFEST[name]["url"] for name in names]
            scrape(env, "url", *urls, "--db", str(db), "--delay", "0")
            scrape(env, "export", "--db", str(db), "--format", "warc", "--output", str(warc))
            warcs.append(str(warc))
        pages = Path(work) / "pages.jsonl"
        lines = [{"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}]
        lines += [{"url": MANIFEST[name]["url"], "title": name} for names in WACZ_SAMPLES for name in names]
        pages.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        subprocess.run([wacz, "create", "-o", str(out / "site.wacz"), "-p", str(pages), *warcs], check=True, cwd=work)


def make_singlefile(server: str, out: Path, single_file: str) -> None:
    """Save one page with SingleFile's command line. It may exit with an error while it closes the browser
    (single-file-cli 2.0.83 on Node 20: "CloseEvent is not defined") after writing the page: the page counts
    when its file holds SingleFile's opening comment. Given an absolute output path, that version leaves the file
    empty: it is run in the output folder with the file's name."""
    target = out / "article-free.singlefile.html"
    target.unlink(missing_ok=True)
    flags = json.dumps(["--no-sandbox", f"--host-resolver-rules=MAP * {server}"])
    command = [single_file, MANIFEST[SINGLEFILE_SAMPLE]["url"], target.name,  # an absolute path: left empty
               f"--browser-executable-path={chromium()}", f"--browser-args={flags}"]
    process = subprocess.Popen(command, cwd=out, start_new_session=True)
    try:
        process.wait(timeout=120)
    finally:  # its crash leaves the browser it started running: the whole process group it made is ended
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    if not target.exists() or b"Page saved with SingleFile" not in target.read_bytes()[:500]:
        sys.exit(f"single-file did not save {target.name}")


def scrape(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "scraper", *args], check=True, env=env, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wacz", default=shutil.which("wacz"), help="the wacz command (pip install wacz)")
    parser.add_argument("--single-file", default=shutil.which("single-file"),
                        help="SingleFile's command (npm install single-file-cli)")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write the captures")
    options = parser.parse_args()
    with serve(routes()) as server:
        browse(server, options.out)
        if options.wacz:
            make_wacz(server, options.out, options.wacz)
        else:
            print("no wacz command (pip install wacz, then --wacz PATH): site.wacz not made", file=sys.stderr)
        if options.single_file:
            make_singlefile(server, options.out, options.single_file)
        else:
            print("no single-file command (npm install single-file-cli, then --single-file PATH): "
                  "article-free.singlefile.html not made", file=sys.stderr)


if __name__ == "__main__":
    main()
