"""The seeds: a seed HTML article and a syndicated copy of it (another outlet's template and headline)
give one `syndicated` pair and one story with two outlets; running again adds nothing."""

from __future__ import annotations

import html
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEEDS, count_rows, query_warehouse
from transforms.documents import extract_documents
from transforms.models import Document

ORIGINAL = SEEDS / "001_c7e39ac49fa1235f.html"
TABLES = ("articles", "article_fingerprints", "duplicates", "stories", "mentions", "quotes")


def republished(original: Path) -> str:
    """The original's paragraphs in another outlet's page: other template, headline, byline, canonical URL."""
    document = Document(original.name, "seed", original.read_bytes(), "text/html")
    [article], _ = extract_documents([document])
    paragraphs = [article.text[b.start:b.end] for b in article.blocks if b.kind == "paragraph"]
    assert len(paragraphs) >= 5
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    headline = "Swedish prosecutors end Assange inquiry"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{headline} | The Daily Example</title>
<link rel="canonical" href="https://daily.example/world/2019/11/20/assange-inquiry-ends">
<meta property="og:site_name" content="The Daily Example"><meta property="og:title" content="{headline}">
<meta property="article:published_time" content="2019-11-20T06:30:00Z"><meta name="author" content="Wire Staff">
</head><body><header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav></header>
<main><article><h1>{headline}</h1><p class="byline">By Wire Staff</p>
{body}
</article><aside><h2>Related stories</h2><ul><li><a href="/world/a">Brexit talks resume</a></li>
<li><a href="/world/b">Storm hits the coast</a></li></ul></aside></main>
<footer><p>© 2019 The Daily Example. All rights reserved.</p></footer></body></html>"""


@pytest.fixture(scope="module")
def syndicated(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from flows.cli import main

    root = tmp_path_factory.mktemp("syndication")
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(ORIGINAL, seeds / ORIGINAL.name)
    (seeds / "republished.html").write_text(republished(ORIGINAL), encoding="utf-8")
    warehouse = root / "w.duckdb"
    args = ["run", "--seeds", str(seeds), "--warehouse", str(warehouse), "--lake", str(root / "lake"), "--workers", "1"]
    codes = [main(args)]
    first = count_rows(warehouse, TABLES)
    stories = query_warehouse(warehouse, "SELECT article_id, story_id FROM stories ORDER BY 1")
    codes.append(main(args))
    return {"warehouse": warehouse, "codes": codes, "first": first, "second": count_rows(warehouse, TABLES),
            "stories": stories}


def test_one_syndicated_pair_and_one_story_with_two_outlets(syndicated: dict[str, Any]) -> None:
    warehouse = syndicated["warehouse"]
    assert syndicated["codes"] == [0, 0]
    pairs = query_warehouse(warehouse, "SELECT kind, jaccard FROM duplicates")
    assert len(pairs) == 1 and pairs[0][0] == "syndicated" and pairs[0][1] >= 0.9, pairs
    stories = query_warehouse(warehouse, "SELECT articles, outlets, outlet_names FROM story_outlets")
    assert stories == [(2, 2, ["bbc.com", "daily.example"])]
    rows = query_warehouse(warehouse, "SELECT original_outlet, republisher FROM syndication")
    assert rows == [("bbc.com", "daily.example")]


def test_running_again_adds_nothing(syndicated: dict[str, Any]) -> None:
    assert syndicated["second"] == syndicated["first"]
    assert query_warehouse(syndicated["warehouse"], "SELECT article_id, story_id FROM stories ORDER BY 1") == \
        syndicated["stories"]


def test_search_finds_both_copies(syndicated: dict[str, Any]) -> None:
    from flows.cli import main

    assert main(["search", "Assange rape investigation", "--warehouse", str(syndicated["warehouse"]),
                 "--format", "csv"]) == 0
    from warehouse.load import connect

    con = connect(syndicated["warehouse"], read_only=True)  # loads the fts extension the macro needs
    try:
        hits = con.execute("SELECT count(*) FROM search_articles('Assange rape investigation')").fetchall()
    finally:
        con.close()
    assert hits == [(2,)]
