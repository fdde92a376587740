"""Every HTML page the tests and the seeds hold, extracted as the pipeline extracts a local file, against its golden file.

The one parametrised golden test over the saved pages (fundus' tests/test_parser.py): text, title, authors,
dates, site, language, provenance, or the reject's reason. `python -m tests.golden.regenerate pages`
rewrites the files when a change is intended; read the diff before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden.records import GOLDEN, PAGES, REGENERATE, REPO, golden_path, html_pages, page_record, read_golden

PAGE_LIST = html_pages()


def test_every_page_is_covered_and_no_golden_file_is_stale() -> None:
    assert len(PAGE_LIST) >= 14 and any(p.parts[0] == "seeds" for p in PAGE_LIST)  # the glob found the pages
    golden = {p.relative_to(PAGES) for p in PAGES.rglob("*.json")}
    expected = {golden_path(p).relative_to(PAGES) for p in PAGE_LIST}
    assert golden == expected, f"golden pages and HTML pages differ; run `{REGENERATE} pages`"


@pytest.mark.parametrize("page", PAGE_LIST, ids=[p.as_posix() for p in PAGE_LIST])
def test_page_matches_golden(page: Path) -> None:
    path = golden_path(page)
    assert path.exists(), f"no golden file for {page}; run `{REGENERATE} pages`"
    expected = read_golden(path.relative_to(GOLDEN).as_posix())
    got = page_record(page)
    if got != expected:
        fields = sorted(k for k in got.keys() | expected.keys() if got.get(k) != expected.get(k))
        pytest.fail(f"{page}: {', '.join(fields)} differ from {path.relative_to(REPO)}; if the change is intended, "
                    f"run `{REGENERATE} pages` and read the diff\n"
                    + "\n".join(f"  {f}: golden {str(expected.get(f))[:200]!r}\n  {' ' * len(f)}  now    "
                                f"{str(got.get(f))[:200]!r}" for f in fields))
