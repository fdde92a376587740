"""Score HTML extraction on a labelled benchmark folder, next to bare trafilatura.

Two layouts are understood:
- the Scrapinghub article-extraction-benchmark (`ground-truth.json` + `html/<id>.html.gz`):
  body F1 on multisets of 4-token shingles, macro-averaged precision and recall (the
  upstream `evaluate.py`);
- trafilatura's evaluation set (`evaldata.json` + `html/<file>.gz`): "with" segments that
  must appear and "without" segments that must not, counted over all pages, plus metadata
  accuracy (title, author, date) where the gold has the field.

The body scored is the article text without its headline block. Usage:
    python -m bench.eval_extraction ../shared/data/article-extraction-benchmark [--json] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trafilatura import bare_extraction

from transforms.html import extract_html
from transforms.models import Document

_TOKEN = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Output:
    """What a system produced for one page."""

    body: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    date: str | None = None
    reject: str | None = None


def run_newsdesk(html: bytes, url: str | None, uri: str) -> Output:
    extracted = extract_html(Document(uri=uri, source="url", body=html, media_type="text/html", url=url))
    if extracted.article is None:
        return Output("", reject=extracted.reject.reason if extracted.reject else "unknown")
    article = extracted.article
    body = "\n\n".join(article.text[b.start : b.end] for b in article.blocks if b.kind != "headline")
    return Output(body, article.title, article.authors, article.published_at)


def run_trafilatura(html: bytes, url: str | None, uri: str) -> Output:
    result = bare_extraction(html, url=url, with_metadata=True, include_comments=False, include_tables=True,
                             include_formatting=False)
    if result is None or isinstance(result, dict):
        return Output("")
    authors = tuple(a.strip() for a in (result.author or "").split(";") if a.strip())
    return Output(result.text or "", result.title, authors, result.date)


SYSTEMS: dict[str, Callable[[bytes, str | None, str], Output]] = {
    "newsdesk": run_newsdesk,
    "trafilatura": run_trafilatura,
}


# --- Scrapinghub metric -------------------------------------------------------------
def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    n = min(n, len(tokens))
    if n == 0:
        return Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def shingle_match(gold: str, predicted: str) -> tuple[float, float, float]:
    """Per-page (TP, FP, FN), normalised so that they sum to 1."""
    true, pred = _shingles(gold), _shingles(predicted)
    tp = fp = fn = 0
    for key in set(true) | set(pred):
        t, p = true.get(key, 0), pred.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def shingle_scores(pairs: list[tuple[str, str]]) -> dict[str, float]:
    precisions: list[float] = []
    recalls: list[float] = []
    exact = 0
    for gold, predicted in pairs:
        tp, fp, fn = shingle_match(gold, predicted)
        if fp == fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
        else:
            if tp + fp > 0:
                precisions.append(tp / (tp + fp))
            if tp + fn > 0:
                recalls.append(tp / (tp + fn))
        exact += _TOKEN.findall(gold) == _TOKEN.findall(predicted)
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "precision": p, "recall": r,
            "accuracy": exact / len(pairs) if pairs else 0.0}


# --- trafilatura evaluation metric ----------------------------------------------------
def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def segment_counts(body: str, with_: list[str], without: list[str]) -> tuple[int, int, int, int]:
    """(TP, FN, FP, TN) for one page."""
    text = _norm(body)
    found = [_norm(s) in text for s in with_]
    leaked = [_norm(s) in text for s in without]
    return sum(found), len(found) - sum(found), sum(leaked), len(leaked) - sum(leaked)


def _names(value: Any) -> frozenset[str]:
    items = value if isinstance(value, (list, tuple)) else [value or ""]
    names = set()
    for item in items:
        for name in re.split(r"\s*(?:;|,|\band\b|&)\s*", str(item)):
            if name := _norm(name).lower().strip(" ."):
                names.add(name)
    return frozenset(names)


def metadata_match(field: str, gold: Any, output: Output) -> bool:
    if field == "title":
        return _norm(str(gold)).lower() == _norm(output.title or "").lower()
    if field == "author":  # the whole byline, as one string, or name by name
        joined = [_norm(sep.join(output.authors)).lower() for sep in ("; ", ", ")]
        gold_text = _norm("; ".join(gold) if isinstance(gold, list) else str(gold)).lower()
        return gold_text in joined or _names(gold) == _names(output.authors)
    return str(gold)[:10] == (output.date or "")[:10]


# --- datasets -----------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    key: str
    path: Path
    url: str | None
    gold: dict[str, Any]


def _pages(directory: Path) -> tuple[str, list[Page]]:
    if (directory / "ground-truth.json").exists():
        truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
        return "scrapinghub", [Page(k, directory / "html" / f"{k}.html.gz", v.get("url"), v) for k, v in sorted(truth.items())]
    if (directory / "evaldata.json").exists():
        truth = json.loads((directory / "evaldata.json").read_text(encoding="utf-8"))
        pages = []
        for key, value in sorted(truth.items()):
            path = directory / "html" / f"{value['file']}.gz"
            if not path.exists():
                path = directory / "html" / value["file"]
            pages.append(Page(key, path, key if key.startswith("http") else None, value))
        return "trafilatura-eval", pages
    raise FileNotFoundError(f"{directory} has neither ground-truth.json nor evaldata.json")


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def evaluate_extraction(directory: Path, limit: int | None = None) -> dict[str, Any]:
    """Scores of newsdesk's `extract_html` and of bare trafilatura on one benchmark folder."""
    kind, pages = _pages(Path(directory))
    pages = pages[:limit] if limit is not None else pages
    result: dict[str, Any] = {"dataset": kind, "directory": str(directory), "pages": len(pages), "systems": {}}
    for name, system in SYSTEMS.items():
        outputs: dict[str, Output] = {}
        started = time.perf_counter()
        for page in pages:
            try:
                outputs[page.key] = system(_read(page.path), page.url, page.key)
            except Exception as err:  # a crash counts as extracting nothing
                outputs[page.key] = Output("", reject=f"crash: {type(err).__name__}")
        scores: dict[str, Any] = {"seconds": round(time.perf_counter() - started, 2)}
        if kind == "scrapinghub":
            scores["body"] = shingle_scores([(p.gold["articleBody"], outputs[p.key].body) for p in pages])
        else:
            tp = fn = fp = tn = 0
            for page in pages:
                a, b, c, d = segment_counts(outputs[page.key].body, page.gold.get("with", []), page.gold.get("without", []))
                tp, fn, fp, tn = tp + a, fn + b, fp + c, tn + d
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            scores["body"] = {"f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0, "precision": precision,
                              "recall": recall, "accuracy": (tp + tn) / (tp + fn + fp + tn) if tp + fn + fp + tn else 0.0}
            scores["metadata"] = {}
            for field in ("title", "author", "date"):
                judged = [p for p in pages if p.gold.get(field)]  # an empty gold value is no gold
                hits = [p.key for p in judged if metadata_match(field, p.gold[field], outputs[p.key])]
                scores["metadata"][field] = {"accuracy": len(hits) / len(judged) if judged else 0.0, "pages": len(judged)}
        rejects = Counter(o.reject for o in outputs.values() if o.reject)
        scores["rejects"] = dict(rejects)
        result["systems"][name] = scores
    return result


