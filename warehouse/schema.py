"""The warehouse contract: every table's columns, Arrow schema and DDL, in one place.

Each table is declared once as a list of columns; the DuckDB DDL and the Arrow
schema are both derived from it, and a test checks that a database built by
the migrations agrees with the Arrow schemas. Schema changes are migrations
(numbered, recorded in `schema_migrations`), applied by `ensure_db_shape`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from dataclasses import dataclass

import duckdb
import pyarrow as pa

BLOCK = pa.struct([("kind", pa.string()), ("start", pa.int32()), ("end", pa.int32())])
PROVENANCE = pa.struct([("field", pa.string()), ("source", pa.string())])

_DUCK = {
    pa.string(): "VARCHAR",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
    pa.list_(pa.string()): "VARCHAR[]",
    pa.list_(pa.int64()): "BIGINT[]",
    pa.list_(BLOCK): 'STRUCT(kind VARCHAR, start INTEGER, "end" INTEGER)[]',
    pa.list_(PROVENANCE): "STRUCT(field VARCHAR, source VARCHAR)[]",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=not c.required) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ddl(self, keys: bool = True) -> str:
        """CREATE TABLE; without `keys` for DuckLake, which has no PRIMARY KEY (the load merges on the key)."""
        cols = [f'"{c.name}" {_DUCK[c.type]}{" NOT NULL" if c.required else ""}' for c in self.columns]
        key = ", ".join(f'"{k}"' for k in self.key)
        return (f"CREATE TABLE IF NOT EXISTS {self.name} (\n  " + ",\n  ".join(cols)
                + (f",\n  PRIMARY KEY ({key})" if keys else "") + "\n)")


S, I, L, F, B = pa.string(), pa.int32(), pa.int64(), pa.float64(), pa.bool_()
TS = pa.timestamp("us", tz="UTC")

ARTICLES = Table(
    "articles",
    (
        Column("article_id", S, True),
        Column("content_hash", S, True),
        Column("raw_hash", S),
        Column("uri", S, True),
        Column("source", S, True),
        Column("url", S),
        Column("canonical_url", S),
        Column("title", S),
        Column("standfirst", S),
        Column("authors", pa.list_(S)),
        Column("published_at", S),
        Column("modified_at", S),
        Column("site_name", S),
        Column("language", S),
        Column("section", S),
        Column("text", S, True),
        Column("blocks", pa.list_(BLOCK)),
        Column("provenance", pa.list_(PROVENANCE)),
        Column("fetch_id", S),
        Column("extractor", S),
        Column("run_id", S, True),
        Column("loaded_at", TS, True),
        Column("language_confidence", F),  # migration 3
        Column("nlp_status", S),  # migration 3: "ok", "unsupported_language", "failed"
    ),
    ("article_id", "content_hash"),
)
MENTIONS = Table(
    "mentions",
    (
        Column("article_id", S, True),
        Column("content_hash", S, True),
        Column("start", I, True),
        Column("end", I, True),
        Column("text", S, True),
        Column("label", S, True),
        Column("canonical", S, True),
        Column("entity_id", S, True),
        Column("method", S),
        Column("run_id", S, True),
    ),
    ("article_id", "content_hash", "start"),
)
ENTITIES = Table(
    "entities",
    (Column("entity_id", S, True), Column("name", S, True), Column("type", S, True), Column("run_id", S, True)),
    ("entity_id",),
)
ENTITY_ALIASES = Table(
    "entity_aliases",
    (
        Column("entity_id", S, True),
        Column("alias", S, True),
        Column("count", L, True),
        Column("first_seen_at", TS),
        Column("last_seen_at", TS),
        Column("run_id", S, True),
    ),
    ("entity_id", "alias"),
)
QUOTES = Table(
    "quotes",
    (
        Column("quote_id", S, True),
        Column("article_id", S, True),
        Column("content_hash", S, True),
        Column("start", I, True),
        Column("end", I, True),
        Column("text", S, True),
        Column("kind", S, True),
        Column("cue", S),
        Column("cue_lemma", S),
        Column("cue_start", I),
        Column("cue_end", I),
        Column("speaker", S),
        Column("speaker_start", I),
        Column("speaker_end", I),
        Column("speaker_entity_id", S),
        Column("confidence", F),
        Column("method", S),
        Column("run_id", S, True),
    ),
    ("quote_id",),
)
REJECTS = Table(
    "rejects",
    (
        Column("reject_id", S, True),
        Column("uri", S, True),
        Column("stage", S, True),
        Column("reason", S, True),
        Column("message", S, True),
        Column("article_id", S),
        Column("fetch_id", S),
        Column("run_id", S, True),
        Column("rejected_at", TS, True),
    ),
    ("reject_id",),
)
FETCHES = Table(
    "fetches",
    (
        Column("fetch_id", S, True),
        Column("url", S, True),
        Column("final_url", S),
        Column("status", I),
        Column("bytes", L),
        Column("elapsed_ms", F),
        Column("content_hash", S),
        Column("content_type", S),
        Column("charset", S),
        Column("etag", S),
        Column("last_modified", S),
        Column("error_class", S),
        Column("error", S),
        Column("attempt", I),
        Column("not_modified", B),
        Column("redirects", I),
        Column("source_name", S),
        Column("fetched_at", TS),
        Column("run_id", S, True),
    ),
    ("fetch_id",),
)
RUNS = Table(
    "runs",
    (
        Column("run_id", S, True),
        Column("flow_run_id", S),
        Column("started_at", TS, True),
        Column("finished_at", TS),
        Column("status", S, True),
        Column("counts", S),  # JSON: per stage
        Column("rejects_by_reason", S),  # JSON
        Column("checks", S),  # JSON: data checks after the load
        Column("versions", S),  # JSON: newsdesk, trafilatura, spaCy, model
        Column("settings", S),  # JSON: what the run was asked to do
    ),
    ("run_id",),
)

# Near-duplicates and stories (warehouse/stories.py): one fingerprint per article version, written by
# the run like articles; duplicates and stories are derived from them inside the load's transaction.
ARTICLE_FINGERPRINTS = Table(
    "article_fingerprints",
    (
        Column("article_id", S, True),
        Column("content_hash", S, True),
        Column("signature", pa.list_(L), True),  # MinHash values (transforms/fingerprints.py)
        Column("bands", pa.list_(L), True),  # LSH band keys
        Column("shingles", I, True),
        Column("run_id", S, True),
    ),
    ("article_id", "content_hash"),
)
DUPLICATES = Table(
    "duplicates",
    (
        Column("article_id", S, True),  # the newer version of the pair
        Column("content_hash", S, True),
        Column("other_article_id", S, True),  # the version it copies or updates
        Column("other_content_hash", S, True),
        Column("kind", S, True),  # same_page | syndicated | updated
        Column("jaccard", F, True),  # estimated from the MinHash signatures
        Column("run_id", S, True),
    ),
    ("article_id", "content_hash", "other_article_id", "other_content_hash"),
)
STORIES = Table(
    "stories",
    (
        Column("article_id", S, True),
        Column("story_id", S, True),
        Column("joined_by", S, True),  # first | duplicate | related (see warehouse/stories.py)
        Column("run_id", S, True),
    ),
    ("article_id",),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (ARTICLES, MENTIONS, ENTITIES, ENTITY_ALIASES, QUOTES, REJECTS, FETCHES, RUNS,
                        ARTICLE_FINGERPRINTS, DUPLICATES, STORIES)
}
# Per-file progress of WARC sources (warehouse/checkpoints.py): not a run table, written as batches load.
WARC_CHECKPOINTS = Table(
    "warc_checkpoints",
    (
        Column("file", S, True),  # absolute path or URL, as in `warc:<file>#<offset>`
        Column("offset", L, True),  # byte offset of the first record not loaded yet
        Column("records", L, True),  # records loaded (documents and rejects)
        Column("done", B, True),  # read to its end: skipped by the next run
        Column("run_id", S, True),  # the run that loaded the last batch
        Column("updated_at", TS, True),
    ),
    ("file",),
)
# Load order: parents before children.
LOAD_ORDER = ("articles", "entities", "mentions", "quotes", "fetches", "rejects", "article_fingerprints")


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Execute and fetch to the end (DuckDB 2 refuses new work while a result is unfinished)."""
    return con.execute(sql, params or []).fetchall()


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """End a failed transaction; a refused COMMIT has already ended it, so a second error is no news."""
    try:
        run_sql(con, "ROLLBACK")
    except duckdb.Error:
        pass


