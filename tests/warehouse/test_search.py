"""Full-text search over the warehouse: the index and its delta follow each load, filters hold, the macro works
from SQL, and an article loaded after the last build is found and scored as a rebuild would score it."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.warehouse.crash_child import Batch, write_and_load
from transforms.models import Article, to_article_id, to_content_hash
from warehouse.load import connect
from warehouse.search import Coverage, index_is_current, query_search, rebuild_search_index, search_coverage

AT = datetime(2025, 3, 1, 6, tzinfo=timezone.utc)


def _article(key: str, title: str, text: str, published: str) -> Article:
    url = f"https://{key}.example/story"
    return Article(to_article_id(url), to_content_hash(text), url, "url", text, title=title, site_name=key,
                   url=url, canonical_url=url, published_at=published)


def test_search_follows_the_loads(tmp_path: Path) -> None:
    heat = _article("heat", "Heatwave grips Spain", "Temperatures passed 44 degrees in Seville as the heatwave "
                    "spread north. Farmers said the harvest was at risk.", "2025-07-01T08:00:00Z")
    talks = _article("talks", "Ceasefire talks resume", "Diplomats met in Cairo for a second round of ceasefire "
                     "talks on Tuesday, officials said.", "2025-07-03T08:00:00Z")
    write_and_load(tmp_path, "r1", [Batch(articles=[heat])], AT)
    con = connect(tmp_path / "w.duckdb", read_only=True)
    try:
        assert index_is_current(con)
        assert query_search(con, "ceasefire") == []
    finally:
        con.close()
    write_and_load(tmp_path, "r2", [Batch(articles=[talks])], AT + timedelta(hours=1))
    con = connect(tmp_path / "w.duckdb", read_only=True)
    try:
        [hit] = query_search(con, "ceasefire talks")
        assert hit.title == "Ceasefire talks resume" and "[ceasefire] [talks]" in hit.snippet
        assert [h.title for h in query_search(con, "heatwave")] == ["Heatwave grips Spain"]
        assert query_search(con, "heatwave", since="2025-07-02") == []
        assert query_search(con, "heatwave", entity="Nobody") == []
        rows = con.execute("SELECT article_id FROM search_articles('cairo diplomats')").fetchall()
        assert rows == [(talks.article_id,)]
    finally:
        con.close()


_WORDS = ("harbour council budget river festival school railway hospital election museum bridge market "
          "farmers drought storm vaccine court strike airport stadium").split()


def _filler(n: int) -> Article:
    """Article n of a small varied corpus: its own mix of the words above, so document frequencies differ."""
    words = [_WORDS[(n * k + k * k) % len(_WORDS)] for k in range(1, 12 + n % 7)]
    text = f"Report {n}: " + " ".join(words) + ". Officials said the " + " and the ".join(words[:3]) + " matter."
    return _article(f"site{n}", f"Local {words[0]} news", text, f"2025-06-{1 + n % 28:02d}T08:00:00Z")


def _scores(con: Any, query: str) -> dict[str, float]:
    return dict(con.execute("SELECT * FROM search_articles(?)", [query]).fetchall())


def test_articles_loaded_after_the_build_are_found_and_scored_as_a_rebuild_would(tmp_path: Path) -> None:
    corpus = [_filler(n) for n in range(30)]
    write_and_load(tmp_path, "r1", [Batch(articles=corpus)], AT)  # no index yet: built
    talks = _article("talks", "Ceasefire talks resume", "Diplomats met in Cairo for ceasefire talks; the harbour "
                     "council and the budget were on the table.", "2025-07-03T08:00:00Z")
    revised = replace(corpus[0], content_hash=to_content_hash("Revised: a drought hit the harbour."),
                      text="Revised: a drought hit the harbour.", title="Drought update")
    write_and_load(tmp_path, "r2", [Batch(articles=[talks, revised])], AT + timedelta(hours=1))
    con = connect(tmp_path / "w.duckdb")
    try:
        assert search_coverage(con) == Coverage(indexed=29, pending=2, missing=0)  # 2 <= 0.1 * 30: not rebuilt
        assert index_is_current(con)
        [hit] = query_search(con, "ceasefire cairo")
        assert hit.article_id == talks.article_id and "[ceasefire]" in hit.snippet
        assert [h.title for h in query_search(con, "ceasefire", since="2025-07-02")] == ["Ceasefire talks resume"]
        assert [h.article_id for h in query_search(con, "revised")] == [corpus[0].article_id]
        old_words = set(re.findall(r"[a-z]+", corpus[0].text.lower())) - set(re.findall(r"[a-z]+", revised.text.lower()))
        assert old_words and corpus[0].article_id not in _scores(con, " ".join(old_words))  # the old version is gone
        queries = ["harbour budget", "drought", "council festival school", "ceasefire talks harbour", "report"]
        with_delta = {q: _scores(con, q) for q in queries}
        rebuild_search_index(con)
        assert search_coverage(con) == Coverage(indexed=31, pending=0, missing=0)
        for query in queries:  # the same hits, the same scores
            assert _scores(con, query) == pytest.approx(with_delta[query], rel=1e-9)
        # and, with the delta empty, the extension's own BM25 (whose log is base 10: the same ranking)
        for query in queries:
            theirs = con.execute(f"SELECT article_id, fts_main_search_documents.match_bm25(article_id, ?) AS s "
                                 f"FROM search_documents WHERE s IS NOT NULL", [query]).fetchall()
            assert {a: s * math.log(10) for a, s in theirs} == pytest.approx(with_delta[query], rel=1e-9)
    finally:
        con.close()


def test_the_load_rebuilds_once_the_delta_passes_its_share(tmp_path: Path) -> None:
    write_and_load(tmp_path, "r1", [Batch(articles=[_filler(n) for n in range(20)])], AT)
    write_and_load(tmp_path, "r2", [Batch(articles=[_filler(20), _filler(21)])], AT + timedelta(hours=1))
    con = connect(tmp_path / "w.duckdb", read_only=True)
    try:
        assert search_coverage(con) == Coverage(indexed=20, pending=2, missing=0)
    finally:
        con.close()
    write_and_load(tmp_path, "r3", [Batch(articles=[_filler(22)])], AT + timedelta(hours=2))  # 3 > 0.1 * 20
    con = connect(tmp_path / "w.duckdb", read_only=True)
    try:
        assert search_coverage(con) == Coverage(indexed=23, pending=0, missing=0)
        assert len(query_search(con, "report", limit=50)) == 23
    finally:
        con.close()
    write_and_load(tmp_path, "r4", [Batch(articles=[_filler(22)])], AT + timedelta(hours=3))  # nothing new
    write_and_load(tmp_path, "r5", [Batch(articles=[_filler(23)])], AT + timedelta(hours=4))
    con = connect(tmp_path / "w.duckdb", read_only=True)
    try:
        assert search_coverage(con) == Coverage(indexed=23, pending=1, missing=0)
    finally:
        con.close()
    from flows.cli import main

    assert main(["search", "report", "--reindex", "--warehouse", str(tmp_path / "w.duckdb"), "--format", "csv"]) == 0
    con = connect(tmp_path / "w.duckdb", read_only=True)
    try:
        assert search_coverage(con) == Coverage(indexed=24, pending=0, missing=0)
    finally:
        con.close()
