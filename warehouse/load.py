"""DuckDB: connections, the one-transaction load of a run, and the queries the flow needs.

Only this package talks to DuckDB. A run's Parquet files are merged inside one
transaction keyed on each table's primary key, so a re-run adds nothing it
already has and a crash before COMMIT leaves the warehouse as it was.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import NewsdeskError, PermanentError, TransientError
from transforms.models import Entity, RunRecord, Validators
from warehouse.schema import LOAD_ORDER, TABLES, ensure_db_shape, rollback, run_sql
from warehouse.search import load_fts, update_search_index
from warehouse.stories import load_duplicates_and_stories

log = logging.getLogger(__name__)

_LOCKED = ("Could not set lock", "Conflicting lock", "database is locked", "being used by another")


class WarehouseBusy(TransientError):
    """Another process holds the DuckDB file."""


class LoadPending(NewsdeskError):
    """The run's results are in the lake but the warehouse could not be had: they load on the next run."""


# For users' own queries: DuckDB never fetches an extension from the network (no auto-install, and
# INSTALL finds no repository), and the query cannot switch that back on.
OFFLINE = {"autoinstall_known_extensions": False, "custom_extension_repository": "/nonexistent/newsdesk-offline",
           "lock_configuration": True}


def connect(path: Path, timeout_s: float = 60.0, read_only: bool = False,
            config: dict[str, Any] | None = None, on_wait: Callable[[str], None] | None = None
            ) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating and migrating it), waiting with backoff while another process holds it.

    DuckDB lets one process open the file read-write, or any number read-only; a
    process that cannot get the file lock is refused at once. We retry with
    exponential backoff (0.1 s doubling to 5 s, with jitter) and raise
    `WarehouseBusy` once `timeout_s` has passed, before touching any row. `on_wait` is told
    once, at the first refusal, that we wait and who holds the lock.
    """
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise PermanentError(f"no warehouse at {path}: run `newsdesk run` first")
    started = time.monotonic()
    deadline = started + timeout_s
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config or {})
            break
        except duckdb.IOException as err:
            if not any(marker in str(err) for marker in _LOCKED):
                raise PermanentError(f"cannot open warehouse {path}: {err}") from None
            left = deadline - time.monotonic()
            if on_wait is not None and delay == 0.1:
                on_wait(f"waiting up to {timeout_s:g} s for warehouse {path}, locked by another process"
                        f"{_holder(str(err))}")
            if left <= 0:
                raise WarehouseBusy(
                    f"warehouse {path} is held by another process{_holder(str(err))} (a running load or an open "
                    f"reader): waited {time.monotonic() - started:.0f} s (lock_timeout_s = {timeout_s:g}); close it "
                    f"and run again"
                ) from None
            log.info("warehouse %s is busy; waiting %.1f s", path, delay)
            time.sleep(min(delay + random.uniform(0, delay / 2), left))
            delay = min(delay * 2, 5.0)
    if not read_only:
        ensure_db_shape(con)
    load_fts(con)  # search_articles() needs it; loaded by path, never downloaded
    return con


def _holder(message: str) -> str:
    """`(python3.11, PID 1234)` from DuckDB's lock error, when it says."""
    found = re.search(r"Conflicting lock is held in (\S+) \(PID (\d+)\)", message)
    return f" ({found.group(1).rsplit('/', 1)[-1]}, PID {found.group(2)})" if found else ""


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


def _span_check(table: str, alias: str, start: str, end: str, text: str, scope: str, when: str = "TRUE") -> str:
    """Rows whose span is out of its article's text or does not slice to the text the row stores."""
    return f"""SELECT count(*) FROM {table} {alias} JOIN articles a USING (article_id, content_hash)
        WHERE {scope} AND {when} AND ({alias}.{start} IS NULL OR {alias}.{end} IS NULL OR {alias}.{start} < 0
              OR {alias}.{end} < {alias}.{start} OR {alias}.{end} > length(a.text)
              OR {text} IS NULL
              OR substr(a.text, {alias}.{start} + 1, {alias}.{end} - {alias}.{start}) <> {text})"""


