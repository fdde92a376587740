"""Duplicates and stories, derived inside a load's transaction from the run's new fingerprints.

Matching is an LSH lookup in SQL: the run's new fingerprints' band keys are
joined with every stored fingerprint's (a hash join on integers; the stored
band keys are the persisted LSH index, so nothing is rebuilt at run start).
Candidate pairs are kept when their MinHash signatures agree on at least
DUPLICATE_MIN of their values. The rules (kinds, story evidence and thresholds)
are in transforms/stories.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from transforms.fingerprints import estimate_jaccard
from transforms.stories import (
    DUPLICATE_MIN,
    SHARED_ENTITIES_MIN,
    TOP_ENTITIES,
    WINDOW_HOURS,
    Edge,
    assign_stories,
    is_related,
    title_similarity,
    to_kind,
    to_site,
)
from warehouse.schema import TABLES, is_lakehouse, run_sql

MIN_SHINGLES = 5  # shorter bodies (a caption, an empty page) say nothing about copying

_CANDIDATES = """
    WITH new AS (
        SELECT article_id, content_hash, unnest(bands) AS band FROM article_fingerprints
        WHERE run_id = $run AND shingles >= $min
    ), old AS (
        SELECT article_id, content_hash, run_id, unnest(bands) AS band FROM article_fingerprints
        WHERE shingles >= $min
    )
    SELECT DISTINCT n.article_id, n.content_hash, o.article_id, o.content_hash
    FROM new n JOIN old o USING (band)
    WHERE n.article_id <> o.article_id
      AND (o.run_id <> $run OR (o.article_id, o.content_hash) < (n.article_id, n.content_hash))
    UNION
    SELECT n.article_id, n.content_hash, o.article_id, o.content_hash
    FROM article_fingerprints n JOIN article_fingerprints o
         ON o.article_id = n.article_id AND o.content_hash <> n.content_hash
    WHERE n.run_id = $run AND (o.run_id <> $run OR o.content_hash < n.content_hash)
"""
_VERSIONS = """
    SELECT f.article_id, f.content_hash, f.signature, a.url, a.canonical_url, a.site_name
    FROM article_fingerprints f JOIN articles a USING (article_id, content_hash)
    WHERE (f.article_id, f.content_hash) IN (SELECT (article_id, content_hash) FROM wanted)
"""


def load_duplicates(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Insert the duplicate pairs of the run's new fingerprints; return how many."""
    pairs = run_sql(con, _CANDIDATES, {"run": run_id, "min": MIN_SHINGLES})  # type: ignore[arg-type]
    if not pairs:
        return 0
    versions = _versions(con, {(p[0], p[1]) for p in pairs} | {(p[2], p[3]) for p in pairs})
    rows = []
    for article_id, content_hash, other_id, other_hash in pairs:
        mine, theirs = versions[(article_id, content_hash)], versions[(other_id, other_hash)]
        jaccard = estimate_jaccard(mine[0], theirs[0])
        same = article_id == other_id
        if not same and jaccard < DUPLICATE_MIN:
            continue
        kind = to_kind(same, to_site(*mine[1:]), to_site(*theirs[1:]), mine[2], theirs[2])
        rows.append({"article_id": article_id, "content_hash": content_hash, "other_article_id": other_id,
                     "other_content_hash": other_hash, "kind": kind, "jaccard": jaccard, "run_id": run_id})
    return _insert(con, "duplicates", rows)


