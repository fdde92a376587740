"""`newsdesk sql` and `newsdesk search` as library calls: what to query, on which warehouse, read-only.

Each raises ConfigError (exit 2) for what the user must fix: no query, no such query file,
no warehouse yet, `--at` on a DuckDB file, a date that is not one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from flows.settings import Settings
from transforms.errors import ConfigError, PermanentError

QUERIES_DIR = Path(__file__).resolve().parent.parent / "warehouse" / "queries"
Table = tuple[list[str], list[tuple[Any, ...]]]


def resolve_query_file(name: str) -> Path:
    """A .sql file by path, or by name in warehouse/queries/."""
    path = Path(name)
    if path.exists():
        return path
    candidate = QUERIES_DIR / (name if name.endswith(".sql") else f"{name}.sql")
    if candidate.exists():
        return candidate
    known = ", ".join(sorted(p.stem for p in QUERIES_DIR.glob("*.sql")))
    raise ConfigError(f"no query file {name!r}; named queries: {known}")


def query_warehouse(settings: Settings, query: str | None, file: str | None, at: str | None = None,
                    on_wait: Callable[[str], None] | None = None) -> Table:
    """The result of `query` (or of query `file`) on the warehouse, read-only (at a DuckLake snapshot with `at`).

    A query the database refuses raises `duckdb.Error`.
    """
    from warehouse.backend import connect, is_lakehouse
    from warehouse.load import OFFLINE, query_table

    if at and not is_lakehouse(settings.warehouse):
        raise ConfigError("--at needs a DuckLake warehouse (ducklake:...); a DuckDB file keeps only its current state")
    if file:
        query = resolve_query_file(file).read_text(encoding="utf-8")
    if not query:
        raise ConfigError("give a query or --file (see newsdesk sql --help)")
    if not is_lakehouse(settings.warehouse) and not Path(settings.warehouse).exists():
        raise ConfigError(f"no warehouse at {settings.warehouse}: run `newsdesk run` first, or give --warehouse")
    try:
        con = connect(settings.warehouse, settings.lock_timeout_s, read_only=True, lake=settings.lake,
                      storage_options=settings.storage_options(), at=at, config=OFFLINE, on_wait=on_wait)
    except PermanentError as err:  # no such warehouse or snapshot: what to query is wrong (exit 2)
        raise ConfigError(str(err)) from None
    try:
        return query_table(con, query)
    finally:
        con.close()


def search_warehouse(settings: Settings, query: str, since: str | None, entity: str | None, speaker: str | None,
                     limit: int, reindex: bool = False) -> Table:
    """The BM25 hits for `query` as a table (title, site, date, snippet ...); with `reindex`, the index is rebuilt
    first (read-write, waiting for the warehouse like a load)."""
    from warehouse.backend import connect, is_lakehouse
    from warehouse.search import hits_table, query_search, rebuild_search_index

    if since:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise ConfigError(f"--since {since!r} is not a date: give it as YYYY-MM-DD") from None
    if reindex:
        if not is_lakehouse(settings.warehouse) and not Path(settings.warehouse).exists():
            raise ConfigError(f"no warehouse at {settings.warehouse}: run `newsdesk run` first, or give --warehouse")
        con = connect(settings.warehouse, settings.lock_timeout_s, lake=settings.lake,
                      storage_options=settings.storage_options())
        try:
            con.execute("BEGIN TRANSACTION")
            rebuild_search_index(con)
            con.execute("COMMIT")
        finally:
            con.close()
    con = connect(settings.warehouse, settings.lock_timeout_s, read_only=True, lake=settings.lake,
                  storage_options=settings.storage_options())
    try:
        hits = query_search(con, query, since, entity, speaker, limit)
    finally:
        con.close()
    return hits_table(hits)