def is_lakehouse(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's current database is a DuckLake catalog (no keys, views kept as they are)."""
    found = run_sql(con, "SELECT type FROM duckdb_databases() WHERE database_name = current_database()")
    return bool(found) and found[0][0] == "ducklake"


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    keys = not is_lakehouse(con)
    for table in TABLES.values():
        run_sql(con, table.ddl(keys))


def _create_views(con: duckdb.DuckDBPyConnection) -> None:
    from warehouse.views import VIEWS

    for name, sql in VIEWS.items():
        run_sql(con, f"CREATE OR REPLACE VIEW {name} AS {sql}")


def _add_language_columns(con: duckdb.DuckDBPyConnection) -> None:
    """The identified language's confidence and the NLP stage's status of each article (issue 15)."""
    run_sql(con, "ALTER TABLE articles ADD COLUMN IF NOT EXISTS language_confidence DOUBLE")
    run_sql(con, "ALTER TABLE articles ADD COLUMN IF NOT EXISTS nlp_status VARCHAR")


def _create_warc_checkpoints(con: duckdb.DuckDBPyConnection) -> None:
    run_sql(con, WARC_CHECKPOINTS.ddl(not is_lakehouse(con)))


# Numbered, append-only. Never edit a migration that has shipped; add one.
MIGRATIONS: tuple[tuple[int, str, Callable[[duckdb.DuckDBPyConnection], None]], ...] = (
    (1, "create tables", _create_tables),
    (2, "create analysis views", _create_views),
    (3, "create article_fingerprints, duplicates and stories", _create_tables),
    (4, "articles: language_confidence, nlp_status", _add_language_columns),
    (5, "create warc_checkpoints", _create_warc_checkpoints),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def ensure_db_shape(con: duckdb.DuckDBPyConnection) -> int:
    """Apply the migrations this database has not seen, each in its own transaction.

    Views are re-created on every call so that a newer newsdesk replaces them.
    Returns the schema version.
    """
    lakehouse = is_lakehouse(con)
    run_sql(
        con,
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        f"version INTEGER {'NOT NULL' if lakehouse else 'PRIMARY KEY'}, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    applied = int(run_sql(con, "SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0])
    for version, name, apply in MIGRATIONS:
        if version <= applied:
            continue
        run_sql(con, "BEGIN TRANSACTION")
        try:
            apply(con)
            run_sql(con, "INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
            run_sql(con, "COMMIT")
        except BaseException:
            run_sql(con, "ROLLBACK")
            raise
    if lakehouse:
        from warehouse.catalog import ensure_views

        ensure_views(con)  # only when changed: every CREATE is a snapshot that concurrent writers would see
    else:
        _create_views(con)
    return SCHEMA_VERSION
