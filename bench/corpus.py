"""A reproducible benchmark corpus of real article pages, and a local server for it.

The pages are the Scrapinghub article-extraction benchmark's HTML files (read
from ../shared/data at run time, never copied). Copy `n` of the corpus is page
`n % len(pages)` under its own path (`/news/<section>/<yyyy>/<mm>/<slug>-<n>.html`)
with one sentence appended to its longest paragraph, so neither the raw-bytes
hash nor the extracted text's content hash collapses the copies. The same
number always gives the same bytes.

`serve_corpus` runs a threaded HTTP/1.1 server in its own process on 127.0.0.1:
`/robots.txt`, `/sitemap.xml` (all pages), `/sitemap-<k>.xml` (the first k),
`/urls.txt` and the pages, each with an ETag and a Last-Modified header and a
304 answer to a matching conditional GET. It stops by itself after `lifetime_s`.

    with serve_corpus(1000) as server:
        print(server.sitemap_url)
"""

from __future__ import annotations

import gzip
import hashlib
import multiprocessing
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "article-extraction-benchmark" / "html"
SECTIONS = ("world", "politics", "business", "science", "culture", "sport")
LAST_MODIFIED = formatdate(1_717_200_000, usegmt=True)  # fixed: the corpus never changes between runs
LIFETIME_S = 3600.0
_PARAGRAPH = re.compile(rb"<p[\s>].*?</p>", re.DOTALL | re.IGNORECASE)
_CANONICAL = re.compile(rb"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>|<meta\b[^>]*\bproperty\s*=\s*[\"']?og:url\b[^>]*>",
                        re.IGNORECASE)
_HEAD = re.compile(rb"<head\b[^>]*>", re.IGNORECASE)


def read_source_pages(source: Path = SOURCE) -> list[bytes]:
    """The benchmark's pages (decompressed), in file-name order; an error saying where when absent."""
    paths = sorted(source.glob("*.html.gz"))
    if not paths:
        raise FileNotFoundError(f"no *.html.gz pages in {source}: the benchmark corpus is built from "
                                f"../shared/data/article-extraction-benchmark (evaluation data, never copied)")
    return [gzip.decompress(p.read_bytes()) for p in paths]


def page_path(number: int) -> str:
    """The URL path of corpus copy `number` (distinct, query-free, news-like)."""
    section = SECTIONS[number % len(SECTIONS)]
    year, month = 2020 + number % 5, 1 + number % 12
    return f"/news/{section}/{year}/{month:02d}/story-{number:06d}.html"


def page_number(path: str) -> int | None:
    match = re.fullmatch(r"/news/[a-z]+/\d{4}/\d{2}/story-(\d{6})\.html", path)
    return int(match.group(1)) if match else None


def vary_page(page: bytes, number: int) -> bytes:
    """Copy `number` of a page: its own canonical URL, one sentence appended to its longest paragraph.

    The canonical URL decides the article id and the sentence lands in the
    extracted text, so neither the id, the raw hash nor the content hash
    collapses two copies of the same page.
    """
    line = f" Filed as benchmark copy {number} from desk {number % 97}.".encode()
    longest = max(_PARAGRAPH.finditer(page), key=lambda m: m.end() - m.start(), default=None)
    if longest is None:
        page = page + b"<p>" + line + b"</p>"
    else:
        at = longest.end() - len(b"</p>")
        page = page[:at] + line + page[at:]
    page = _CANONICAL.sub(b"", page)
    canonical = f'<link rel="canonical" href="{page_path(number)}">'.encode()
    head = _HEAD.search(page)
    at = head.end() if head else 0
    return page[:at] + canonical + page[at:]


def corpus_page(pages: list[bytes], number: int) -> bytes:
    return vary_page(pages[number % len(pages)], number)


def corpus_urls(base: str, count: int) -> list[str]:
    return [f"{base}{page_path(n)}" for n in range(count)]


def sitemap(base: str, count: int) -> bytes:
    entries = "".join(f"<url><loc>{url}</loc><lastmod>2024-06-01</lastmod></url>" for url in corpus_urls(base, count))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n').encode()


def etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pages: list[bytes] = []
    count = 0
    base = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path.split("?", 1)[0]
        number = page_number(path)
        sized = re.fullmatch(r"/sitemap-(\d+)\.xml", path)
        if path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        elif path == "/sitemap.xml" or sized:
            body, ctype = sitemap(self.base, int(sized.group(1)) if sized else self.count), "application/xml"
        elif path == "/urls.txt":
            body, ctype = "\n".join(corpus_urls(self.base, self.count)).encode() + b"\n", "text/plain"
        elif number is not None and number < self.count:
            body, ctype = corpus_page(self.pages, number), "text/html; charset=utf-8"
        else:
            self._send(404, b"not found", "text/plain")
            return
        tag = etag(body)
        if self.headers.get("If-None-Match") == tag or (
            self.headers.get("If-None-Match") is None and self.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            self._send(304, b"", ctype, tag)
            return
        self._send(200, body, ctype, tag)

    def _send(self, status: int, body: bytes, ctype: str, tag: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if tag:
            self.send_header("ETag", tag)
            self.send_header("Last-Modified", LAST_MODIFIED)
        self.send_header("Content-Length", str(len(body)) if status != 304 else "0")
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def _serve(count: int, source: str, lifetime_s: float, ready: Any) -> None:
    """The server process: it shuts itself down after `lifetime_s` at the latest."""
    _Handler.pages = read_source_pages(Path(source))
    _Handler.count = count
    server = _Server(("127.0.0.1", 0), _Handler)
    _Handler.base = f"http://127.0.0.1:{server.server_address[1]}"
    watchdog = threading.Timer(lifetime_s, server.shutdown)
    watchdog.daemon = True
    watchdog.start()
    ready.put(server.server_address[1])
    server.serve_forever()
    server.server_close()


@dataclass(frozen=True)
class CorpusServer:
    base: str
    count: int
    pid: int

    @property
    def sitemap_url(self) -> str:
        return f"{self.base}/sitemap.xml"

    def sized_sitemap_url(self, count: int) -> str:
        return f"{self.base}/sitemap-{count}.xml"

    @property
    def urls(self) -> list[str]:
        return corpus_urls(self.base, self.count)


def _wait_for_port(ready: Any, process: Any, timeout_s: float = 60.0) -> int:
    import queue
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            return int(ready.get(timeout=0.5))
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(f"the corpus server exited with code {process.exitcode} before it was ready") from None
    raise RuntimeError(f"the corpus server was not ready within {timeout_s:.0f} s")


@contextmanager
def serve_corpus(count: int, source: Path = SOURCE, lifetime_s: float = LIFETIME_S) -> Iterator[CorpusServer]:
    """Serve `count` corpus pages from a child process on 127.0.0.1 (stopped on exit, or by itself)."""
    read_source_pages(source)  # fail here, with the message, rather than in the child
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    process = context.Process(target=_serve, args=(count, str(source), lifetime_s, ready), daemon=True)
    process.start()
    try:
        port = _wait_for_port(ready, process)
        yield CorpusServer(f"http://127.0.0.1:{port}", count, process.pid or 0)
    finally:
        process.terminate()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
