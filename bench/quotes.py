"""The quote stage's throughput next to the spaCy parse.

    python -m bench.quotes                       # throughput: quotes articles/s vs nlp.pipe

(The seed's golden quotes are tests/golden/seed_quotes.json, written by `python -m tests.golden.regenerate`.)
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from typing import Any

from spacy.language import Language

from bench.seed import MODEL, REPO, read_seed_article
from transforms.entities import extract_entities
from transforms.models import Article
from transforms.quotes import extract_quotes

POLNEAR_DEV = REPO.parent / "shared" / "data" / "polnear" / "dev.jsonl.gz"


def _bench_articles(count: int) -> list[Article]:
    base = [read_seed_article()]
    if POLNEAR_DEV.exists():
        with gzip.open(POLNEAR_DEV, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                base.append(Article(row["doc_id"], "", row["doc_id"], "bench", row["text"]))
    return [base[i % len(base)] for i in range(count)]


def measure_throughput(nlp: Language, count: int = 200) -> dict[str, float]:
    """Articles per second of the quote stage alone and of the parse it needs."""
    articles = _bench_articles(count)
    started = time.perf_counter()
    docs = list(nlp.pipe([a.text for a in articles], batch_size=16))
    parse_seconds = time.perf_counter() - started
    mentions = [extract_entities([d], [a])[0] for d, a in zip(docs, articles)]
    started = time.perf_counter()
    quotes = sum(len(extract_quotes(d, a, m)) for d, a, m in zip(docs, articles, mentions))
    quote_seconds = time.perf_counter() - started
    return {
        "articles": float(len(articles)),
        "quotes": float(quotes),
        "parse_articles_per_s": len(articles) / parse_seconds,
        "quotes_articles_per_s": len(articles) / quote_seconds,
        "quote_stage_cost_vs_parse": quote_seconds / parse_seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quotes", description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=200, help="articles to time (default 200)")
    parser.add_argument("--model", default=MODEL)
    args = parser.parse_args(argv)
    import spacy

    nlp = spacy.load(args.model)
    result = measure_throughput(nlp, args.articles)
    print(
        f"{int(result['articles'])} articles, {int(result['quotes'])} quotes: "
        f"spaCy parse {result['parse_articles_per_s']:.1f} articles/s, "
        f"quote stage {result['quotes_articles_per_s']:.1f} articles/s; "
        f"the quote stage costs {result['quote_stage_cost_vs_parse']:.1%} of the parse time"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
