"""The `ingest-news` flow: sources -> documents -> articles -> entities/quotes -> Parquet -> DuckDB.

Work moves in batches (never one task per article). Each batch is a short chain of tasks
(read or fetch, extract, analyse, write: flows/inputs.py, flows/stages.py) submitted to
the task runner, a few batches at a time (flows/batches.py) so memory stays flat however
large the corpus. Every batch writes its own Parquet part; one task then loads the whole
run into DuckDB in a single transaction (flows/loading.py). On a DuckLake warehouse every
batch commits its own rows instead, and the last task completes the run's row.
"""

from __future__ import annotations

import atexit
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import FlowRun, State
from prefect.context import FlowRunContext
from prefect.exceptions import TerminationSignal

from flows import loading, report, stopping
from flows.analyse import stop_pools
from flows.fetch_options import FetchOptions
from flows.guard import DEFAULT_BUDGET_S
from flows.plan import plan_inputs
from flows.run import DEFAULT_MODEL, Run, RunOptions, new_run
from flows.settings import DEFAULT_WORKERS
from flows.sources import SourceConfig
from flows.stages import run_batches
from flows.states import final_state, stopped_state
from transforms.models import RunRecord, RunSummary


def _generate_run_name() -> str:
    """`ingest-seeds-20241129-0700`: a scheduled run is named by its scheduled minute (UTC), not by when it
    started (the runner submits it seconds early, a Late run starts much later), so each is unique per
    deployment; a run started by hand adds the seconds."""
    run = _flow_run()
    params = run.parameters
    sources = len(params.get("sources") or [])
    where = Path(str(params.get("seeds", "seeds"))).name + (f"+{sources}-sources" if sources else "")
    return f"ingest-{where}-{run_name_time(run.expected_start_time, run.auto_scheduled)}"


def _flow_run() -> FlowRun:
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("ingest-news runs as a Prefect flow")  # only a caller's mistake gets here
    return context.flow_run


def run_name_time(expected: datetime | None, scheduled: bool) -> str:
    when = (expected or datetime.now(UTC)).astimezone(UTC)
    return f"{when:%Y%m%d-%H%M}" if scheduled else f"{when:%Y%m%d-%H%M%S}"


@flow(name="ingest-news", flow_run_name=_generate_run_name, log_prints=False)
def ingest_news(
    seeds: str = "seeds",
    warehouse: str = "warehouse/newsdesk.duckdb",
    lake_url: str = "warehouse/lake",
    raw: str = "warehouse/raw",
    spacy_model: str = DEFAULT_MODEL,
    batch_size: int = 64,
    workers: int = DEFAULT_WORKERS,
    force: bool = False,
    reextract: bool = False,
    lock_timeout_s: float = 60.0,
    sources: list[SourceConfig] | None = None,
    fetch_options: FetchOptions | None = None,
    storage_options: dict[str, Any] | None = None,
    in_flight: int | None = None,
    document_budget_s: float | None = DEFAULT_BUDGET_S,
    nlp_models: dict[str, str] | None = None,
    warc_storage_options: dict[str, Any] | None = None,
    max_reject_rate: float = 0.5,
    groups: list[str] | None = None,
) -> State[Any]:
    """Ingest the seeds and the web sources into the DuckDB warehouse; end in a state carrying the run summary.

    The state says what happened (flows/states.py): Completed, "Completed with rejects",
    Failed (a wrong configuration, or more than `max_reject_rate` of the inputs rejected) or
    Cancelled (stopped by SIGINT or SIGTERM, with the reason). `groups` limits the run to the
    sources of those groups (a schedule's `groups`).
    """
    options = RunOptions(
        seeds=seeds, warehouse=warehouse, lake_url=lake_url, raw=raw, spacy_model=spacy_model, batch_size=batch_size,
        workers=workers, force=force, reextract=reextract, lock_timeout_s=lock_timeout_s, sources=tuple(sources or ()),
        fetch=fetch_options or FetchOptions(), storage_options=storage_options or {}, in_flight=in_flight,
        document_budget_s=document_budget_s, nlp_models=nlp_models or {}, warc_storage_options=warc_storage_options or {},
        max_reject_rate=max_reject_rate, groups=tuple(groups or ()))
    served = _flow_run().deployment_id is not None
    if served:
        stopping.leave_sigint_to_supervisor()  # Ctrl-C reaches the process group: `newsdesk serve` cancels us
    try:
        result = ingest(options)
    except (KeyboardInterrupt, TerminationSignal) as stop:
        return stop_run(stop, served)
    return end_run(result, max_reject_rate)


