"""The DuckLake backend: a catalog in PostgreSQL (or SQLite, or a DuckDB file), data as Parquet files.

Connecting (extensions from their PyPI packages, storage, ATTACH) is warehouse/catalog.py.

Writers: every batch merges its own rows (`load_batch`) in one DuckLake transaction, keyed exactly
as the file backend's `load_run` (a row whose key is there is not added again; first row per key
wins inside a batch). DuckLake runs transactions under snapshot isolation, and two concurrent
inserts into one table do not conflict, so two batches adding the same entity could both see it
missing. Every load transaction therefore also updates the single row of `load_lock`: two commits
that overlap both delete that row, DuckLake refuses the second one ("transaction conflict"), and
`load_batch` runs it again on the newer snapshot, where the first batch's keys are visible. The
merge is serial at the commit (a few milliseconds), the work before it is parallel.

Readers attach the catalog read-only and see the last committed snapshot: a batch's rows (articles,
mentions, entities, quotes, fetches, rejects and the aliases they add) appear together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from transforms.models import RunRecord
from warehouse.catalog import retry_conflicts
from warehouse.load import _validate, query_checks
from warehouse.schema import LOAD_ORDER, TABLES, rollback, run_sql

log = logging.getLogger(__name__)


def _in_load_transaction(con: duckdb.DuckDBPyConnection, work: Any, what: str) -> Any:
    """`work(con)` inside a transaction that also takes the load lock; retried whole on a conflict."""

    def attempt() -> Any:
        run_sql(con, "BEGIN TRANSACTION")
        try:
            run_sql(con, "UPDATE load_lock SET commits = commits + 1")
            result = work(con)
            run_sql(con, "COMMIT")
            return result
        except BaseException:
            rollback(con)
            raise

    return retry_conflicts(attempt, what)


def _new_rows(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> pa.Table:
    """The rows of `data` whose key the table lacks (first row per key inside `data`)."""
    cols = ", ".join(f'"{c}"' for c in TABLES[table].column_names)
    keys = ", ".join(f'"{k}"' for k in TABLES[table].key)
    match = " AND ".join(f't."{k}" = i."{k}"' for k in TABLES[table].key)
    con.register("incoming", data)
    try:
        return con.execute(
            f"SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {keys}) AS _rn FROM incoming) i "
            f"WHERE _rn = 1 AND NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})"
        ).to_arrow_table()
    finally:
        con.unregister("incoming")


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    con.register("fresh", rows)
    try:
        cols = ", ".join(f'"{c}"' for c in TABLES[table].column_names)
        run_sql(con, f"INSERT INTO {table} ({cols}) SELECT {cols} FROM fresh")
    finally:
        con.unregister("fresh")


_BATCH_ALIASES = "(SELECT entity_id, text AS alias, count(*) AS n FROM fresh_mentions GROUP BY ALL) n"
ADD_ALIASES = (
    f"""UPDATE entity_aliases AS a SET count = a.count + n.n,
        run_id = CASE WHEN $at < a.first_seen_at THEN $run ELSE a.run_id END,
        first_seen_at = least(a.first_seen_at, $at), last_seen_at = greatest(a.last_seen_at, $at)
    FROM {_BATCH_ALIASES} WHERE a.entity_id = n.entity_id AND a.alias = n.alias""",
    f"""INSERT INTO entity_aliases (entity_id, alias, count, first_seen_at, last_seen_at, run_id)
    SELECT n.entity_id, n.alias, n.n, $at, $at, $run FROM {_BATCH_ALIASES}
    WHERE NOT EXISTS (SELECT 1 FROM entity_aliases a WHERE a.entity_id = n.entity_id AND a.alias = n.alias)""",
)


def _add_aliases(con: duckdb.DuckDBPyConnection, mentions: pa.Table, run_id: str, at: datetime) -> None:
    """Count the batch's new mentions into `entity_aliases`: what the file backend's rebuild counts, but
    incrementally (a batch costs what it holds, not what the warehouse holds)."""
    con.register("fresh_mentions", mentions)
    try:
        for statement in ADD_ALIASES:
            con.execute(statement, {"at": at, "run": run_id}).fetchall()
    finally:
        con.unregister("fresh_mentions")


def load_batch(con: duckdb.DuckDBPyConnection, run: RunRecord, tables: Mapping[str, pa.Table]) -> dict[str, int]:
    """Merge one batch's tables in one transaction (retried on a commit conflict); return the rows added."""
    run_id = run.run_id
    _validate(run_id, tables)

    def merge(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        added: dict[str, int] = {}
        for table in LOAD_ORDER:
            data = tables.get(table)
            if data is None or not data.num_rows:
                continue
            fresh = _new_rows(con, table, data)
            added[table] = fresh.num_rows
            if fresh.num_rows:
                _insert(con, table, fresh)
                if table == "mentions":
                    _add_aliases(con, fresh, run_id, run.started_at)
        return added

    if not any(data.num_rows for data in tables.values()):
        return {}
    return dict(_in_load_transaction(con, merge, f"batch of run {run_id}"))


def begin_run(con: duckdb.DuckDBPyConnection, run: RunRecord) -> None:
    """Record the run as `running` before its first batch commits (every row names a recorded run)."""
    row = {**run.row(), "status": "running"}

    def insert(con: duckdb.DuckDBPyConnection) -> None:
        if not run_sql(con, "SELECT 1 FROM runs WHERE run_id = ?", [run.run_id]):
            _insert(con, "runs", pa.Table.from_pylist([row], schema=TABLES["runs"].arrow_schema))

    _in_load_transaction(con, insert, f"start of run {run.run_id}")


def finish_run(con: duckdb.DuckDBPyConnection, run: RunRecord) -> tuple[dict[str, int], dict[str, int]]:
    """Complete the run's row with its counts and data checks; return the rows it added and the checks.

    The batches already committed the rows; what this run added is what carries its run_id (a row
    another run had already is not added again, so it keeps that run's id).
    """
    import json

    run_id = run.run_id
    done = run_sql(con, "SELECT checks FROM runs WHERE run_id = ? AND status <> 'running'", [run_id])
    if done:
        return {name: 0 for name in TABLES}, json.loads(done[0][0] or "{}")

    def complete(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        from warehouse.stories import load_duplicates_and_stories

        # From the run's fingerprints, as the file backend's load does, and from those a killed run committed
        # batch by batch but never finished (its fingerprints keep its run id; a re-run adds none again).
        unfinished = run_sql(con, "SELECT DISTINCT f.run_id FROM article_fingerprints f WHERE f.run_id <> ? AND NOT "
                                  "EXISTS (SELECT 1 FROM stories s WHERE s.article_id = f.article_id) ORDER BY 1",
                             [run_id])
        for (earlier,) in unfinished:
            load_duplicates_and_stories(con, str(earlier))
        load_duplicates_and_stories(con, run_id)
        checks = query_checks(con, run_id)
        row = {**run.row(), "checks": json.dumps(checks), "finished_at": datetime.now(tz=run.started_at.tzinfo)}
        run_sql(con, "DELETE FROM runs WHERE run_id = ?", [run_id])
        _insert(con, "runs", pa.Table.from_pylist([row], schema=TABLES["runs"].arrow_schema))
        return checks

    checks = _in_load_transaction(con, complete, f"end of run {run_id}")
    added = {name: int(run_sql(con, f"SELECT count(*) FROM {name} WHERE run_id = ?", [run_id])[0][0])
             for name in TABLES if name != "runs"}
    added["runs"] = 1
    failed = {name: n for name, n in checks.items() if n}
    if failed:
        log.warning("run %s loaded, but data checks found offending rows: %s", run_id, failed)
    return added, checks