def _checks(run_id: str | None) -> dict[str, str]:
    """The data checks' SQL, over the rows one run wrote or (`None`) over the whole warehouse."""

    def mine(alias: str) -> str:
        return "TRUE" if run_id is None else f"{alias}.run_id = '{run_id.replace(chr(39), chr(39) * 2)}'"

    required = [
        f"(SELECT count(*) FROM {t.name} x WHERE {mine('x')} AND ("
        + " OR ".join(f'x."{c.name}" IS NULL' for c in t.columns if c.required) + "))"
        for t in TABLES.values()
    ]
    without_run = [f"(SELECT count(*) FROM {name} x WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = x.run_id))"
                   for name in TABLES if name != "runs"]
    return {
        "mention_offsets": _span_check("mentions", "m", "start", '"end"', "m.text", mine("m")),
        "quote_offsets": _span_check("quotes", "q", "start", '"end"', "q.text", mine("q")),
        "speaker_offsets": _span_check("quotes", "q", "speaker_start", "speaker_end", "q.speaker", mine("q"),
                                       "(q.speaker_start IS NOT NULL OR q.speaker_end IS NOT NULL)"),
        "cue_offsets": _span_check("quotes", "q", "cue_start", "cue_end", "q.cue", mine("q"),
                                   "(q.cue_start IS NOT NULL OR q.cue_end IS NOT NULL)"),
        "block_offsets": f"""SELECT count(*) FROM (SELECT a.text, unnest(a.blocks) AS b FROM articles a WHERE {mine("a")})
            WHERE b.start < 0 OR b."end" < b.start OR b."end" > length(text)""",
        "content_hashes": f"""SELECT count(*) FROM articles a WHERE {mine("a")} AND
            (a.content_hash <> substr(sha256(a.text), 1, length(a.content_hash)) OR length(a.content_hash) < 16)""",
        "orphan_mentions": f"""SELECT count(*) FROM mentions m WHERE {mine("m")} AND (NOT EXISTS
            (SELECT 1 FROM articles a WHERE a.article_id = m.article_id AND a.content_hash = m.content_hash)
            OR NOT EXISTS (SELECT 1 FROM entities e WHERE e.entity_id = m.entity_id))""",
        "orphan_quotes": f"""SELECT count(*) FROM quotes q WHERE {mine("q")} AND (NOT EXISTS
            (SELECT 1 FROM articles a WHERE a.article_id = q.article_id AND a.content_hash = q.content_hash)
            OR (q.speaker_entity_id IS NOT NULL AND NOT EXISTS
                (SELECT 1 FROM entities e WHERE e.entity_id = q.speaker_entity_id)))""",
        # entity_aliases is rebuilt by every load: always checked whole
        "orphan_aliases": """SELECT count(*) FROM entity_aliases x WHERE NOT EXISTS
            (SELECT 1 FROM entities e WHERE e.entity_id = x.entity_id)""",
        "required_nulls": "SELECT " + " + ".join(required),
        # cheap anti-joins: always the whole warehouse
        "rows_without_run": "SELECT " + " + ".join(without_run),
    }


CHECKS = _checks(None)


