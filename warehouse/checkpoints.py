"""WARC checkpoints: a run over WARC files loads each batch as it finishes, with the file's new offset.

A WARC of CC-NEWS holds tens of thousands of articles and takes hours to
process, so a run that reads WARCs does not keep everything for one load at
the end: each WARC batch is merged into the warehouse together with its file's
checkpoint (the byte offset of the first record not loaded yet) in one
transaction, in file order. A run interrupted at any moment therefore resumes
at the checkpoint with nothing lost and nothing loaded twice, and a file read
to its end is skipped next time. The run's `runs` row says `running` until the
run's final load (`load.load_run`) completes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from transforms.models import RunRecord
from warehouse.load import _insert_new
from warehouse.schema import LOAD_ORDER, TABLES, rollback, run_sql

RUNNING = "running"


def query_checkpoints(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, bool]]:
    """file -> (offset to resume at, read to its end)."""
    return {file: (int(offset), bool(done)) for file, offset, done in
            run_sql(con, "SELECT file, \"offset\", done FROM warc_checkpoints")}


def query_warc_uris(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The `warc:` addresses of every record that was extracted or rejected at extraction, for `reextract`."""
    rows = run_sql(con, """
        SELECT uri FROM articles WHERE source = 'warc'
        UNION SELECT uri FROM rejects WHERE uri LIKE 'warc:%' AND stage <> 'read'
        ORDER BY 1""")
    return [r[0] for r in rows]


def load_checkpoint(con: duckdb.DuckDBPyConnection, run: RunRecord, tables: Mapping[str, pa.Table],
                    file: str, start: int, offset: int, records: int, done: bool) -> dict[str, int]:
    """Merge one WARC batch's tables and move its file's checkpoint, in one transaction; rows added per table.

    The batch was read from byte `start` (0: the file is read from its beginning, its count starts again),
    `records` is how many records it loaded, `offset` where the next batch starts.
    """
    run_id = run.run_id
    now = datetime.now(UTC)
    added: dict[str, int] = {}
    run_sql(con, "BEGIN TRANSACTION")
    try:
        if not run_sql(con, "SELECT 1 FROM runs WHERE run_id = ?", [run_id]):
            run_sql(con, "INSERT INTO runs (run_id, flow_run_id, started_at, status, settings) VALUES (?, ?, ?, ?, ?)",
                    [run_id, run.flow_run_id, run.started_at, RUNNING, run.settings or "{}"])
        for table in LOAD_ORDER:
            if table in tables:
                missing = [c for c in TABLES[table].column_names if c not in tables[table].column_names]
                if missing:
                    raise ValueError(f"run {run_id}: {table} lacks columns {missing}")
                added[table] = _insert_new(con, table, tables[table])
        run_sql(con, """
            INSERT INTO warc_checkpoints VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (file) DO UPDATE SET "offset" = excluded."offset", records = excluded.records
                + CASE WHEN ? = 0 THEN 0 ELSE warc_checkpoints.records END,
                done = excluded.done, run_id = excluded.run_id, updated_at = excluded.updated_at""",
                [file, offset, records, done, run_id, now, start])
        run_sql(con, "COMMIT")
    except BaseException:
        rollback(con)
        raise
    return added

