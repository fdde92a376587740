"""Rewrite the golden files from what the code gives now (the one command that writes them).

    python -m tests.golden.regenerate            # all of them
    python -m tests.golden.regenerate pages      # only some: pages, quotes, entities

Run it when a test says a golden file differs and the change is intended (a new extractor, a new
spaCy model, a better rule), then read the diff (`git diff tests/golden`) before committing it with
the change. Page files no HTML page matches any more are removed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python tests/golden/regenerate.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench.seed import MODEL, read_seed_article  # noqa: E402
from tests.golden.records import (GOLDEN, PAGES, REPO, entities_json, entity_records, golden_path,  # noqa: E402
                                  html_pages, page_record, quote_records, to_json)

KINDS = ("pages", "quotes", "entities")


def regenerate_pages() -> list[Path]:
    written = []
    for page in html_pages():
        path = golden_path(page)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_json(page_record(page)), encoding="utf-8")
        written.append(path)
    for stale in set(PAGES.rglob("*.json")) - set(written):
        stale.unlink()
    return written


def regenerate_quotes(model: str = MODEL) -> list[Path]:
    import spacy

    path = GOLDEN / "seed_quotes.json"
    path.write_text(to_json(quote_records(spacy.load(model), read_seed_article())), encoding="utf-8")
    return [path]


def regenerate_entities(model: str = MODEL) -> list[Path]:
    import spacy

    from transforms.entities import prepare_pipeline

    path = GOLDEN / "seed_entities.json"
    path.write_text(entities_json(entity_records(prepare_pipeline(spacy.load(model)), read_seed_article())),
                    encoding="utf-8")
    return [path]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.golden.regenerate", description=__doc__.split("\n")[0],
                                     epilog="example: python -m tests.golden.regenerate pages")
    parser.add_argument("kinds", nargs="*", metavar="KIND", help=f"which golden files ({', '.join(KINDS)}; default all)")
    args = parser.parse_args(argv)
    unknown = set(args.kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kind {', '.join(sorted(unknown))}; choose from {', '.join(KINDS)}")
    writers = {"pages": regenerate_pages, "quotes": regenerate_quotes, "entities": regenerate_entities}
    for kind in args.kinds or KINDS:
        written = writers[kind]()
        print(f"{kind}: wrote {len(written)} file(s) under {GOLDEN.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