def query_checks(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> dict[str, int]:
    """Data checks: each is the number of offending rows (0 is good).

    Spans (mentions, quotes, speakers, cues, blocks) must lie inside their article's
    text and slice to the text the row stores; articles must hash to their
    content_hash; mentions and quotes must point at an article version and
    entities that exist, aliases at entities; required columns must be set (the
    DDL says NOT NULL; a database whose schema drifted may not); every row must
    name a loaded run. With `run_id`, the per-row checks cover only the rows that
    run wrote (what `load_run` records, so a load costs what the run holds, not
    what the warehouse holds); without, the whole warehouse.
    """
    return {name: int(run_sql(con, sql)[0][0]) for name, sql in _checks(run_id).items()}


def _validate(run_id: str, tables: Mapping[str, pa.Table]) -> None:
    """Refuse, before the transaction, a run whose files cannot load whole."""
    for name, data in tables.items():
        if name not in LOAD_ORDER:
            if not data.num_rows:
                continue
            raise PermanentError(f"run {run_id}: the lake holds a table {name!r} that a run does not load")
        table = TABLES[name]
        missing = [c for c in table.column_names if c not in data.column_names]
        if missing:
            raise PermanentError(f"run {run_id}: {name} lacks columns {missing}; rewrite the run with this newsdesk")
        for column in table.columns:
            nulls = data.column(column.name).null_count if column.required else 0
            if nulls:
                raise PermanentError(f"run {run_id}: {nulls} {name} rows have no {column.name}; "
                                     f"the run's Parquet files are not from a complete write")
        if data.num_rows:
            foreign = data.num_rows - int(pc.sum(pc.equal(data.column("run_id"), run_id)).as_py() or 0)
            if foreign:
                raise PermanentError(f"run {run_id}: {foreign} {name} rows were written by another run")


def load_run(
    con: duckdb.DuckDBPyConnection,
    run: RunRecord,
    tables: Mapping[str, pa.Table | Iterable[pa.Table]],
) -> tuple[dict[str, int], dict[str, int]]:
    """Merge one run's tables and its `runs` row in a single transaction.

    Each table is an Arrow table or an iterable of pieces (`lake.stream_run`: a
    large run is then never in memory at once; every piece is checked as it
    comes, and a bad one rolls the whole run back). Returns the rows added per
    table and the data checks (offending rows per check). Loading a run that is
    already in the warehouse (a retry after a crash that followed the COMMIT)
    adds nothing and returns that run's recorded checks.
    """
    run_id = run.run_id
    _validate(run_id, {name: data for name, data in tables.items() if isinstance(data, pa.Table)})
    # A run that loaded WARC batches as it went has a 'running' row (warehouse/checkpoints.py): not done yet.
    done = run_sql(con, "SELECT checks FROM runs WHERE run_id = ? AND status <> 'running'", [run_id])
    if done:
        log.info("run %s is already in the warehouse; nothing to load", run_id)
        return {name: 0 for name in TABLES}, json.loads(done[0][0] or "{}")
    added: dict[str, int] = {}
    run_sql(con, "BEGIN TRANSACTION")
    try:
        before = query_counts(con)
        for table in LOAD_ORDER:
            if table in tables:
                data = tables[table]
                added[table] = 0
                whole = isinstance(data, pa.Table)  # whole tables were validated before the transaction
                for piece in [data] if whole else data:
                    if not whole:
                        _validate(run_id, {table: piece})
                    added[table] += _insert_new(con, table, piece)
        stepped = run_sql(con, "DELETE FROM runs WHERE run_id = ? RETURNING run_id", [run_id])  # its 'running' row
        run_row = run.row()
        cols = TABLES["runs"].column_names
        run_sql(
            con,
            f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            [run_row.get(c) for c in cols],
        )
        load_duplicates_and_stories(con, run_id)  # derived from the new fingerprints (warehouse/stories.py)
        # Aliases are derived from mentions: unchanged when the run added none.
        if added.get("mentions", 0) or stepped or not before.get("entity_aliases", 0):
            for statement in REBUILD_ALIASES.split(";"):
                if statement.strip():
                    run_sql(con, statement)
        checks = query_checks(con, run_id)
        added.update({t: n - before.get(t, 0) for t, n in query_counts(con).items() if t not in added})
        # the fts index (warehouse/search.py); a run that loaded WARC batches as it went ('stepped') added its
        # articles before this transaction
        update_search_index(con, added.get("articles", 0) + len(stepped))
        run_sql(con, "UPDATE runs SET checks = ?, finished_at = now() WHERE run_id = ?", [json.dumps(checks), run_id])
        run_sql(con, "COMMIT")
    except BaseException:
        rollback(con)
        raise
    failed = {name: n for name, n in checks.items() if n}
    if failed:
        log.warning("run %s loaded, but data checks found offending rows: %s", run_id, failed)
    return added, checks


def query_known_entities(con: duckdb.DuckDBPyConnection) -> list[Entity]:
    """The warehouse's full person names (what a bare family name in a new article may refer to).

    Only multi-word persons: they are all that entity resolution looks up, and the list
    travels to every NLP job of a run.
    """
    rows = run_sql(con, "SELECT entity_id, name, type FROM entities WHERE type = 'PERSON' AND contains(trim(name), ' ') "
                        "ORDER BY entity_id")
    return [Entity(entity_id=r[0], name=r[1], type=r[2]) for r in rows]


def query_loaded_raw(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """uri -> raw hash of its newest loaded version, so unchanged inputs skip extraction."""
    rows = con.execute(
        "SELECT uri, raw_hash FROM current_articles WHERE raw_hash IS NOT NULL"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def query_validators(con: duckdb.DuckDBPyConnection) -> dict[str, Validators]:
    """url -> ETag/Last-Modified/content hash/time of its newest successful fetch (for conditional GET,
    and to skip a URL whose sitemap <lastmod> is older than that fetch)."""
    rows = con.execute(
        """SELECT url, etag, last_modified, content_hash, fetched_at FROM (
               SELECT *, row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) AS rn
               FROM fetches WHERE status = 200 AND content_hash IS NOT NULL)
           WHERE rn = 1"""
    ).fetchall()
    return {url: Validators(etag, modified, content_hash, fetched_at)
            for url, etag, modified, content_hash, fetched_at in rows}


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
