"""Full-text search over the warehouse: the index follows each load, filters hold, the macro works from SQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.warehouse.crash_child import Batch, write_and_load
from transforms.models import Article, to_article_id, to_content_hash
from warehouse.load import connect
from warehouse.search import index_is_current, query_search

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