def render_extraction(result: dict[str, Any]) -> str:
    """A small text table of `evaluate_extraction`'s result."""
    lines = [f"{result['dataset']}: {result['pages']} pages from {result['directory']}",
             f"{'system':<12} {'F1':>6} {'prec':>6} {'recall':>6} {'acc':>6} {'title':>6} {'author':>6} {'date':>6} {'secs':>7}  rejects"]
    for name, scores in result["systems"].items():
        body = scores["body"]
        meta = scores.get("metadata", {})
        cells = [f"{meta[f]['accuracy']:>6.3f}" if f in meta else f"{'-':>6}" for f in ("title", "author", "date")]
        rejects = ", ".join(f"{k}={v}" for k, v in sorted(scores["rejects"].items())) or "-"
        lines.append(f"{name:<12} {body['f1']:>6.3f} {body['precision']:>6.3f} {body['recall']:>6.3f} "
                     f"{body['accuracy']:>6.3f} {' '.join(cells)} {scores['seconds']:>7.1f}  {rejects}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score HTML extraction against a labelled benchmark folder.",
                                     epilog="example: python -m bench.eval_extraction ../shared/data/trafilatura-eval-en --json")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages")
    args = parser.parse_args(argv)
    try:
        result = evaluate_extraction(args.directory, args.limit)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else render_extraction(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
