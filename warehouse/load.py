"""DuckDB: connections, the one-transaction load of a run, and the queries the flow needs.

Only this package talks to DuckDB. A run's Parquet files are merged inside one
transaction keyed on each table's primary key, so a re-run adds nothing it
already has and a crash before COMMIT leaves the warehouse as it was.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from transforms.errors import PermanentError, TransientError
from transforms.models import Entity
from warehouse.schema import LOAD_ORDER, TABLES, ensure_db_shape, run_sql

log = logging.getLogger(__name__)

_LOCKED = ("Could not set lock", "Conflicting lock", "database is locked", "being used by another")


class WarehouseBusy(TransientError):
    """Another process holds the DuckDB file."""


def connect(path: Path, timeout_s: float = 60.0, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating and migrating it), waiting with backoff while another process holds it."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise PermanentError(f"no warehouse at {path}: run `newsdesk run` first")
    deadline = time.monotonic() + timeout_s
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as err:
            if not any(marker in str(err) for marker in _LOCKED):
                raise PermanentError(f"cannot open warehouse {path}: {err}") from None
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"warehouse {path} is held by another process (a running load or an open reader) "
                    f"for over {timeout_s:.0f} s; close it and run again"
                ) from None
            log.info("warehouse %s is busy; waiting %.1f s", path, delay)
            time.sleep(delay + random.uniform(0, delay / 2))
            delay = min(delay * 2, 5.0)
    if not read_only:
        ensure_db_shape(con)
    return con


def _key_match(table: str, left: str, right: str) -> str:
    return " AND ".join(f'{left}."{k}" = {right}."{k}"' for k in TABLES[table].key)


def _insert_new(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> int:
    """Insert the rows whose key the table does not have yet; return how many."""
    if data.num_rows == 0:
        return 0
    con.register("incoming", data)
    try:
        cols = ", ".join(f'"{c}"' for c in TABLES[table].column_names)
        # Deduplicate inside the batch too (first row per key wins).
        keys = ", ".join(f'"{k}"' for k in TABLES[table].key)
        before = _count(con, table)
        run_sql(
            con,
            f"INSERT INTO {table} ({cols}) "
            f"SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {keys}) AS _rn FROM incoming) i "
            f"WHERE _rn = 1 AND NOT EXISTS (SELECT 1 FROM {table} t WHERE {_key_match(table, 't', 'i')})"
        )
        return _count(con, table) - before
    finally:
        con.unregister("incoming")


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(run_sql(con, f"SELECT count(*) FROM {table}")[0][0])


REBUILD_ALIASES = """
    DELETE FROM entity_aliases;
    INSERT INTO entity_aliases
    SELECT m.entity_id, m.text AS alias, count(*) AS count,
           min(r.started_at) AS first_seen_at, max(r.started_at) AS last_seen_at,
           arg_min(m.run_id, r.started_at) AS run_id
    FROM mentions m LEFT JOIN runs r USING (run_id)
    GROUP BY m.entity_id, m.text;
