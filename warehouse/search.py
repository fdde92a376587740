"""Full-text search: a BM25 index over the current articles' title and text, with DuckDB's fts extension.

The extension comes from its PyPI package (duckdb-extension-fts, locked with
DuckDB) and is loaded by path: nothing is downloaded at run time, and a
connection never auto-installs. fts has no incremental update and its build is
linear in the warehouse (bench/search.py), so the index is not rebuilt on every load:
the articles loaded since the last build (new ones and new versions) are tokenized as
the extension tokenizes into a delta beside the index, and the load rebuilds the
index (emptying the delta) once the delta passes REBUILD_SHARE of the indexed
articles, or when there is no index yet. The table macro `search_articles(query)`
ranks the index and the delta as one corpus with one set-based BM25 query over their
tables (the extension's `match_bm25` evaluates a subquery per row and sees only the
index), so results never miss an article loaded since the build and score as a
rebuild would; the macro is usable from plain SQL:

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

INDEXED = "search_documents"  # the current version of every article when the index was last built
FTS_SCHEMA = f"fts_main_{INDEXED}"
# The delta: current article versions loaded since the last build, tokenized as the extension does (its
# tokenize macro, stopwords and Porter stemmer), kept in the index's schema so a rebuild empties it.
PENDING = f"{FTS_SCHEMA}.pending"  # article_id, content_hash, len (terms kept)
PENDING_TERMS = f"{FTS_SCHEMA}.pending_terms"  # article_id, term (stemmed), tf
CORPUS = f"{FTS_SCHEMA}.corpus"  # num_docs, avgdl of what search ranks: the index less what the delta replaces, plus the delta
# The load rebuilds the index when the delta reaches this share of the indexed articles: the rebuild is linear
# in the warehouse, so rebuilding every tenth of it costs a bounded amount per article added at any size.
REBUILD_SHARE = 0.1


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """LOAD the fts extension from its package; never INSTALL, never auto-install from the network."""
    if run_sql(con, "SELECT current_setting('autoinstall_known_extensions')")[0][0]:
        run_sql(con, "SET autoinstall_known_extensions = false")  # a locked (offline) configuration has it off already
    load_extension(con, "fts")


_CURRENT = """
    SELECT article_id, content_hash FROM articles
    QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY loaded_at DESC, content_hash) = 1
"""
_DOCUMENTS = f"""
    CREATE OR REPLACE TABLE {INDEXED} AS
    SELECT article_id, content_hash, coalesce(title, '') AS title, text FROM ({_CURRENT}) JOIN articles USING (
        article_id, content_hash)
"""
_DELTA_TABLES = f"""
    CREATE TABLE IF NOT EXISTS {PENDING} (article_id VARCHAR, content_hash VARCHAR, len BIGINT);
    CREATE TABLE IF NOT EXISTS {PENDING_TERMS} (article_id VARCHAR, term VARCHAR, tf BIGINT);
"""
# Fresh: current versions neither indexed nor in the delta yet (new articles, new versions of either).
_FRESH = f"""
    CREATE OR REPLACE TEMP TABLE search_fresh AS
    SELECT article_id, content_hash FROM ({_CURRENT})
    EXCEPT SELECT article_id, content_hash FROM {INDEXED}
    EXCEPT SELECT article_id, content_hash FROM {PENDING}
"""
# As create_fts_index tokenizes (fields title and text; stopwords dropped before stemming), each distinct word
# stemmed once; a newer version replaces an older one in the delta.
_ADD_FRESH = f"""
    DELETE FROM {PENDING_TERMS} WHERE article_id IN (SELECT article_id FROM search_fresh);
    DELETE FROM {PENDING} WHERE article_id IN (SELECT article_id FROM search_fresh);
    INSERT INTO {PENDING_TERMS}
    WITH fresh AS (
        SELECT article_id, coalesce(a.title, '') AS title, a.text FROM search_fresh JOIN articles a USING (
            article_id, content_hash)
    ), words AS (
        SELECT article_id, unnest({FTS_SCHEMA}.tokenize(title)) AS w FROM fresh
        UNION ALL SELECT article_id, unnest({FTS_SCHEMA}.tokenize(text)) AS w FROM fresh
    ), kept AS (
        SELECT article_id, w FROM words
        WHERE w IS NOT NULL AND len(w) > 0 AND w NOT IN (SELECT sw FROM {FTS_SCHEMA}.stopwords)
    ), stems AS (
        SELECT w, stem(w, 'porter') AS term FROM (SELECT DISTINCT w FROM kept)
    )
    SELECT article_id, term, count(*) AS tf FROM kept JOIN stems USING (w) GROUP BY article_id, term;
    INSERT INTO {PENDING}
    SELECT f.article_id, f.content_hash, coalesce(sum(t.tf), 0) FROM search_fresh f
    LEFT JOIN {PENDING_TERMS} t USING (article_id) GROUP BY f.article_id, f.content_hash;