def ingest(options: RunOptions) -> RunSummary:
    """The body of `ingest-news`: the run's inputs through its batches into the warehouse; the run summary.

    With `reextract`, the web pages come from the raw store instead of the network and every
    input is processed again (new extraction code gives new article versions; unchanged output adds nothing).
    """
    report.quiet_routine_task_lines()
    timings = report.Timings()
    stopping.at_stage("reading the warehouse state and the sources (nothing loaded: the warehouse is as before)")
    run = new_run(options, str(_flow_run().id))
    loading.load_pending_first(run)
    plan = plan_inputs(run)
    get_run_logger().info("%s", plan.describe())
    timings.lap("warehouse state and discovery")
    stopping.at_stage("working on the batches (nothing loaded: the warehouse is as before)")
    loading.begin(run)
    warc = loading.WarcLoads(run)
    merged = run_batches(plan, warc)
    timings.lap("batches")
    stopping.at_stage("loading the warehouse (one transaction: all of the run or none of it)")
    loaded = loading.load(run, _run_row(run, merged), warc)
    timings.lap("load")
    stopping.at_stage("publishing the report (the run is loaded)")
    return _report(run, merged, loaded, timings)


def stop_run(stop: BaseException, served: bool) -> State[Any]:
    """SIGINT or SIGTERM arrived: kill the pool workers, arm the exit deadline, end Cancelled with the reason."""
    reason = stopping.stop_reason(stop)
    stopping.begin_stop(reason, within_s=stopping.CHILD_EXIT_WITHIN_S if served else stopping.EXIT_WITHIN_S)
    stop_pools()
    state = stopped_state(reason, stopping.stage())
    get_run_logger().warning("%s", state.message)
    if served and isinstance(stop, TerminationSignal):
        # The runner is cancelling us and records the Cancelled state, with its reason. Once Prefect has
        # handled the signal, the process leaves without waiting for threads still parsing a batch.
        atexit.register(stopping.leave, stopping.exit_code(reason))
        raise stop
    return state


def end_run(result: RunSummary, max_reject_rate: float) -> State[Any]:
    """The finished run's state, published with its report in the Prefect UI."""
    state = final_state(result, max_reject_rate)
    report.publish(result, state)
    get_run_logger().info("run %s: %s", result.run_id, state.message)
    return state


def _run_row(run: Run, merged: report.BatchSummary) -> RunRecord:
    o = run.options
    settings = {"seeds": o.seeds, "warehouse": o.warehouse, "lake": o.lake_url, "batch_size": o.batch_size,
                "workers": o.workers, "force": run.force, "reextract": o.reextract,
                "sources": [s.name for s in o.web_sources + o.warc_sources]}
    return report.run_row(run.run_id, run.started_at, run.flow_run_id, merged, o.spacy_model, settings)


def _report(run: Run, merged: report.BatchSummary, loaded: loading.Loaded, timings: dict[str, float]) -> RunSummary:
    log = get_run_logger()
    log.info("loaded: %s", ", ".join(f"+{n:,} {table}" for table, n in loaded.added.items()))
    for line in report.check_lines(loaded.checks):
        log.warning("%s", line)
    return report.summary(run.run_id, merged, loaded.added, loaded.totals, loaded.checks, timings, loaded.trend)
