"""`newsdesk run` as library calls: run the ingest-news flow once, and say what it loaded.

`run_once` checks the settings (every problem named before any work), sets Prefect's
environment, chooses the API (a local server when one answers, else in-process) and
the task runner (Dask when an address is given), runs the flow and returns its final
state with the run summary. `summary_lines` and `example_tables` are what the CLI prints.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from flows import stopping
from flows.parameters import flow_parameters
from flows.prefect_api import choose_api, run_link
from flows.settings import Settings, configure_prefect_environment
from flows.states import run_result
from transforms.errors import ConfigError
from transforms.models import RunSummary

if TYPE_CHECKING:  # prefect is imported after the environment is set
    from prefect.client.schemas.objects import State

EXAMPLE_QUERIES = {
    "Who is quoted, and about whom": (
        "SELECT speaker, about, quotes FROM quotes_about ORDER BY quotes DESC, speaker, about LIMIT 10"
    ),
    "Most-mentioned entities": (
        "SELECT e.name, e.type, count(*) AS mentions FROM current_mentions m "
        "JOIN entities e USING (entity_id) GROUP BY ALL ORDER BY mentions DESC, e.name LIMIT 10"
    ),
}


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def dask_threads(address: str) -> int:
    """How many worker threads the Dask cluster at `address` has."""
    from distributed import Client

    try:
        with Client(address, timeout=30) as client:  # type: ignore[no-untyped-call]  # distributed is not annotated
            threads: dict[str, int] = client.nthreads()
            return max(1, sum(threads.values()))
    except OSError as err:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {err}") from None


def run_once(settings: Settings, force: bool = False, reextract: bool = False) -> tuple[State[Any], RunSummary]:
    """Run ingest-news once; (its final state, the run summary). Raises ConfigError, RunStopped or RunFailed."""
    from flows.config_checks import check_run_settings

    check_run_settings(settings)  # every bad setting named before any work (exit 2)
    configure_prefect_environment()
    stopping.install_handlers()
    stopping.start_lifeline()
    api_url, api_said = choose_api(settings)  # before Prefect is imported
    from flows.ingest import ingest_news
    from warehouse.backend import describe

    params = flow_parameters(settings, force)
    params["reextract"] = reextract
    where = ", ".join(filter(None, [params["seeds"], *[s["name"] for s in params["sources"]]]))
    where_runs = (f"Dask at {settings.dask_address}, " if settings.dask_address else "") + api_said
    _say(f"newsdesk: ingesting {where or 'nothing'} into {describe(settings.warehouse)} ({where_runs})")
    flow = ingest_news
    if settings.dask_address:
        from prefect_dask.task_runners import DaskTaskRunner

        # Each task is one batch on one Dask worker thread: no process pool inside the task,
        # and enough batches in flight to keep every worker thread of the cluster busy.
        params["workers"] = 1
        params["in_flight"] = 2 * dask_threads(settings.dask_address)
        runner: Any = DaskTaskRunner(address=settings.dask_address)  # a TaskRunner of Dask futures
        flow = ingest_news.with_options(task_runner=runner)
    state = flow(**params, return_state=True)
    if api_url and state.state_details.flow_run_id:
        _say(f"newsdesk: run in the Prefect UI: {run_link(api_url, str(state.state_details.flow_run_id))}")
    return state, run_result(state)  # raises on a wrong configuration (exit 2), a stop or a failure (exit 3)


def summary_lines(result: RunSummary) -> list[str]:
    """What a run loaded, as the lines `newsdesk run` prints (control characters escaped)."""
    from flows.terminal import escape_controls

    counts = result.counts
    lines = [f"run {result.run_id}: {counts.get('articles', 0)} articles extracted from "
             f"{counts.get('documents', 0)} new or changed documents ({counts.get('unchanged', 0)} unchanged: "
             f"{counts.get('not_modified', 0)} answered 304, {counts.get('not_requested', 0)} not requested as their "
             f"sitemap <lastmod> is older; {counts.get('rejected', 0)} rejected)"]
    if counts.get("deferred"):
        lines.append(f"{counts['deferred']} URLs deferred: the fetch budget (fetch.budget_s) ran out; "
                     "the next run fetches them first")
    lines.append("rows added (total in warehouse):")
    lines += [f"  {table:<15} +{result.added.get(table, 0):<6} ({total})" for table, total in result.totals.items()]
    lines += [escape_controls(f"  rejected {r.uri} [{r.stage}:{r.reason}] {r.message}") for r in result.rejects]
    return lines


def example_tables(settings: Settings) -> list[tuple[str, str, list[str], list[tuple[Any, ...]]]]:
    """(title, query, column names, first rows) of each example query, on the warehouse just loaded."""
    from warehouse.backend import connect
    from warehouse.load import query_table

    con = connect(settings.warehouse, settings.lock_timeout_s, lake=settings.lake, storage_options=settings.storage_options())
    try:
        return [(title, query, *_first(query_table(con, query), 5)) for title, query in EXAMPLE_QUERIES.items()]
    finally:
        con.close()


def _first(table: tuple[list[str], list[tuple[Any, ...]]], n: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    return table[0], table[1][:n]
