"""Full-text search: a BM25 index over the current articles' title and text, with DuckDB's fts extension.

The extension comes from its PyPI package (duckdb-extension-fts, locked with
DuckDB) and is loaded by path: nothing is downloaded at run time, and a
connection never auto-installs. fts has no incremental update, so the index is
rebuilt inside the load's transaction whenever the load added articles (cost:
bench/search.py). The table macro `search_articles(query)` ranks every indexed
article with one set-based BM25 query over the index tables (the extension's
`match_bm25` evaluates a subquery per row), so it is usable from plain SQL:

    SELECT a.title, s.score FROM search_articles('ceasefire talks') s JOIN current_articles a USING (article_id)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from transforms.errors import PermanentError
from transforms.snippets import to_snippet
from warehouse.extensions import load_extension
from warehouse.schema import run_sql

log = logging.getLogger(__name__)

INDEXED = "search_documents"  # the current version of every article: what the index covers
FTS_SCHEMA = f"fts_main_{INDEXED}"


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """LOAD the fts extension from its package; never INSTALL, never auto-install from the network."""
    if run_sql(con, "SELECT current_setting('autoinstall_known_extensions')")[0][0]:
        run_sql(con, "SET autoinstall_known_extensions = false")  # a locked (offline) configuration has it off already
    load_extension(con, "fts")


_DOCUMENTS = f"""
    CREATE OR REPLACE TABLE {INDEXED} AS
    SELECT article_id, content_hash, coalesce(title, '') AS title, text FROM (
        SELECT *, row_number() OVER (PARTITION BY article_id ORDER BY loaded_at DESC, content_hash) AS rn FROM articles
    ) WHERE rn = 1
"""
# Okapi BM25 (k1 = 1.2, b = 0.75, as the extension's own match_bm25), over title and text together.
_MACRO = f"""
    CREATE OR REPLACE MACRO search_articles(query_string) AS TABLE
    WITH tokens AS (
        SELECT DISTINCT stem(unnest({FTS_SCHEMA}.tokenize(query_string)), 'porter') AS term
    ), hits AS (
        SELECT t.docid, t.termid, count(*) AS tf
        FROM {FTS_SCHEMA}.terms t JOIN {FTS_SCHEMA}.dict d USING (termid) JOIN tokens USING (term)
        GROUP BY ALL
    ), scored AS (
        SELECT h.docid, sum(ln((s.num_docs - d.df + 0.5) / (d.df + 0.5) + 1)
                            * h.tf * 2.2 / (h.tf + 1.2 * (0.25 + 0.75 * doc.len / s.avgdl))) AS score
        FROM hits h JOIN {FTS_SCHEMA}.dict d USING (termid) JOIN {FTS_SCHEMA}.docs doc USING (docid)
        CROSS JOIN {FTS_SCHEMA}.stats s
        GROUP BY h.docid
    )
    SELECT doc.name AS article_id, scored.score FROM scored JOIN {FTS_SCHEMA}.docs doc USING (docid)
    ORDER BY scored.score DESC, article_id
"""


def index_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the index exists and covers exactly the current article versions."""
    if not run_sql(con, "SELECT 1 FROM duckdb_tables() WHERE schema_name = ? AND table_name = 'docs'", [FTS_SCHEMA]):
        return False
    stale = run_sql(con, f"""
        SELECT count(*) FROM (SELECT article_id, content_hash FROM {INDEXED}) s FULL OUTER JOIN (
            SELECT article_id, content_hash FROM articles
            QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY loaded_at DESC, content_hash) = 1
        ) a USING (article_id, content_hash) WHERE s.article_id IS NULL OR a.article_id IS NULL""")
    return not stale[0][0]


def rebuild_search_index(con: duckdb.DuckDBPyConnection) -> None:
    """Index the current articles (title and text; English stemmer and stopwords) and (re)create the macro."""
    load_fts(con)
    run_sql(con, _DOCUMENTS)
    run_sql(con, f"PRAGMA create_fts_index('{INDEXED}', 'article_id', 'title', 'text', overwrite = 1)")
    run_sql(con, _MACRO)


def update_search_index(con: duckdb.DuckDBPyConnection, articles_added: int) -> None:
    """The load's hook: rebuild when the load added articles or the index does not match them."""
    if articles_added or not index_is_current(con):
        rebuild_search_index(con)


@dataclass(frozen=True)
class Hit:
    article_id: str
    score: float
    title: str | None
    site: str | None
    published_at: str | None
    url: str | None
    snippet: str


def query_search(con: duckdb.DuckDBPyConnection, query: str, since: str | None = None, entity: str | None = None,
                 speaker: str | None = None, limit: int = 10) -> list[Hit]:
    """Ranked hits for `query`, optionally only articles published (else loaded) on or after `since`,
    mentioning an entity named `entity` (name or alias, case-insensitive), or quoting `speaker`."""
    load_fts(con)
    where: list[str] = []
    params: list[Any] = [query]
    if since:
        where.append("coalesce(try_cast(substr(a.published_at, 1, 10) AS DATE), CAST(a.loaded_at AS DATE)) >= "
                     "try_cast(? AS DATE)")
        params.append(since)
    if entity:
        where.append("""s.article_id IN (SELECT m.article_id FROM current_mentions m JOIN entities e USING (entity_id)
                        WHERE lower(e.name) = lower(?) OR lower(m.text) = lower(?))""")
        params += [entity, entity]
    if speaker:
        where.append("""s.article_id IN (SELECT q.article_id FROM current_quotes q
                        LEFT JOIN entities e ON e.entity_id = q.speaker_entity_id
                        WHERE lower(e.name) = lower(?) OR lower(q.speaker) = lower(?))""")
        params += [speaker, speaker]
    params.append(limit)
    # The top hits first (filters need the article's date: joined only when asked), then their rows.
    dated = since is not None
    sql = f"""
        WITH top AS (
            SELECT s.article_id, s.score FROM search_articles(?) s
            {f"JOIN {INDEXED} d USING (article_id) JOIN articles a USING (article_id, content_hash)" if dated else ""}
            {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY s.score DESC, s.article_id LIMIT ?
        )
        SELECT top.article_id, top.score, a.title, a.site_name, a.published_at,
               coalesce(a.canonical_url, a.url, a.uri), a.text
        FROM top JOIN {INDEXED} d USING (article_id) JOIN articles a USING (article_id, content_hash)
        ORDER BY top.score DESC, top.article_id"""
    try:
        rows = run_sql(con, sql, params)
    except duckdb.CatalogException:
        raise PermanentError("the warehouse has no search index yet: run `newsdesk run` first") from None
    return [Hit(r[0], round(float(r[1]), 4), r[2], r[3], r[4], r[5], to_snippet(r[6], query)) for r in rows]


def hits_table(hits: Sequence[Hit]) -> tuple[list[str], list[tuple[Any, ...]]]:
    names = ["score", "title", "site", "published_at", "snippet", "url", "article_id"]
    return names, [(h.score, h.title, h.site, h.published_at, h.snippet, h.url, h.article_id) for h in hits]