"""
_CORPUS = f"""
    CREATE OR REPLACE TABLE {CORPUS} AS
    SELECT count(*) AS num_docs, avg(len) AS avgdl FROM (
        SELECT len FROM {FTS_SCHEMA}.docs WHERE name NOT IN (SELECT article_id FROM {PENDING})
        UNION ALL SELECT len FROM {PENDING}
    )
"""
# Okapi BM25 (k1 = 1.2, b = 0.75, as the extension's own match_bm25, whose idf takes log10 where this takes ln: its
# scores are these divided by ln 10, the same ranking), over title and text together, on the
# index and the delta as one corpus: the same scores a rebuild would give. An indexed article with a newer
# version in the delta is left out (its new version is scored instead).
_MACRO = f"""
    CREATE OR REPLACE MACRO search_articles(query_string) AS TABLE
    WITH tokens AS (
        SELECT DISTINCT stem(unnest({FTS_SCHEMA}.tokenize(query_string)), 'porter') AS term
    ), indexed AS (
        SELECT t.docid, d.term, count(*) AS tf
        FROM {FTS_SCHEMA}.terms t JOIN {FTS_SCHEMA}.dict d USING (termid) JOIN tokens USING (term)
        GROUP BY ALL
    ), hits AS (
        SELECT doc.name AS article_id, i.term, i.tf, doc.len FROM indexed i JOIN {FTS_SCHEMA}.docs doc USING (docid)
        WHERE doc.name NOT IN (SELECT article_id FROM {PENDING})
        UNION ALL
        SELECT p.article_id, p.term, p.tf, pd.len FROM {PENDING_TERMS} p JOIN tokens USING (term)
        JOIN {PENDING} pd USING (article_id)
    ), df AS (
        SELECT term, count(*) AS df FROM hits GROUP BY term
    )
    SELECT h.article_id, sum(ln((c.num_docs - df.df + 0.5) / (df.df + 0.5) + 1)
                             * h.tf * 2.2 / (h.tf + 1.2 * (0.25 + 0.75 * h.len / c.avgdl))) AS score
    FROM hits h JOIN df USING (term) CROSS JOIN {CORPUS} c
    GROUP BY h.article_id
    ORDER BY score DESC, h.article_id
"""


def _has_index(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the index and its delta tables exist (a warehouse indexed before the delta has no delta)."""
    found = run_sql(con, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name IN "
                         "('docs', 'pending', 'pending_terms', 'corpus')", [FTS_SCHEMA])
    return bool(found[0][0] == 4)


@dataclass(frozen=True)
class Coverage:
    """What search covers: articles in the index, in the delta, and current versions in neither (0 when sound)."""

    indexed: int
    pending: int
    missing: int


def search_coverage(con: duckdb.DuckDBPyConnection) -> Coverage | None:
    """The index's and the delta's sizes, and how many current article versions neither covers; None: no index."""
    if not _has_index(con):
        return None
    [(indexed, pending, missing)] = run_sql(con, f"""
        SELECT (SELECT count(*) FROM {FTS_SCHEMA}.docs WHERE name NOT IN (SELECT article_id FROM {PENDING})),
               (SELECT count(*) FROM {PENDING}),
               (SELECT count(*) FROM ({_CURRENT} EXCEPT SELECT article_id, content_hash FROM {INDEXED}
                                     EXCEPT SELECT article_id, content_hash FROM {PENDING}))""")
    return Coverage(int(indexed), int(pending), int(missing))