"""

CHECKS = {
    "mention_offsets": """SELECT count(*) FROM mentions m JOIN articles a USING (article_id, content_hash)
        WHERE substr(a.text, m.start + 1, m."end" - m.start) <> m.text""",
    "quote_offsets": """SELECT count(*) FROM quotes q JOIN articles a USING (article_id, content_hash)
        WHERE substr(a.text, q.start + 1, q."end" - q.start) <> q.text""",
    "speaker_offsets": """SELECT count(*) FROM quotes q JOIN articles a USING (article_id, content_hash)
        WHERE q.speaker_start IS NOT NULL
          AND substr(a.text, q.speaker_start + 1, q.speaker_end - q.speaker_start) <> q.speaker""",
    "orphan_mentions": """SELECT count(*) FROM mentions m WHERE NOT EXISTS
        (SELECT 1 FROM articles a WHERE a.article_id = m.article_id AND a.content_hash = m.content_hash)
        OR NOT EXISTS (SELECT 1 FROM entities e WHERE e.entity_id = m.entity_id)""",
    "orphan_quotes": """SELECT count(*) FROM quotes q WHERE NOT EXISTS
        (SELECT 1 FROM articles a WHERE a.article_id = q.article_id AND a.content_hash = q.content_hash)
        OR (q.speaker_entity_id IS NOT NULL AND NOT EXISTS
            (SELECT 1 FROM entities e WHERE e.entity_id = q.speaker_entity_id))""",
    "orphan_aliases": """SELECT count(*) FROM entity_aliases x WHERE NOT EXISTS
        (SELECT 1 FROM entities e WHERE e.entity_id = x.entity_id)""",
    "rows_without_run": """SELECT (SELECT count(*) FROM articles WHERE run_id NOT IN (SELECT run_id FROM runs))
        + (SELECT count(*) FROM mentions WHERE run_id NOT IN (SELECT run_id FROM runs))
        + (SELECT count(*) FROM quotes WHERE run_id NOT IN (SELECT run_id FROM runs))""",
}


def query_checks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Data checks: each is the number of offending rows (0 is good). NOT NULL is enforced by the DDL."""
    out = {}
    for name, sql in CHECKS.items():
        out[name] = int(run_sql(con, sql)[0][0])
    return out


def load_run(
    con: duckdb.DuckDBPyConnection,
    run: Mapping[str, Any],
    tables: Mapping[str, pa.Table],
) -> tuple[dict[str, int], dict[str, int]]:
    """Merge one run's tables and its `runs` row in a single transaction.

    Returns the rows added per table and the data checks (offending rows per check).
    """
    added: dict[str, int] = {}
    before = query_counts(con)
    run_sql(con, "BEGIN TRANSACTION")
    try:
        for table in LOAD_ORDER:
            if table in tables:
                added[table] = _insert_new(con, table, tables[table])
        run_row = dict(run)
        run_row.setdefault("status", "completed")
        cols = TABLES["runs"].column_names
        run_sql(
            con,
            f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            [run_row.get(c) for c in cols],
        )
        for statement in REBUILD_ALIASES.split(";"):
            if statement.strip():
                run_sql(con, statement)
        checks = query_checks(con)
        added.update({t: n - before.get(t, 0) for t, n in query_counts(con).items() if t not in added})
        run_sql(con, "UPDATE runs SET checks = ?, finished_at = now() WHERE run_id = ?", [json.dumps(checks), run["run_id"]])
        run_sql(con, "COMMIT")
    except BaseException:
        try:
            run_sql(con, "ROLLBACK")
        except duckdb.Error:
            pass
        raise
    return added, checks


def query_known_entities(con: duckdb.DuckDBPyConnection) -> list[Entity]:
    rows = run_sql(con, "SELECT entity_id, name, type FROM entities ORDER BY entity_id")
    return [Entity(entity_id=r[0], name=r[1], type=r[2]) for r in rows]


def query_loaded_raw(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """uri -> raw hash of its newest loaded version, so unchanged inputs skip extraction."""
    rows = con.execute(
        "SELECT uri, raw_hash FROM current_articles WHERE raw_hash IS NOT NULL"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def query_validators(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """url -> ETag/Last-Modified/content hash of its newest successful fetch (for conditional GET)."""
    rows = con.execute(
        """SELECT url, etag, last_modified, content_hash FROM (
               SELECT *, row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) AS rn
               FROM fetches WHERE status = 200 AND content_hash IS NOT NULL)
           WHERE rn = 1"""
    ).fetchall()
    return {r[0]: {"etag": r[1], "last_modified": r[2], "content_hash": r[3]} for r in rows}


def query_run_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in run_sql(con, "SELECT run_id FROM runs")]


def query_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {name: _count(con, name) for name in TABLES}


def query_table(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one user query; return column names and rows."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return names, cursor.fetchall()


def stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")
