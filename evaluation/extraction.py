"""Score HTML extraction on a labelled benchmark folder, next to bare trafilatura.

Two layouts are understood:
- the Scrapinghub article-extraction-benchmark (`ground-truth.json` + `html/<id>.html.gz`):
  body F1 on multisets of 4-token shingles, macro-averaged precision and recall (the
  upstream `evaluate.py`);
- trafilatura's evaluation set (`evaldata.json` + `html/<file>.gz`): "with" segments that
  must appear and "without" segments that must not, counted over all pages, plus metadata
  accuracy (title, author, date) where the gold has the field;
- fundus's multilingual parser test data (`manifest.json` + `gold/<id>.json` + `html/<id>.html.gz`):
  body F1 on bags of words (every Han/kana character a word), title exact after Unicode
  normalisation, authors as an exact set, date on the same calendar day, per language
  group and overall (the folder's README gives the rules; `transforms`-free reference code).

The body scored is the article text without its headline block. Usage:
    python -m evaluation.extraction ../shared/data/article-extraction-benchmark [--json] [--limit N]
    newsdesk eval extraction ../shared/data/fundus-multilingual
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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


# --- fundus multilingual metric (the rules of the folder's README) ---------------------
_CJK = "\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f"
_WORD = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])\w)+")  # a Han/kana character alone, else a run of \w
_UNIFY = str.maketrans({**{c: "'" for c in "\u2018\u2019\u201a\u201b\u2032`\u00b4"},
                        **{c: '"' for c in "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033"},
                        **{c: "-" for c in "\u2013\u2014\u2012\u2010\u2011"}, "\u00a0": " "})


def word_bag(text: str | None) -> Counter[str]:
    return Counter(t.lower() for t in _WORD.findall(text or ""))


def word_pr(gold: str, predicted: str) -> tuple[float, float]:
    """Per-page precision and recall of the predicted words (0, 0 for an empty prediction)."""
    g, p = word_bag(gold), word_bag(predicted)
    if not p or not g:
        return 0.0, 0.0
    tp = sum((g & p).values())
    return tp / sum(p.values()), tp / sum(g.values())


def normalise_title(text: str | None) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "").translate(_UNIFY)).strip()


def normalise_author(text: str | None) -> str:
    name = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "").translate(_UNIFY).casefold()).strip()
    return re.sub(r"^by\s+", "", name).strip(" .,;:|-\u2013\u2014'\"()[]")


def authors_match(gold: list[str], predicted: tuple[str, ...]) -> bool:
    return {normalise_author(a) for a in gold} - {""} == {normalise_author(a) for a in predicted} - {""}


def _moment(text: str | None) -> datetime | None:
    value = str(text or "").strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        day = re.match(r"\d{4}-\d{2}-\d{2}", value)
        return datetime.fromisoformat(day.group(0)) if day else None


def same_day(gold: str | None, predicted: str | None) -> bool:
    """The gold's calendar day as written, or the predicted instant seen in the gold's offset."""
    g, p = _moment(gold), _moment(predicted)
    if g is None or p is None:
        return False
    if p.date() == g.date():
        return True
    return bool(p.tzinfo and g.tzinfo) and p.astimezone(g.tzinfo).date() == g.date()


def fundus_groups(pages: list[Page]) -> dict[str, list[Page]]:
    """Overall, German and the rest, then every language: the rows of the fundus table."""
    groups: dict[str, list[Page]] = {"all": pages, "de": [p for p in pages if p.gold.get("language") == "de"]}
    groups["not de"] = [p for p in pages if p.gold.get("language") != "de"]
    by_language = Counter(str(p.gold.get("language")) for p in pages)
    for language, _count in sorted(by_language.items(), key=lambda kv: (-kv[1], kv[0])):
        if language != "de":
            groups[language] = [p for p in pages if p.gold.get("language") == language]
    return {name: group for name, group in groups.items() if group}


def fundus_scores(pages: list[Page], outputs: dict[str, Output]) -> dict[str, Any]:
    """Body P/R/F1 (F1 of the mean P and mean R) and metadata accuracy on one group of pages."""
    pr = [word_pr(p.gold.get("body") or "", outputs[p.key].body) for p in pages]
    precision = sum(x for x, _ in pr) / len(pr) if pr else 0.0
    recall = sum(y for _, y in pr) / len(pr) if pr else 0.0
    per_page = [2 * x * y / (x + y) if x + y else 0.0 for x, y in pr]
    checks: dict[str, tuple[list[Page], Callable[[Page], bool]]] = {
        "title": ([p for p in pages if p.gold.get("title")],
                  lambda p: normalise_title(p.gold["title"]) == normalise_title(outputs[p.key].title)),
        "author": ([p for p in pages if p.gold.get("authors")],
                   lambda p: authors_match(p.gold["authors"], outputs[p.key].authors)),
        "date": ([p for p in pages if p.gold.get("publishing_date")],
                 lambda p: same_day(p.gold["publishing_date"], outputs[p.key].date)),
    }
    metadata = {}
    for field, (judged, hit) in checks.items():
        metadata[field] = {"accuracy": sum(hit(p) for p in judged) / len(judged) if judged else 0.0,
                           "pages": len(judged), "misses": [p.key for p in judged if not hit(p)]}
    return {"pages": len(pages),
            "body": {"f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
                     "precision": precision, "recall": recall,
                     "f1_per_page": sum(per_page) / len(per_page) if per_page else 0.0},
            "metadata": metadata}


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
    if (directory / "gold").is_dir() and (directory / "manifest.json").exists():
        pages = []
        for path in sorted((directory / "gold").glob("*.json")):
            gold = json.loads(path.read_text(encoding="utf-8"))
            pages.append(Page(gold["id"], directory / "html" / f"{gold['id']}.html.gz", gold.get("url"), gold))
        return "fundus", pages
    raise FileNotFoundError(f"{directory} has none of ground-truth.json, evaldata.json or manifest.json + gold/")


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
        if kind == "fundus":
            groups = {name: fundus_scores(group, outputs) for name, group in fundus_groups(pages).items()}
            scores.update(body=groups["all"]["body"], metadata=groups["all"]["metadata"], groups=groups)
        elif kind == "scrapinghub":
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
    if result["dataset"] == "fundus":
        return _render_groups(result)
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


def _render_groups(result: dict[str, Any]) -> str:
    """One row per language group and system: body P/R/F1, title, author and date accuracy."""
    lines = [f"{result['dataset']}: {result['pages']} pages from {result['directory']}",
             f"{'group':<8} {'pages':>5} {'system':<12} {'F1':>6} {'prec':>6} {'recall':>6} {'title':>6} "
             f"{'author':>6} {'date':>6}"]
    systems = result["systems"]
    for group in next(iter(systems.values()))["groups"]:
        for name, scores in systems.items():
            row = scores["groups"][group]
            meta = row["metadata"]
            lines.append(f"{group:<8} {row['pages']:>5} {name:<12} {row['body']['f1']:>6.3f} "
                         f"{row['body']['precision']:>6.3f} {row['body']['recall']:>6.3f} "
                         + " ".join(f"{meta[f]['accuracy']:>6.3f}" if meta[f]["pages"] else f"{'-':>6}"
                                    for f in ("title", "author", "date")))
    for name, scores in systems.items():
        rejects = ", ".join(f"{k}={v}" for k, v in sorted(scores["rejects"].items())) or "-"
        lines.append(f"{name}: {scores['seconds']:.1f} s, rejects: {rejects}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score HTML extraction against a labelled benchmark folder.",
                                     epilog="example: python -m evaluation.extraction ../shared/data/trafilatura-eval-en --json")
    parser.add_argument("directories", type=Path, nargs="+", metavar="directory")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages")
    args = parser.parse_args(argv)
    try:
        results = [evaluate_extraction(directory, args.limit) for directory in args.directories]
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
    else:
        print("\n".join(render_extraction(result) for result in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
