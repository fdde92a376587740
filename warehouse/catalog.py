"""Connecting to a DuckLake catalog: extensions, the data path's storage, ATTACH, and the tables it needs.

The catalog lives in PostgreSQL (or SQLite, or a DuckDB file), the data as Parquet files in a
folder or object storage. See warehouse/ducklake.py for how batches load into it.
"""

from __future__ import annotations

import logging
import random
import re
import time
from pathlib import Path
from typing import Any

import duckdb
import fsspec

from transforms.errors import PermanentError, TransientError
from warehouse.extensions import load_extension, quote as _quote
from warehouse.schema import ensure_db_shape, rollback, run_sql

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 50  # commit conflicts one batch may meet before it gives up (each waits a little longer)
CONFLICT = ("Transaction conflict", "conflict", "Failed to commit")
CATALOG = "newsdesk"  # the name the attached catalog gets (`newsdesk.articles` works too)


class CatalogUnreachable(TransientError):
    """The DuckLake catalog's database does not answer."""


def _register_storage(con: duckdb.DuckDBPyConnection, data: str, storage_options: dict[str, Any] | None,
                      create: bool = True) -> None:
    """Make the data path reachable: a local folder is created (with `create`: a reader creates nothing); S3
    (and GCS, HTTP) go through DuckDB's httpfs (from its PyPI package) with an S3 secret made from the lake's
    own storage options; any other fsspec URL through fsspec itself."""
    protocol = data.split("://", 1)[0] if "://" in data else ""
    if not protocol or protocol in ("file", "local"):
        if create:
            Path(data.split("://", 1)[-1]).mkdir(parents=True, exist_ok=True)
    elif protocol in ("s3", "s3a", "gs", "gcs", "r2", "http", "https"):
        load_extension(con, "httpfs")
        if protocol in ("s3", "s3a"):
            con.execute(_s3_secret(storage_options or {}))
    else:
        con.register_filesystem(fsspec.filesystem(protocol, **(storage_options or {})))


def _s3_secret(options: dict[str, Any]) -> str:
    """A DuckDB S3 secret equivalent to the s3fs options of the lake (endpoint, keys; else AWS's own chain)."""
    client = options.get("client_kwargs") or {}
    endpoint = client.get("endpoint_url") or options.get("endpoint_url")
    key, secret, token = options.get("key"), options.get("secret"), options.get("token")
    region = client.get("region_name")
    if not key:
        import botocore.session  # the AWS credential chain, as s3fs resolves it

        session = botocore.session.get_session()
        found = session.get_credentials()
        if found is not None:
            frozen = found.get_frozen_credentials()
            key, secret, token = frozen.access_key, frozen.secret_key, frozen.token
        region = region or session.get_config_variable("region")
    parts = ["TYPE s3", f"REGION {_quote(region or 'us-east-1')}"]
    if key:
        parts += [f"KEY_ID {_quote(key)}", f"SECRET {_quote(secret or '')}"]
    if token:
        parts.append(f"SESSION_TOKEN {_quote(token)}")
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        parts += [f"ENDPOINT {_quote(host.rstrip('/'))}", "URL_STYLE 'path'", f"USE_SSL {scheme == 'https'}"]
    return f"CREATE OR REPLACE SECRET newsdesk_s3 ({', '.join(parts)})"


def _at_option(at: str) -> str:
    """`SNAPSHOT_VERSION n` for a snapshot id, `SNAPSHOT_TIME '...'` for a timestamp."""
    if re.fullmatch(r"\d+", at.strip()):
        return f"SNAPSHOT_VERSION {int(at)}"
    return f"SNAPSHOT_TIME {_quote(at.strip())}"


