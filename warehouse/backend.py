"""Where the warehouse lives: the embedded DuckDB file (the default) or a DuckLake lakehouse.

`warehouse = "warehouse/newsdesk.duckdb"` is one DuckDB file: one writer at a time, the whole run
loaded in one transaction at its end. `warehouse = "ducklake:postgres:dbname=newsdesk host=..."`
(or `ducklake:sqlite:path`, `ducklake:duckdb:path`) is a DuckLake catalog whose data are Parquet
files under `<lake>/ducklake/` (any fsspec URL the lake setting takes): every batch commits its
own rows, readers see the last committed snapshot and never wait. The rest of the code asks this
module for a connection and gets a DuckDB connection either way, with the same tables and views.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from transforms.errors import PermanentError
from transforms.models import RunRecord

DUCKLAKE = "ducklake:"


def is_lakehouse(warehouse: str | Path) -> bool:
    """Whether the warehouse setting names a DuckLake catalog rather than a DuckDB file."""
    return str(warehouse).startswith(DUCKLAKE)


def data_path(lake: str) -> str:
    """Where a DuckLake catalog created by newsdesk keeps its Parquet files: beside the run lake."""
    return lake.rstrip("/") + "/ducklake/"


def connect(warehouse: str | Path, timeout_s: float = 60.0, read_only: bool = False, *,
            lake: str = "warehouse/lake", storage_options: dict[str, Any] | None = None,
            at: str | None = None, config: dict[str, Any] | None = None,
            on_wait: Callable[[str], None] | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse, created and migrated when missing (unless `read_only`).

    `at` (a snapshot id or a timestamp) opens a DuckLake catalog as it was then (read-only).
    """
    if is_lakehouse(warehouse):
        from warehouse import catalog

        if not read_only and not at:  # a writer: this process's one attached catalog
            return _writer(str(warehouse), lake, storage_options)
        return catalog.connect(str(warehouse), data_path(lake), storage_options, read_only=read_only or bool(at),
                                at=at)
    if at:
        raise PermanentError("time travel (--at) needs a DuckLake warehouse (warehouse = \"ducklake:...\"); "
                             "a DuckDB file keeps only its current state")
    from warehouse.load import connect as connect_file

    return connect_file(Path(warehouse), timeout_s, read_only=read_only, config=config, on_wait=on_wait)


def describe(warehouse: str | Path) -> str:
    """The warehouse for messages: a file path, or the catalog without its password."""
    text = str(warehouse)
    if not is_lakehouse(text):
        return text
    return " ".join("password=***" if part.startswith("password=") else part for part in text.split(" "))


_WRITERS: dict[tuple[str, str], duckdb.DuckDBPyConnection] = {}
_WRITERS_LOCK = threading.Lock()


def _writer(warehouse: str, lake: str, storage_options: dict[str, Any] | None) -> duckdb.DuckDBPyConnection:
    """A cursor on this process's DuckLake connection (attaching a catalog costs about a second: once per
    process, not once per batch or task). Closing the cursor leaves the catalog attached."""
    from warehouse import catalog

    key = (warehouse, lake)
    with _WRITERS_LOCK:
        if key not in _WRITERS:
            _WRITERS[key] = catalog.connect(warehouse, data_path(lake), storage_options)
        cursor = _WRITERS[key].cursor()
    cursor.execute("USE newsdesk")
    return cursor


def load_batch(warehouse: str, lake: str, storage_options: dict[str, Any] | None, run: RunRecord,
               tables: Mapping[str, pa.Table]) -> dict[str, int]:
    """Commit one batch's rows to a DuckLake warehouse (see `ducklake.load_batch`)."""
    from warehouse import ducklake

    cursor = _writer(warehouse, lake, storage_options)
    try:
        return ducklake.load_batch(cursor, run, tables)
    finally:
        cursor.close()


def begin_run(warehouse: str, lake: str, storage_options: dict[str, Any] | None, run: RunRecord) -> None:
    """Record a DuckLake run as running before its batches commit (see `ducklake.begin_run`)."""
    from warehouse import ducklake

    cursor = _writer(warehouse, lake, storage_options)
    try:
        ducklake.begin_run(cursor, run)
    finally:
        cursor.close()
