"""Language identification: candidates compared on accuracy and cost, and the chosen one against extraction.

    python -m bench.language [--labelled FILE] [--fundus DIR] [--pages DIR] [--limit N]

1. Accuracy of each installed candidate whose model ships in its package (py3langid, the one used;
   lingua-language-detector and langdetect when installed: `pip install` them into the venv to
   compare; gcld3 needs the protobuf compiler to build and was left out) on the labelled set
   (`tests/fixtures/language/news-8-languages.jsonl`: articles of 500+ characters and titles alone)
   and on the fundus multilingual gold (../shared/data/fundus-multilingual: real bodies and titles
   in 24 languages), with milliseconds per text and the time to load the model.
2. The cost of `identify_language` (the step the extraction stage runs on every article) against
   the extraction itself (`extract_html`), on the same pages in one run, as the stage runs them
   (a pool job extracts EXTRACT_CHUNK pages, then identifies their languages): the share must stay
   under 3%.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation.language import LONG_CHARS, article_text, read_labelled
from flows.analyse import EXTRACT_CHUNK
from transforms.html import extract_html
from transforms.language import detect_language, identify_language, normalise_language
from transforms.models import Document

REPO = Path(__file__).resolve().parent.parent
LABELLED = REPO / "tests" / "fixtures" / "language" / "news-8-languages.jsonl"
FUNDUS = REPO.parent / "shared" / "data" / "fundus-multilingual"
PAGES = REPO.parent / "shared" / "data" / "article-extraction-benchmark" / "html"


def _candidates() -> dict[str, Callable[[], Callable[[str], str | None]]]:
    """name -> a loader returning a classifier (text -> ISO 639-1 or None); only the installed ones."""

    def py3langid() -> Callable[[str], str | None]:
        detect_language("the model loads on the first call")
        return lambda text: detect_language(text).language

    def lingua() -> Callable[[str], str | None]:
        from lingua import LanguageDetectorBuilder

        detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

        def classify(text: str) -> str | None:
            found = detector.detect_language_of(text)
            return normalise_language(found.iso_code_639_1.name) if found else None

        return classify

    def langdetect() -> Callable[[str], str | None]:
        import langdetect as ld

        ld.DetectorFactory.seed = 0

        def classify(text: str) -> str | None:
            try:
                return normalise_language(ld.detect(text))
            except ld.LangDetectException:
                return None

        return classify

    found: dict[str, Callable[[], Callable[[str], str | None]]] = {"py3langid": py3langid}
    for name, loader, module in (("lingua", lingua, "lingua"), ("langdetect", langdetect, "langdetect")):
        try:
            __import__(module)
        except ImportError:
            continue
        found[name] = loader
    return found


def _datasets(labelled: Path, fundus: Path) -> dict[str, list[tuple[str, str]]]:
    """Named lists of (gold language, text)."""
    items = read_labelled(labelled)
    sets = {
        "labelled articles": [(i["language"], article_text(i)) for i in items
                              if len(article_text(i)) >= LONG_CHARS and "title" in i],
        "labelled titles": [(i["language"], i["title"]) for i in items if i.get("title")],
    }
    if (fundus / "gold").is_dir():
        gold = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((fundus / "gold").glob("*.json"))]
        sets["fundus bodies"] = [(normalise_language(g["language"]) or "", g["body"]) for g in gold if g.get("body")]
        sets["fundus titles"] = [(normalise_language(g["language"]) or "", g["title"]) for g in gold if g.get("title")]
    return sets


def compare_candidates(labelled: Path, fundus: Path) -> list[dict[str, Any]]:
    sets = _datasets(labelled, fundus)
    rows = []
    for name, loader in _candidates().items():
        started = time.perf_counter()
        classify = loader()
        row: dict[str, Any] = {"candidate": name, "load_s": round(time.perf_counter() - started, 2)}
        for set_name, texts in sets.items():
            started = time.perf_counter()
            right = sum(1 for gold, text in texts if classify(text) == gold)
            row[set_name] = round(right / max(1, len(texts)), 4)
            row[f"{set_name} ms"] = round(1000 * (time.perf_counter() - started) / max(1, len(texts)), 3)
        rows.append(row)
    return rows


def _pages(pages: Path, fundus: Path, limit: int | None) -> list[tuple[str, bytes]]:
    found = []
    for folder in (pages, fundus / "html"):
        if folder.is_dir():
            for path in sorted(folder.iterdir())[:limit]:
                if path.name.endswith((".html", ".htm", ".gz")):
                    body = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
                    found.append((path.name, body))
    return found


def measure_cost(pages: list[tuple[str, bytes]], rounds: int = 1, chunk: int = EXTRACT_CHUNK) -> dict[str, Any]:
    """Seconds in extract_html and in identify_language over the same pages, as the extraction stage runs
    them: a chunk of pages extracted, then their articles' languages identified."""
    extract_s = identify_s = 0.0
    articles = 0
    for _ in range(rounds):
        for first in range(0, len(pages), chunk):
            extracted = []
            for name, body in pages[first : first + chunk]:
                started = time.perf_counter()
                result = extract_html(Document(uri=name, source="url", body=body, media_type="text/html"))
                extract_s += time.perf_counter() - started
                if result.article is not None:
                    extracted.append(result.article)
            started = time.perf_counter()
            for article in extracted:
                identify_language(article)
            identify_s += time.perf_counter() - started
            articles += len(extracted)
    return {"pages": len(pages) * rounds, "articles": articles, "chunk": chunk,
            "extract_ms_per_page": round(1000 * extract_s / max(1, len(pages) * rounds), 2),
            "identify_ms_per_article": round(1000 * identify_s / max(1, articles), 3),
            "share_of_extraction": round(identify_s / max(1e-9, extract_s), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Language identifiers compared; identification against extraction.",
                                     epilog="example: python -m bench.language --limit 60")
    parser.add_argument("--labelled", type=Path, default=LABELLED)
    parser.add_argument("--fundus", type=Path, default=FUNDUS)
    parser.add_argument("--pages", type=Path, default=PAGES)
    parser.add_argument("--limit", type=int, default=None, help="pages per folder for the cost figure")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cost-only", action="store_true", help="only the cost against extraction (quick)")
    args = parser.parse_args(argv)
    if not args.labelled.exists():
        print(f"error: {args.labelled} does not exist", file=sys.stderr)
        return 2
    rows = [] if args.cost_only else compare_candidates(args.labelled, args.fundus)
    pages = _pages(args.pages, args.fundus, args.limit)
    if pages:
        extract_html(Document(uri="warm-up", source="url", body=pages[0][1], media_type="text/html"))
        detect_language("the identifier's model loads on its first call, which is not what is measured")
    cost = measure_cost(pages, args.rounds) if pages else {}
    if args.json:
        print(json.dumps({"candidates": rows, "cost": cost}, indent=1))
        return 0
    columns = [c for c in rows[0] if c != "candidate"] if rows else []
    if rows:
        print("candidate    " + "  ".join(columns))
    for row in rows:
        print(f"{row['candidate']:<12} " + "  ".join(f"{row[c]:>{len(c)}}" for c in columns))
    if cost:
        print(f"\ncost on {cost['pages']} pages ({cost['articles']} articles, chunks of {cost['chunk']}): extraction "
              f"{cost['extract_ms_per_page']} ms/page, identify_language {cost['identify_ms_per_article']} ms/article "
              f"= {100 * cost['share_of_extraction']:.2f}% of extraction (target <= 3%)")
        return 0 if cost["share_of_extraction"] <= 0.03 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