def index_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the index and its delta cover exactly the current article versions."""
    coverage = search_coverage(con)
    return coverage is not None and coverage.missing == 0 and not run_sql(con, f"""
        SELECT 1 FROM {INDEXED} s ANTI JOIN ({_CURRENT}) a USING (article_id, content_hash)
        WHERE s.article_id NOT IN (SELECT article_id FROM {PENDING}) LIMIT 1""")


def rebuild_search_index(con: duckdb.DuckDBPyConnection) -> None:
    """Index the current articles (title and text; English stemmer and stopwords), empty the delta and
    (re)create the macro."""
    load_fts(con)
    run_sql(con, _DOCUMENTS)
    run_sql(con, f"PRAGMA create_fts_index('{INDEXED}', 'article_id', 'title', 'text', overwrite = 1)")
    # The postings in term order: a query's few terms then lie in a few row groups, which the scan's zone maps
    # find, instead of in every one (half the macro's time at 10,000 articles; bench/search.py).
    run_sql(con, f"CREATE OR REPLACE TABLE {FTS_SCHEMA}.terms AS SELECT * FROM {FTS_SCHEMA}.terms ORDER BY termid, docid")
    _run_script(con, _DELTA_TABLES)
    run_sql(con, _CORPUS)
    run_sql(con, _MACRO)


def update_search_index(con: duckdb.DuckDBPyConnection, articles_added: int, rebuild_share: float = REBUILD_SHARE
                        ) -> bool:
    """The load's hook: articles new to search go to the delta, or the index is rebuilt when there is none yet or
    the delta would pass `rebuild_share` of the indexed articles. Return whether it rebuilt.

    `articles_added` is what the load says it added; the delta is found from the tables whatever it says (a
    version the index missed, from an interrupted load or an older release, is picked up too)."""
    load_fts(con)
    if not _has_index(con):
        rebuild_search_index(con)
        return True
    run_sql(con, _FRESH)
    [(fresh, pending, indexed)] = run_sql(con, f"""
        SELECT (SELECT count(*) FROM search_fresh), (SELECT count(*) FROM {PENDING}
                WHERE article_id NOT IN (SELECT article_id FROM search_fresh)), (SELECT num_docs FROM {FTS_SCHEMA}.stats)""")
    log.debug("search index upkeep: %d articles added, %d fresh, %d pending, %d indexed",
              articles_added, fresh, pending, indexed)
    if fresh + pending > rebuild_share * indexed:
        rebuild_search_index(con)
        return True
    if fresh:
        _run_script(con, _ADD_FRESH)
        run_sql(con, _CORPUS)
    return False


def _run_script(con: duckdb.DuckDBPyConnection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            run_sql(con, statement)


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
    searched = f"""(SELECT article_id, content_hash FROM {INDEXED} WHERE article_id NOT IN (SELECT article_id FROM
                     {PENDING}) UNION ALL SELECT article_id, content_hash FROM {PENDING})"""  # the version scored
    sql = f"""
        WITH top AS (
            SELECT s.article_id, s.score FROM search_articles(?) s
            {f"JOIN {searched} d USING (article_id) JOIN articles a USING (article_id, content_hash)" if dated else ""}
            {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY s.score DESC, s.article_id LIMIT ?
        )
        SELECT top.article_id, top.score, a.title, a.site_name, a.published_at,
               coalesce(a.canonical_url, a.url, a.uri), a.text
        FROM top JOIN {searched} d USING (article_id) JOIN articles a USING (article_id, content_hash)
        ORDER BY top.score DESC, top.article_id"""
    try:
        rows = run_sql(con, sql, params)
    except duckdb.CatalogException:
        raise PermanentError("the warehouse has no search index yet (or one from an older release): run "
                             "`newsdesk run` or `newsdesk search --reindex`") from None
    return [Hit(r[0], round(float(r[1]), 4), r[2], r[3], r[4], r[5], to_snippet(r[6], query)) for r in rows]


def hits_table(hits: Sequence[Hit]) -> tuple[list[str], list[tuple[Any, ...]]]:
    names = ["score", "title", "site", "published_at", "snippet", "url", "article_id"]
    return names, [(h.score, h.title, h.site, h.published_at, h.snippet, h.url, h.article_id) for h in hits]
