"""Duplicates and stories as the load derives them: syndicated copies, updated versions, re-runs adding nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from tests.warehouse.crash_child import Batch, write_and_load
from transforms.models import Article, to_article_id, to_content_hash

AT = datetime(2025, 3, 1, 6, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[2]


def _paragraphs() -> list[str]:
    text = (REPO / "seeds" / "000_e3185f102c2f0dfe.txt").read_text(encoding="utf-8")
    return [p for p in text.split("\n\n") if len(p.split()) > 8]


def _article(key: str, paragraphs: list[str], site: str, title: str) -> Article:
    body = "\n\n".join(paragraphs)
    return Article(to_article_id(key), to_content_hash(body), key, "url", body, title=title, site_name=site,
                   url=f"https://{site}/{key}", canonical_url=f"https://{site}/{key}")


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_copies_versions_and_reruns(tmp_path: Path) -> None:
    paras = _paragraphs()
    assert len(paras) >= 4
    original = _article("wire", paras, "wire.example", "Original")
    copy = _article("copy", paras[:-1] + ["Sign up for our newsletter. Related: more news."], "paper.example", "Copy")
    moved = _article("moved", paras, "wire.example", "Same page, other address")
    other = _article("other", ["Boil the pasta in salted water for nine minutes, then drain it, add tomatoes, "
                               "basil and olive oil, and serve at once with grated cheese on top."], "food.example", "Pasta")
    write_and_load(tmp_path, "r1", [Batch(articles=[original, other])], AT)
    write_and_load(tmp_path, "r2", [Batch(articles=[copy, moved])], AT + timedelta(hours=1))
    updated = _article("wire", paras + ["Update: the vote was postponed."], "wire.example", "Original")
    added, _ = write_and_load(tmp_path, "r3", [Batch(articles=[updated])], AT + timedelta(hours=2))
    assert added["stories"] == 0  # a new version keeps its article's story
    db = tmp_path / "w.duckdb"
    pairs = _rows(db, "SELECT article_id, other_article_id, kind FROM duplicates ORDER BY ALL")
    ids = {to_article_id(k): k for k in ("wire", "copy", "moved", "other")}
    kinds = {(frozenset((ids[a], ids[b])), kind) for a, b, kind in pairs}  # every version is matched
    assert kinds == {(frozenset(("copy", "wire")), "syndicated"), (frozenset(("copy", "moved")), "syndicated"),
                     (frozenset(("moved", "wire")), "same_page"), (frozenset(("wire",)), "updated")}
    stories = dict(_rows(db, "SELECT article_id, story_id FROM stories"))
    assert stories[to_article_id("copy")] == stories[to_article_id("wire")] == stories[to_article_id("moved")]
    assert stories[to_article_id("other")] != stories[to_article_id("wire")]
    before = _rows(db, "SELECT count(*) FROM duplicates UNION ALL SELECT count(*) FROM stories")
    again, _ = write_and_load(tmp_path, "r4", [Batch(articles=[original, copy, moved, other, updated])],
                              AT + timedelta(hours=3))
    assert again["duplicates"] == 0 and again["stories"] == 0 and again["article_fingerprints"] == 0
    assert _rows(db, "SELECT count(*) FROM duplicates UNION ALL SELECT count(*) FROM stories") == before
    assert dict(_rows(db, "SELECT article_id, story_id FROM stories")) == stories
