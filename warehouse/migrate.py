"""`newsdesk migrate`: copy a warehouse into another backend (DuckDB file <-> DuckLake), then verify.

Every table is copied in pieces (memory stays flat) and merged on its key in one transaction on
the target, so a migration that is run again (after a crash, or to catch up) adds only what is
missing. The copy is verified table by table: the same row count, and the same keys (an
order-free checksum of every key on both sides).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from transforms.errors import PermanentError
from warehouse import backend
from warehouse.load import _insert_new
from warehouse.schema import TABLES, run_sql

PIECE_ROWS = 50_000
# Parents before children, and the derived tables with them: the target's data checks hold at the end.
COPY_ORDER = ("runs", "articles", "entities", "mentions", "entity_aliases", "quotes", "fetches", "rejects",
              "article_fingerprints", "duplicates", "stories")


def query_key_digest(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """Rows and an order-free checksum of every row's key (equal keys give equal digests on any backend)."""
    keys = ", ".join(f'"{k}"' for k in TABLES[table].key)
    found = run_sql(con, f"SELECT count(*), coalesce(sum(hash({keys})::HUGEINT), 0) FROM {table}")[0]
    return int(found[0]), int(found[1])


def _pieces(con: duckdb.DuckDBPyConnection, table: str) -> Any:
    cols = ", ".join(f'"{c}"' for c in TABLES[table].column_names)
    reader = con.execute(f"SELECT {cols} FROM {table}").to_arrow_reader(PIECE_ROWS)
    schema = TABLES[table].arrow_schema
    for batch in reader:
        yield pa.Table.from_batches([batch]).cast(schema)


def copy_tables(source: duckdb.DuckDBPyConnection, target: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Merge every table of `source` into `target` in one transaction; return the rows added per table."""
    added = {name: 0 for name in COPY_ORDER}
    run_sql(target, "BEGIN TRANSACTION")
    try:
        for table in COPY_ORDER:
            for piece in _pieces(source, table):
                added[table] += _insert_new(target, table, piece)
        run_sql(target, "COMMIT")
    except BaseException:
        try:
            run_sql(target, "ROLLBACK")
        except duckdb.Error:
            pass
        raise
    return added


def migrate_warehouse(source: str | Path, target: str | Path, lake: str = "warehouse/lake",
                      storage_options: dict[str, Any] | None = None,
                      timeout_s: float = 60.0) -> dict[str, tuple[int, int, int]]:
    """Copy `source` into `target` (created when missing); return table -> (source rows, target rows, added).

    Raises PermanentError when the target does not hold every source row afterwards (a target that
    already held other rows is fine: its rows stay, and the source's keys must all be there).
    """
    if str(source) == str(target):
        raise PermanentError("migrate: the target is the configured warehouse itself; give another one with --to")
    src = backend.connect(source, timeout_s, read_only=True, lake=lake, storage_options=storage_options)
    try:
        dst = backend.connect(target, timeout_s, lake=lake, storage_options=storage_options)
        try:
            added = copy_tables(src, dst)
            report = {}
            for table in COPY_ORDER:
                rows, digest = query_key_digest(src, table)
                target_rows, target_digest = query_key_digest(dst, table)
                missing = _missing_keys(src, dst, table) if (rows, digest) != (target_rows, target_digest) else 0
                if missing:
                    raise PermanentError(f"migrate: {missing} {table} keys of the source are not in the target "
                                         f"({rows} rows there, {target_rows} here); nothing was removed, run it again")
                report[table] = (rows, target_rows, added[table])
            return report
        finally:
            dst.close()
    finally:
        src.close()


def _missing_keys(src: duckdb.DuckDBPyConnection, dst: duckdb.DuckDBPyConnection, table: str) -> int:
    """Source keys absent from the target (only asked when the digests differ: a target with more rows)."""
    keys = ", ".join(f'"{k}"' for k in TABLES[table].key)
    theirs = run_sql(dst, f"SELECT DISTINCT {keys} FROM {table}")
    present = set(theirs)
    return sum(1 for row in run_sql(src, f"SELECT DISTINCT {keys} FROM {table}") if row not in present)
