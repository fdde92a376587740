"""Fetch throughput: newsdesk's `fetch_batch` against a bare `httpx.AsyncClient` loop.

Starts a bounded threaded HTTP server on 127.0.0.1 serving real pages (each URL a
distinct body, so the raw store really writes every one), fetches N pages with
both at the same concurrency, and prints pages/s and the ratio. newsdesk does
more per page (robots.txt, address checks, streaming limits, charset sniffing,
raw store writes); it must keep >= 0.75 of the bare throughput.

    .venv/bin/python -m bench.fetch --pages 2000 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from flows.fetch import FetchOptions, fetch_batch
from transforms.models import WorkItem

PAGES = sorted((Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "web").glob("*.html"))
FLOOR = 0.75
WATCHDOG_S = 600.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pages: list[bytes] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        else:
            number = int(self.path.rsplit("/", 1)[-1] or 0)
            page = self.pages[number % len(self.pages)]
            body, ctype = page + f"\n<!-- page {number} -->\n".encode(), "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def _serve(ready: multiprocessing.Queue[int]) -> None:
    """The threaded server; it shuts itself down after WATCHDOG_S seconds at the latest."""
    _Handler.pages = [p.read_bytes() for p in PAGES]
    server = _Server(("127.0.0.1", 0), _Handler)
    watchdog = threading.Timer(WATCHDOG_S, server.shutdown)
    watchdog.daemon = True
    watchdog.start()
    ready.put(server.server_address[1])
    server.serve_forever()
    server.server_close()


def _bare(urls: list[str], concurrency: int) -> float:
    async def run() -> float:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        semaphore = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(limits=limits, http2=True, timeout=20.0) as client:

            async def one(url: str) -> int:
                async with semaphore:
                    response = await client.get(url)
                    return len(response.content)

            start = time.perf_counter()
            sizes = await asyncio.gather(*(one(u) for u in urls))
            elapsed = time.perf_counter() - start
        assert all(sizes)
        return len(urls) / elapsed

    return asyncio.run(run())


def _newsdesk(urls: list[str], concurrency: int) -> float:
    options = FetchOptions(
        concurrency=concurrency,
        per_host_concurrency=concurrency,
        per_host_delay_s=0.0,
        allowed_networks=("127.0.0.1/32",),
        timeout_s=20.0,
    )
    items = [WorkItem(u, "bench", "urls", datetime(2024, 1, 1, tzinfo=UTC)) for u in urls]
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as root:
        start = time.perf_counter()
        batch = fetch_batch(items, options, Path(root))
        elapsed = time.perf_counter() - start
    if len(batch.documents) != len(urls):
        raise SystemExit(f"newsdesk fetched {len(batch.documents)} of {len(urls)} pages: {batch.rejects[:3]}")
    return len(urls) / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best of each side counts")
    args = parser.parse_args(argv)
    ready: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ready,), daemon=True)  # own GIL: the server does not slow the client
    server.start()
    try:
        base = f"http://127.0.0.1:{ready.get(timeout=30)}"
        urls = [f"{base}/article/{n}" for n in range(args.pages)]
        bare, ours = 0.0, 0.0
        for _ in range(args.rounds):
            bare = max(bare, _bare(urls, args.concurrency))
            ours = max(ours, _newsdesk(urls, args.concurrency))
    finally:
        server.terminate()
        server.join(5)
    ratio = ours / bare
    sys.stdout.write(
        f"pages={args.pages} concurrency={args.concurrency} bare_httpx={bare:.0f} pages/s "
        f"newsdesk={ours:.0f} pages/s ratio={ratio:.2f} (floor {FLOOR})\n"
    )
    return 0 if ratio >= FLOOR else 1


if __name__ == "__main__":
    raise SystemExit(main())
