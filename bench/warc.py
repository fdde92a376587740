"""WARC files: writing them (FastWARC's writer, for tests and this benchmark) and the WARC source's throughput.

    .venv/bin/python -m bench.warc --articles 1000            # reader, bare extract+NLP, newsdesk from the WARC
    .venv/bin/python -m bench.warc --memory 100,400           # peak memory of newsdesk on WARCs of 100 and 400 MB

The corpus is bench/corpus.py's (the benchmark's pages, each copy varied), written as
one `.warc.gz` of `response` records (gzip per record, as Common Crawl writes them).
Figures: records per second of the bare FastWARC reader (and warcio, the other
candidate); bare `trafilatura.extract` + `nlp.pipe` over the same bodies in a pool of
`--workers` processes; `newsdesk run --warc` end to end (the CLI in a subprocess,
against a Prefect server the harness starts, so Prefect's start-up is not counted
twice), as documents per second of its pipeline time; and, with `--memory`, the
peak resident memory of the whole process tree for two WARC sizes.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATE = "2024-05-01T10:00:00Z"


@dataclass(frozen=True)
class Capture:
    """One record to write: a `response` (HTTP headers + body), `resource`, `revisit`, `request` ..."""

    url: str
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    kind: str = "response"
    status: int = 200
    date: str = DATE
    headers: tuple[tuple[str, str], ...] = ()  # extra WARC headers (WARC-Truncated, ...)
    http_headers: tuple[tuple[str, str], ...] = ()


def http_block(capture: Capture) -> bytes:
    lines = [f"HTTP/1.1 {capture.status} {'OK' if capture.status == 200 else 'Status'}"]
    if capture.content_type:
        lines.append(f"Content-Type: {capture.content_type}")
    lines += [f"{k}: {v}" for k, v in capture.http_headers]
    lines.append(f"Content-Length: {len(capture.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + capture.body


def record_bytes(capture: Capture, gzip: bool = True) -> bytes:
    """One WARC record, written by FastWARC (a gzip member of its own when `gzip`)."""
    from fastwarc.stream_io import GzipWriter
    from fastwarc.warc import WarcRecord, WarcRecordType

    record = WarcRecord()
    record.init_headers(getattr(WarcRecordType, capture.kind), str(uuid.uuid4()).encode())
    record.headers.set("WARC-Date", capture.date)
    record.headers.set("WARC-Target-URI", capture.url)
    if capture.kind in ("response", "revisit", "request"):
        record.headers.set("Content-Type", f"application/http; msgtype={'request' if capture.kind == 'request' else 'response'}")
        block = http_block(capture) if capture.kind != "request" else f"GET {capture.url} HTTP/1.1\r\n\r\n".encode()
    else:
        record.headers.set("Content-Type", capture.content_type or "application/octet-stream")
        block = capture.body
    if capture.kind == "revisit":
        record.headers.set("WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")
        block = http_block(Capture(capture.url, b"", capture.content_type))
    for name, value in capture.headers:
        record.headers.set(name, value)
    record.set_bytes_content(block)
    out = io.BytesIO()
    if gzip:
        writer = GzipWriter(out)
        record.write(writer)
        writer.finish()
    else:
        record.write(out)
    return out.getvalue()


def write_warc(path: Path, captures: Iterable[Capture], gzip: bool | None = None) -> list[int]:
    """Write the captures as a WARC (gzip per record for `.gz` names); the offset of each record."""
    gzip = path.name.endswith(".gz") if gzip is None else gzip
    offsets = []
    with path.open("wb") as out:
        for capture in captures:
            offsets.append(out.tell())
            out.write(record_bytes(capture, gzip))
    return offsets


def corpus_captures(count: int, base: str = "https://news.example.org") -> Iterator[Capture]:
    from bench.corpus import corpus_page, page_path, read_source_pages

    pages = read_source_pages()
    for number in range(count):
        yield Capture(base + page_path(number), corpus_page(pages, number))


def bench_readers(path: Path) -> dict[str, float]:
    """Records per second of each candidate reader, reading every response payload (best of 3)."""
    from fastwarc.warc import ArchiveIterator as FastIterator

    def fastwarc() -> int:
        with path.open("rb") as f:
            return sum(1 for r in FastIterator(f, parse_http=False) if r.reader.read() is not None)

    def warcio() -> int:
        from warcio.archiveiterator import ArchiveIterator  # a candidate measured, not a dependency

        with path.open("rb") as f:
            return sum(1 for r in ArchiveIterator(f) if r.content_stream().read() is not None)

    def newsdesk() -> int:
        from flows.warc import WarcFile, WarcOptions, read_warc_batch

        file, offset, n = WarcFile(str(path), "bench"), 0, 0
        while True:
            batch = read_warc_batch(file, offset, 64, WarcOptions())
            n += len(batch.documents)
            if batch.next_offset is None:
                return n
            offset = batch.next_offset

    figures = {}
    for name, reader in (("fastwarc", fastwarc), ("warcio", warcio), ("newsdesk reader", newsdesk)):
        try:
            best = min(_timed(reader)[0] for _ in range(3))
        except ImportError:
            continue
        figures[name] = _timed(reader)[1] / best
    return figures


def _timed(call: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = call()
    return time.perf_counter() - start, value


def bare_extract_nlp(path: Path, workers: int) -> float:
    """Documents per second of bare trafilatura + spaCy over the WARC's bodies (bench.pipeline's bare pool)."""
    from bench.pipeline import bare_end_to_end
    from fastwarc.warc import ArchiveIterator

    with path.open("rb") as f:
        bodies = [r.reader.read().partition(b"\r\n\r\n")[2] for r in ArchiveIterator(f, parse_http=False)]
    return len(bodies) / bare_end_to_end(bodies, workers)


@dataclass
class Run:
    wall_s: float
    pipeline_s: float
    peak_rss: int
    articles: int
    out: str = field(repr=False, default="")


def newsdesk_warc(path: Path, work: Path, workers: int, env: dict[str, str], extra: tuple[str, ...] = ()) -> Run:
    """`newsdesk run --warc` in a subprocess; its flow run's own duration and the tree's peak memory."""
    from bench.pipeline import _tree_rss

    import duckdb
    import psutil

    warehouse = work / "w.duckdb"
    args = [sys.executable, "-m", "flows.cli", "run", "--no-seeds", "--warc", str(path), "--warehouse", str(warehouse),
            "--lake", str(work / "lake"), "--workers", str(workers), *extra]
    start = time.perf_counter()
    process = psutil.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    out = process.stdout.read() if process.stdout else ""
    if process.returncode not in (0, 1):
        raise RuntimeError(f"newsdesk run failed ({process.returncode}):\n{out[-3000:]}")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        started, finished = con.execute("SELECT started_at, finished_at FROM runs").fetchone()  # type: ignore[misc]
        articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    return Run(wall, (finished - started).total_seconds(), peak, int(articles), out)


def build(path: Path, count: int) -> Path:
    if not path.exists():
        partial = path.with_name(path.name + ".partial")
        write_warc(partial, corpus_captures(count), gzip=path.name.endswith(".gz"))
        partial.rename(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory", help="WARC sizes in MB (uncompressed .warc), e.g. 100,1000")
    parser.add_argument("--memory-allow", default=r"story-\d{4}00\.html$",
                        help="URL regex of the records processed in the memory runs (default: 1 in 100)")
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--work", type=Path, help="keep the WARCs and warehouses here")
    args = parser.parse_args(argv)
    from bench.pipeline import prefect_api

    work = args.work or Path(tempfile.mkdtemp(prefix="newsdesk-bench-warc-"))
    work.mkdir(parents=True, exist_ok=True)
    warc = build(work / f"corpus-{args.articles}.warc.gz", args.articles)
    print(f"WARC: {args.articles} response records, {warc.stat().st_size / 1e6:.1f} MB gzipped", flush=True)
    for name, rate in bench_readers(warc).items():
        print(f"reader {name:<16} {rate:8.0f} records/s", flush=True)
    with prefect_api(work, "server") as (env, _):
        if not args.skip_e2e:
            bare = bare_extract_nlp(warc, args.workers)
            print(f"bare extract+NLP ({args.workers} workers)  {bare:6.2f} documents/s", flush=True)
            run = newsdesk_warc(warc, work / "e2e", args.workers, env)
            rate = args.articles / run.pipeline_s
            print(f"newsdesk --warc end to end   {rate:6.2f} documents/s (flow run {run.pipeline_s:.1f} s, wall "
                  f"{run.wall_s:.1f} s, {run.articles} articles): {rate / bare:.3f} of bare", flush=True)
        if args.memory:
            sizes = [int(s) for s in args.memory.split(",")]
            sample = build(work / "corpus-100.warc", 100)
            per_record = sample.stat().st_size / 100
            peaks = []
            for size in sizes:
                count = int(size * 1e6 / per_record)
                big = build(work / f"corpus-{count}.warc", count)
                shutil.rmtree(work / f"mem-{size}", ignore_errors=True)  # a fresh warehouse: nothing skipped
                run = newsdesk_warc(big, work / f"mem-{size}", args.workers, env, ("--warc-allow", args.memory_allow))
                peaks.append(run.peak_rss)
                print(f"peak memory, {big.stat().st_size / 1e6:.0f} MB WARC ({count} records, {run.articles} "
                      f"processed): {run.peak_rss / 1e6:.0f} MB (flow run {run.pipeline_s:.0f} s)", flush=True)
            print(f"peak memory ratio, largest / smallest: {peaks[-1] / peaks[0]:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    sys.exit(main())
