"""Extraction throughput: newsdesk's `extract_html` against bare trafilatura, same pages, one run.

    python -m bench.extract [DIR] [--limit N] [--rounds R]

DIR holds pages as `*.html`, `*.html.gz` or `*.gz` (default: the Scrapinghub benchmark's
html/ folder in ../shared/data). Both extractors run on every page, alternating, `rounds`
times; the figure is pages per second and the ratio newsdesk / trafilatura (target >= 0.8).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

from trafilatura import bare_extraction

from transforms.html import extract_html
from transforms.models import Document

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "article-extraction-benchmark" / "html"


def read_pages(directory: Path, limit: int | None = None) -> list[bytes]:
    paths = sorted(p for p in directory.iterdir() if p.name.endswith((".html", ".htm", ".gz")))[:limit]
    return [gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes() for p in paths]


def measure_throughput(pages: list[bytes], rounds: int = 1) -> dict[str, float]:
    """Seconds spent by each extractor over all pages, and the throughput ratio."""
    spent = {"newsdesk": 0.0, "trafilatura": 0.0}
    for _ in range(rounds):
        for index, page in enumerate(pages):
            order = ("newsdesk", "trafilatura") if index % 2 == 0 else ("trafilatura", "newsdesk")
            for name in order:
                started = time.perf_counter()
                if name == "newsdesk":
                    extract_html(Document(uri=f"page-{index}", source="url", body=page, media_type="text/html"))
                else:
                    bare_extraction(page, with_metadata=True)
                spent[name] += time.perf_counter() - started
    count = len(pages) * rounds
    return {
        "pages": count,
        "newsdesk_pages_per_second": count / spent["newsdesk"],
        "trafilatura_pages_per_second": count / spent["trafilatura"],
        "ratio": spent["trafilatura"] / spent["newsdesk"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Throughput of extract_html against bare trafilatura.",
                                     epilog="example: python -m bench.extract ../shared/data/article-extraction-benchmark/html")
    parser.add_argument("directory", type=Path, nargs="?", default=DEFAULT_DIR)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"error: {args.directory} is not a folder of pages", file=sys.stderr)
        return 2
    pages = read_pages(args.directory, args.limit)
    extract_html(Document(uri="warm-up", source="url", body=pages[0], media_type="text/html"))  # imports, caches
    result = measure_throughput(pages, args.rounds)
    print(f"{result['pages']} pages: newsdesk {result['newsdesk_pages_per_second']:.1f}/s, "
          f"trafilatura {result['trafilatura_pages_per_second']:.1f}/s, ratio {result['ratio']:.2f} (target >= 0.8)")
    return 0 if result["ratio"] >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main())
