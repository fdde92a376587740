"""The DuckLake backend: a catalog in PostgreSQL (or SQLite, or a DuckDB file), data as Parquet files.

Extensions come from their PyPI packages (duckdb-extension-ducklake, -postgres, -sqlite, -httpfs) and are
LOADed by path: nothing is installed or downloaded at run time.

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
import os
import random
import re
import tempfile
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pyarrow as pa

from transforms.errors import PermanentError, TransientError
from warehouse.load import _validate, query_checks
from warehouse.schema import LOAD_ORDER, TABLES, ensure_db_shape, rollback, run_sql

log = logging.getLogger(__name__)

CATALOG = "newsdesk"  # the name the attached catalog gets (`newsdesk.articles` works too)
DUCKDB_VERSION = "v1.5.5"
# package, file in the package, the name DuckDB expects (its entry point is named after the file)
EXTENSIONS = {
    "ducklake": ("duckdb_extension_ducklake", "ducklake", "ducklake"),
    "postgres": ("duckdb_extension_postgres", "postgres", "postgres_scanner"),
    "sqlite": ("duckdb_extension_sqlite", "sqlite", "sqlite_scanner"),
    "httpfs": ("duckdb_extension_httpfs", "httpfs", "httpfs"),
}
MAX_ATTEMPTS = 50  # commit conflicts one batch may meet before it gives up (each waits a little longer)
CONFLICT = ("Transaction conflict", "conflict", "Failed to commit")


class CatalogUnreachable(TransientError):
    """The DuckLake catalog's database does not answer."""


def extension_path(name: str) -> str:
    """The extension file from its PyPI package, under the name DuckDB wants (a link in a temp folder)."""
    package, stem, wanted = EXTENSIONS[name]
    try:
        module = __import__(package)
    except ImportError:
        raise PermanentError(f"the DuckDB {name} extension is not installed: pip install {package.replace('_', '-')}"
                             f"=={DUCKDB_VERSION[1:]}") from None
    source = Path(module.__file__ or "").parent / "extensions" / DUCKDB_VERSION / f"{stem}.duckdb_extension"
    if stem == wanted:
        return str(source)
    folder = Path(tempfile.gettempdir()) / f"newsdesk-duckdb-extensions-{os.getuid()}" / DUCKDB_VERSION
    link = folder / f"{wanted}.duckdb_extension"
    if not link.exists():
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{wanted}.{os.getpid()}.tmp"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(source)
        os.replace(temporary, link)
    return str(link)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _register_storage(con: duckdb.DuckDBPyConnection, data: str, storage_options: dict[str, Any] | None) -> None:
    """Make the data path reachable: a local folder is created; S3 (and GCS, HTTP) go through DuckDB's httpfs
    (from its PyPI package) with an S3 secret made from the lake's own storage options; any other fsspec
    URL through fsspec itself."""
    protocol = data.split("://", 1)[0] if "://" in data else ""
    if not protocol or protocol in ("file", "local"):
        Path(data.split("://", 1)[-1]).mkdir(parents=True, exist_ok=True)
    elif protocol in ("s3", "s3a", "gs", "gcs", "r2", "http", "https"):
        con.execute(f"LOAD {_quote(extension_path('httpfs'))}")
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
        con.execute(f"LOAD {_quote(extension_path('ducklake'))}")
        if kind in ("postgres", "sqlite"):
            con.execute(f"LOAD {_quote(extension_path(kind))}")
        _register_storage(con, data, storage_options)
        options = [f"DATA_PATH {_quote(data)}"] if not read_only else []
        if read_only:
            options.append("READ_ONLY")
        if at:
            options.append(_at_option(at))
        attach = f"ATTACH {_quote(warehouse)} AS {CATALOG}" + (f" ({', '.join(options)})" if options else "")
        _attach(con, attach, warehouse)
        con.execute(f"USE {CATALOG}")
        if not read_only:
            _retry_conflicts(lambda: ensure_db_shape(con), f"creating the tables of {warehouse}")
            _retry_conflicts(lambda: _ensure_lock(con), f"creating the load lock of {warehouse}")
        elif not run_sql(con, "SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                              "AND table_name = 'runs'"):
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


def _retry_conflicts(work: Any, what: str) -> Any:
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

    return _retry_conflicts(attempt, what)


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


def load_batch(con: duckdb.DuckDBPyConnection, run: Mapping[str, Any], tables: Mapping[str, pa.Table]) -> dict[str, int]:
    """Merge one batch's tables in one transaction (retried on a commit conflict); return the rows added."""
    run_id = str(run["run_id"])
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
                    _add_aliases(con, fresh, run_id, run["started_at"])
        return added

    if not any(data.num_rows for data in tables.values()):
        return {}
    return dict(_in_load_transaction(con, merge, f"batch of run {run_id}"))


def begin_run(con: duckdb.DuckDBPyConnection, run: Mapping[str, Any]) -> None:
    """Record the run as `running` before its first batch commits (every row names a recorded run)."""
    row = {**run, "status": "running"}

    def insert(con: duckdb.DuckDBPyConnection) -> None:
        if not run_sql(con, "SELECT 1 FROM runs WHERE run_id = ?", [str(run["run_id"])]):
            _insert(con, "runs", pa.Table.from_pylist([row], schema=TABLES["runs"].arrow_schema))

    _in_load_transaction(con, insert, f"start of run {run['run_id']}")


def finish_run(con: duckdb.DuckDBPyConnection, run: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """Complete the run's row with its counts and data checks; return the rows it added and the checks.

    The batches already committed the rows; what this run added is what carries its run_id (a row
    another run had already is not added again, so it keeps that run's id).
    """
    import json

    run_id = str(run["run_id"])
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
        row = {**run, "checks": json.dumps(checks)}
        row.setdefault("status", "completed")
        row["finished_at"] = datetime.now(tz=run["started_at"].tzinfo)
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