def connect(warehouse: str, data: str, storage_options: dict[str, Any] | None = None, read_only: bool = False,
            at: str | None = None) -> duckdb.DuckDBPyConnection:
    """Attach the catalog `warehouse` (`ducklake:<kind>:<connection>`) as the current database.

    A writer creates the tables and views when they are missing (and `data` holds the Parquet files
    of a new catalog; an existing catalog keeps the data path it was created with).
    """
    spec = warehouse[len("ducklake:"):]
    kind = spec.split(":", 1)[0]
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        load_extension(con, "ducklake")
        if kind in ("postgres", "sqlite"):
            load_extension(con, kind)
        _register_storage(con, data, storage_options, create=not read_only)
        options = [f"DATA_PATH {_quote(data)}"] if not read_only else []
        if read_only:
            options.append("READ_ONLY")
        if at:
            options.append(_at_option(at))
        attach = f"ATTACH {_quote(warehouse)} AS {CATALOG}" + (f" ({', '.join(options)})" if options else "")
        _attach(con, attach, warehouse)
        con.execute(f"USE {CATALOG}")
        if not read_only:
            retry_conflicts(lambda: ensure_db_shape(con), f"creating the tables of {warehouse}")
            retry_conflicts(lambda: _ensure_lock(con), f"creating the load lock of {warehouse}")
        elif not _has_tables(con):
            if at:
                raise PermanentError(f"the DuckLake catalog {warehouse} held no newsdesk tables at {at}: "
                                     "pick a later snapshot (SELECT * FROM newsdesk.snapshots())")
            raise PermanentError(f"the DuckLake catalog {warehouse} holds no newsdesk tables: run `newsdesk run` first")
    except BaseException:
        con.close()
        raise
    return con


def _attach(con: duckdb.DuckDBPyConnection, attach: str, warehouse: str) -> None:
    try:
        con.execute(attach)
    except duckdb.Error as err:
        first = str(err).splitlines()[0]
        if "creating a new DuckLake is explicitly disabled" in first:
            raise PermanentError(f"no DuckLake catalog at {warehouse}: run `newsdesk run` first") from None
        if "snapshot" in first.lower() or "timestamp" in first.lower():
            raise PermanentError(f"no such snapshot in {warehouse}: {first}") from None
        if isinstance(err, duckdb.IOException) or "connect" in first.lower():
            raise CatalogUnreachable(f"cannot open the DuckLake catalog {warehouse}: {first}; "
                                     "is its database running and reachable?") from None
        raise PermanentError(f"cannot open the DuckLake catalog {warehouse}: {first}") from None


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the attached catalog holds newsdesk's tables. A query on `runs` reads only that table's
    entry (duckdb_tables() would load every table's statistics from the catalog: about 0.3 s per reader)."""
    try:
        run_sql(con, "SELECT 1 FROM runs LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def _ensure_lock(con: duckdb.DuckDBPyConnection) -> None:
    """The one-row table every load transaction updates, so that overlapping loads conflict."""
    run_sql(con, "CREATE TABLE IF NOT EXISTS load_lock (commits BIGINT NOT NULL)")
    if not run_sql(con, "SELECT 1 FROM load_lock"):
        run_sql(con, "INSERT INTO load_lock VALUES (0)")


def ensure_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create the analysis views that are missing or changed (a view's comment holds its SQL's hash)."""
    from hashlib import sha256

    from warehouse.views import VIEWS

    current = dict(run_sql(con, "SELECT view_name, comment FROM duckdb_views() WHERE database_name = current_database()"))
    for name, sql in VIEWS.items():
        digest = sha256(sql.encode()).hexdigest()[:16]
        if current.get(name) == digest:
            continue
        run_sql(con, "BEGIN TRANSACTION")
        try:
            run_sql(con, f"CREATE OR REPLACE VIEW {name} AS {sql}")
            run_sql(con, f"COMMENT ON VIEW {name} IS '{digest}'")
            run_sql(con, "COMMIT")
        except BaseException:
            rollback(con)
            raise


def _is_conflict(err: duckdb.Error) -> bool:
    return isinstance(err, duckdb.TransactionException) or any(m in str(err) for m in CONFLICT)


def retry_conflicts(work: Any, what: str) -> Any:
    """Run `work` (which opens and commits its own transactions) again while DuckLake reports conflicts."""
    delay = 0.02
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return work()
        except duckdb.Error as err:
            if not _is_conflict(err) or attempt == MAX_ATTEMPTS:
                raise
            log.info("%s: commit conflict (attempt %d), retrying", what, attempt)
            time.sleep(delay + random.uniform(0, delay))
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")


