"""What the warehouse already holds, read once at the start of a run (tasks, retried when it is busy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows import report
from transforms.errors import TransientError
from transforms.models import Entity, RawInput, Validators
from warehouse import backend
from warehouse.checkpoints import query_checkpoints, query_warc_uris
from warehouse.load import query_known_entities, query_loaded_raw, query_validators
from warehouse.state import query_deferred, query_raw_inputs, query_rejected_bodies


def transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only on TransientError (timeouts, 429/5xx, a busy warehouse)."""
    try:
        state.result()
    except TransientError:
        return True
    except Exception:  # noqa: BLE001
        return False
    return False


# Tasks that read or write the warehouse: retried on its transient errors (a lock, the catalog unreachable).
retried = task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 15], retry_condition_fn=transient_only)


@dataclass(frozen=True)
class Known:
    """The warehouse's state a run starts from."""

    loaded: dict[str, str] = field(default_factory=dict)  # input uri -> raw hash already loaded
    entities: list[Entity] = field(default_factory=list)  # resolved entities, for name resolution
    validators: dict[str, Validators] = field(default_factory=dict)  # url -> ETag / Last-Modified of our last fetch
    deferred: dict[str, str | None] = field(default_factory=dict)  # URLs the last run did not reach -> source
    rejected: dict[str, list[str]] = field(default_factory=dict)  # url -> bodies this extractor rejected
    checkpoints: dict[str, tuple[int, bool]] = field(default_factory=dict)  # WARC file -> (offset, read to its end)
    warc_uris: list[str] = field(default_factory=list)  # WARC records to re-extract


@retried
def query_known(warehouse: str, lock_timeout_s: float, lake_url: str, storage_options: dict[str, Any],
                web: bool, warc: bool, reextract: bool) -> Known:
    """The state the run needs: always what is loaded; the fetch state for web sources; WARC checkpoints
    (a DuckDB file's: WARC runs load into one) for WARC sources and re-extraction."""
    warc_state = (warc or reextract) and not backend.is_lakehouse(warehouse)
    con = backend.connect(warehouse, lock_timeout_s, lake=lake_url, storage_options=storage_options)
    try:
        return Known(
            query_loaded_raw(con), query_known_entities(con), query_validators(con),
            query_deferred(con) if web else {},
            query_rejected_bodies(con, report.extractor_versions()) if web else {},
            query_checkpoints(con) if warc_state else {},
            query_warc_uris(con) if warc_state and reextract else [])
    finally:
        con.close()


@retried
def query_raw(warehouse: str, lock_timeout_s: float, lake_url: str, storage_options: dict[str, Any]
              ) -> list[RawInput]:
    """The raw bodies to extract again (`--reextract`)."""
    con = backend.connect(warehouse, lock_timeout_s, lake=lake_url, storage_options=storage_options)
    try:
        return query_raw_inputs(con)
    finally:
        con.close()
