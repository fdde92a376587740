"""The warehouse's side of a run: claim it, load what busy runs left pending, and load the run.

A DuckDB file warehouse loads a run in one transaction at its end (all of it or none),
except WARC batches, which load as they finish with their files' checkpoints. A DuckLake
warehouse commits each batch's rows as it is written; the run's end completes its row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.known import retried
from flows.run import Run
from flows.warc import CheckpointQueue, WarcSpan
from transforms.models import RecentRun, RunRecord
from warehouse import backend, lake
from warehouse.checkpoints import load_checkpoint
from warehouse.ducklake import finish_run
from warehouse.history import query_recent_runs
from warehouse.load import LoadPending, WarehouseBusy, connect, load_run, query_counts, query_run_ids
from warehouse.pending import load_pending_runs, owner_key


@dataclass(frozen=True)
class Loaded:
    """What the load did: rows added per table, the warehouse's totals, the data checks, the last runs."""

    added: dict[str, int]
    totals: dict[str, int]
    checks: dict[str, int]
    trend: list[RecentRun]


def load_pending_first(run: Run) -> None:
    """Before reading the warehouse's state: a DuckDB file loads the runs a busy warehouse left pending."""
    o = run.options
    if not run.lakehouse:
        claim_run(o.lake_url, o.storage_options, run.run_id, o.warehouse)
        if pending := load_pending(o.warehouse, o.lake_url, o.storage_options, o.lock_timeout_s):
            get_run_logger().info("loaded %d pending runs first: %s", len(pending), ", ".join(pending))


def begin(run: Run) -> None:
    """Before the first batch: a DuckLake warehouse records the run as running (its batches commit as they go)."""
    if run.lakehouse:
        o = run.options
        begin_run(run.lakehouse, o.lake_url, o.storage_options, run.row())


@task(cache_policy=NO_CACHE)
def claim_run(lake_url: str, storage_options: dict[str, Any], run_id: str, warehouse: str) -> None:
    fs, root = lake.lake_filesystem(lake_url, storage_options)
    lake.write_owner(fs, root, run_id, owner_key(warehouse))


@task(cache_policy=NO_CACHE)
def load_pending(warehouse: str, lake_url: str, storage_options: dict[str, Any], lock_timeout_s: float) -> list[str]:
    """Load the runs a busy warehouse left pending in the lake (oldest first); return their ids."""
    return load_pending_runs(Path(warehouse), lake_url, storage_options, lock_timeout_s)


@retried
def begin_run(warehouse: str, lake_url: str, storage_options: dict[str, Any], run: RunRecord) -> None:
    backend.begin_run(warehouse, lake_url, storage_options, run)


@dataclass
class WarcLoads:
    """A run's WARC batches, loaded with their files' checkpoints as soon as they and their files' earlier
    batches have finished (so a checkpoint only ever moves over records that are all in the warehouse)."""

    run: Run
    queue: CheckpointQueue = field(default_factory=CheckpointQueue)
    added: dict[str, int] = field(default_factory=dict)

    def claim(self, part: int, span: WarcSpan) -> None:
        self.queue.claim(part, span)

    def finished(self, part: int) -> None:
        """Load the WARC batches that may load now (this one and those waiting on it)."""
        o, run = self.run.options, self.run
        row = run.row({"seeds": o.seeds, "warehouse": o.warehouse, "sources": [s.name for s in o.warc_sources]})
        for ready, span in self.queue.finish(part):
            loaded = load_warc_part(o.warehouse, o.lake_url, o.storage_options, row, ready, span, o.lock_timeout_s)
            for table, n in loaded.items():
                self.added[table] = self.added.get(table, 0) + n

    @property
    def loaded(self) -> frozenset[int]:
        return frozenset(self.queue.loaded)


@retried
def load_warc_part(warehouse: str, lake_url: str, storage_options: dict[str, Any], run: RunRecord, part: int,
                   span: WarcSpan, lock_timeout_s: float) -> dict[str, int]:
    fs, root = lake.lake_filesystem(lake_url, storage_options)
    tables = lake.read_part(fs, root, run.run_id, part)
    con = connect(Path(warehouse), lock_timeout_s)
    try:
        if span.broken:  # unreadable from `start` on (unreachable, corrupt): the next run tries again from there
            return load_checkpoint(con, run, tables, span.location, span.start, span.start, span.taken, False)
        offset = span.end if span.next_offset is None else span.next_offset
        return load_checkpoint(con, run, tables, span.location, span.start, offset, span.taken, span.next_offset is None)
    finally:
        con.close()


def load(run: Run, row: RunRecord, warc: WarcLoads) -> Loaded:
    """Load the run (its WARC batches are loaded already) and say what the warehouse holds now."""
    o = run.options
    added, totals, checks, trend = load_warehouse(o.warehouse, o.lake_url, o.storage_options, row, o.lock_timeout_s,
                                                  warc.loaded)
    added = {table: n + warc.added.get(table, 0) for table, n in added.items()}
    return Loaded(added, totals, checks, trend)


# No task retries: `connect` already waits for the lock (lock_timeout_s, with backoff); a warehouse
# still busy then keeps the run's parts in the lake as pending, to load first next time.
@task(cache_policy=NO_CACHE)
def load_warehouse(warehouse: str, lake_url: str, storage_options: dict[str, Any], run: RunRecord,
                   lock_timeout_s: float, loaded_parts: frozenset[int] = frozenset()
                   ) -> tuple[dict[str, int], dict[str, int], dict[str, int], list[RecentRun]]:
    if backend.is_lakehouse(warehouse):  # the batches committed their rows: complete the run's row
        con = backend.connect(warehouse, lock_timeout_s, lake=lake_url, storage_options=storage_options)
        try:
            added, checks = finish_run(con, run)
            return added, query_counts(con), checks, query_recent_runs(con, 10)
        finally:
            con.close()
    fs, root = lake.lake_filesystem(lake_url, storage_options)
    # a table at a time, in pieces: flat memory; WARC parts already loaded with their checkpoints are left out
    tables = lake.stream_run(fs, root, run.run_id, skip=loaded_parts)
    try:
        con = connect(Path(warehouse), lock_timeout_s)
    except WarehouseBusy as err:
        lake.write_pending(fs, root, run)
        raise LoadPending(f"{err}. Nothing is lost: this run's results are kept in the lake ({lake_url}) as pending "
                          f"and load first on the next run, or now with `newsdesk load-pending`") from None
    try:
        added, checks = load_run(con, run, tables)
        lake.remove_own_runs(fs, root, owner_key(warehouse), query_run_ids(con))
        return added, query_counts(con), checks, query_recent_runs(con, 10)
    finally:
        con.close()
