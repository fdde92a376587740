"""The quote stage: seed golden file and throughput next to the spaCy parse.

    python -m bench.quotes                       # throughput: quotes articles/s vs nlp.pipe
    python -m bench.quotes --regenerate-golden   # rewrite tests/golden/seed_quotes.json

The golden file holds the seed article's quotes (kind, text, cue, speaker and
the speaker's canonical entity name); regenerate it only after checking the
difference by eye (a new spaCy model or a deliberate rule change).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path
from typing import Any

from spacy.language import Language

from bench.seed import MODEL, REPO, read_seed_article
from transforms.entities import extract_entities
from transforms.models import Article
from transforms.quotes import extract_quotes

GOLDEN = REPO / "tests" / "golden" / "seed_quotes.json"
POLNEAR_DEV = REPO.parent / "shared" / "data" / "polnear" / "dev.jsonl.gz"


def quote_records(nlp: Language, article: Article) -> list[dict[str, Any]]:
    """The article's quotes as plain records (what the golden file stores)."""
    doc = nlp(article.text)
    mentions, entities = extract_entities([doc], [article])
    names = {e.entity_id: e.name for e in entities}
    return [
        {
            "kind": q.kind,
            "text": q.text,
            "cue": q.cue,
            "speaker": q.speaker,
            "speaker_canonical": names.get(q.speaker_entity_id) if q.speaker_entity_id else None,
            "method": q.method,
        }
        for q in extract_quotes(doc, article, mentions)
    ]


def write_golden(nlp: Language, path: Path = GOLDEN) -> list[dict[str, Any]]:
    records = quote_records(nlp, read_seed_article())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return records


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
    parser.add_argument("--regenerate-golden", action="store_true", help="rewrite tests/golden/seed_quotes.json")
    parser.add_argument("--articles", type=int, default=200, help="articles to time (default 200)")
    parser.add_argument("--model", default=MODEL)
    args = parser.parse_args(argv)
    import spacy

    nlp = spacy.load(args.model)
    if args.regenerate_golden:
        records = write_golden(nlp)
        print(f"wrote {len(records)} quotes to {GOLDEN}", file=sys.stderr)
        return 0
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