def _versions(con: duckdb.DuckDBPyConnection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(article id, content hash) -> (signature, url, canonical url, site name)."""
    wanted = pa.table({"article_id": [k[0] for k in keys], "content_hash": [k[1] for k in keys]})
    con.register("wanted", wanted)
    try:
        return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in run_sql(con, _VERSIONS)}
    finally:
        con.unregister("wanted")


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]]) -> int:
    if not rows:
        return 0
    schema = TABLES[table].arrow_schema
    data = pa.Table.from_pydict({n: [r[n] for r in rows] for n in schema.names}, schema=schema)
    cols = ", ".join(f'"{c}"' for c in schema.names)
    con.register("derived", data)
    try:
        if is_lakehouse(con):  # DuckLake has no keys: replace by deleting the rows with the same key first
            same = " AND ".join(f'{table}."{k}" = d."{k}"' for k in TABLES[table].key)
            run_sql(con, f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM derived d WHERE {same})")
            run_sql(con, f"INSERT INTO {table} ({cols}) SELECT {cols} FROM derived")
        else:
            run_sql(con, f"INSERT OR REPLACE INTO {table} ({cols}) SELECT {cols} FROM derived")
    finally:
        con.unregister("derived")
    return len(rows)


_NEW_ARTICLES = """
    SELECT DISTINCT article_id FROM articles a
    WHERE run_id = $run AND NOT EXISTS (SELECT 1 FROM stories s WHERE s.article_id = a.article_id)
"""
# The newest version of each article (the `current_articles` view, spelled out: the load may run
# on a database whose views are not there yet).
_CURRENT = """current AS (
        SELECT * FROM articles QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY loaded_at DESC, content_hash) = 1
    )"""
_DUPLICATE_EDGES = """
    SELECT d.article_id, d.other_article_id, d.jaccard FROM duplicates d
    WHERE d.kind <> 'updated' AND (d.article_id IN (SELECT article_id FROM fresh)
                                   OR d.other_article_id IN (SELECT article_id FROM fresh))
"""
# Looser evidence: articles sharing top entities, published close together (titles compared in Python).
_RELATED_CANDIDATES = f"""
    WITH {_CURRENT}, counted AS (
        SELECT article_id, entity_id, row_number() OVER (PARTITION BY article_id ORDER BY count(*) DESC, entity_id) AS rn
        FROM mentions JOIN current USING (article_id, content_hash) GROUP BY article_id, entity_id
    ), top AS (SELECT article_id, entity_id FROM counted WHERE rn <= {TOP_ENTITIES}),
    shared AS (
        SELECT n.article_id, t.article_id AS other_article_id, count(*) AS entities
        FROM top n JOIN top t ON t.entity_id = n.entity_id AND t.article_id <> n.article_id
        WHERE n.article_id IN (SELECT article_id FROM fresh)
        GROUP BY ALL HAVING count(*) >= {SHARED_ENTITIES_MIN}
    ), timed AS (
        SELECT article_id, title,
               coalesce(try_cast(published_at AS TIMESTAMPTZ), loaded_at) AS at FROM current
    )
    SELECT s.article_id, s.other_article_id, s.entities, x.title, y.title,
           abs(epoch(x.at) - epoch(y.at)) / 3600.0 AS hours
    FROM shared s JOIN timed x ON x.article_id = s.article_id JOIN timed y ON y.article_id = s.other_article_id
    WHERE abs(epoch(x.at) - epoch(y.at)) / 3600.0 <= {WINDOW_HOURS}
"""


def load_stories(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Give every article the run added (and that has no story yet) a story; return how many."""
    fresh = [r[0] for r in run_sql(con, _NEW_ARTICLES, {"run": run_id})]  # type: ignore[arg-type]
    if not fresh:
        return 0
    con.register("fresh", pa.table({"article_id": fresh}))
    try:
        edges = [Edge(a, b, "duplicate", j) for a, b, j in run_sql(con, _DUPLICATE_EDGES)]
        for a, b, entities, title, other_title, hours in run_sql(con, _RELATED_CANDIDATES):
            score = title_similarity(title, other_title)
            if is_related(score, int(entities), float(hours)):
                edges.append(Edge(a, b, "related", score))
        linked = {e.article_id for e in edges} | {e.other_article_id for e in edges}
        known: dict[str, str] = dict(run_sql(con, "SELECT article_id, story_id FROM stories WHERE article_id IN "
                                  "(SELECT unnest($ids::VARCHAR[]))", {"ids": sorted(linked)}))  # type: ignore[arg-type]
    finally:
        con.unregister("fresh")
    assigned = assign_stories(fresh, known, edges)
    rows = [{"article_id": a, "story_id": s, "joined_by": how, "run_id": run_id}
            for a, (s, how) in sorted(assigned.items())]
    return _insert(con, "stories", rows)


def load_duplicates_and_stories(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """The load's hook: match the run's new fingerprints, then place its new articles in stories."""
    load_duplicates(con, run_id)
    load_stories(con, run_id)
