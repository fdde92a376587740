"""What a run tells its users: the `runs` row, the summary, and the Prefect artifacts.

Artifacts use stable keys so the Prefect UI shows their history run after run:
`ingest-news-summary` (table: counts), `ingest-news-checks` (table: data checks),
`ingest-news-report` (markdown) and `ingest-news-progress` (progress, updated per batch).
Their descriptions carry the key numbers, so the history page reads at a glance.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from transforms.models import Analysis, Article, Fetch, RecentRun, Reject, RunRecord, RunSummary

SUMMARY_KEY = "ingest-news-summary"
REPORT_KEY = "ingest-news-report"
PROGRESS_KEY = "ingest-news-progress"
CHECKS_KEY = "ingest-news-checks"
PROGRESS_EVERY_S = 2.0


def versions(model: str) -> dict[str, str]:
    out = {}
    for dist in ("newsdesk", "trafilatura", "spacy", "prefect", "duckdb", "pyarrow", "httpx"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    out["spacy_model"] = model
    try:
        out["spacy_model_version"] = metadata.version(model.replace("_", "-"))
    except metadata.PackageNotFoundError:
        pass
    return out


EXTRACTOR_DISTS = ("newsdesk", "trafilatura")  # what decides whether a body is rejected at extraction


def extractor_versions() -> dict[str, str]:
    """The versions that make an extraction reject reproducible: a body they rejected is not extracted again."""
    out = {}
    for dist in EXTRACTOR_DISTS:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def rejects_by_reason(rejects: Sequence[Reject]) -> dict[str, int]:
    return dict(Counter(f"{r.stage}:{r.reason}" for r in rejects).most_common())


@dataclass
class BatchSummary:
    """What a batch did, small enough to keep for every batch of a large run."""

    counts: Counter[str] = field(default_factory=Counter)
    rejects: list[Reject] = field(default_factory=list)
    entities: Counter[str] = field(default_factory=Counter)  # mentions per resolved entity name
    speakers: Counter[str] = field(default_factory=Counter)  # quotes per resolved speaker entity
    unresolved_speakers: Counter[str] = field(default_factory=Counter)  # quotes per unresolved surface form
    failures_by_host: Counter[str] = field(default_factory=Counter)


def batch_summary(documents: int, unchanged: int, articles: Sequence[Article], analysis: Analysis,
                  rejects: Sequence[Reject], fetches: Sequence[Fetch], not_requested: int = 0,
                  filtered: int = 0) -> BatchSummary:
    """The batch's counts; `unchanged` includes the `not_modified` (304) and `not_requested` (sitemap lastmod) URLs;
    `filtered`: records and articles a source's filters left out (URL, date, language)."""
    counts: Counter[str] = Counter(documents=documents, unchanged=unchanged, articles=len(articles),
                                   mentions=len(analysis.mentions), quotes=len(analysis.quotes),
                                   rejected=len(rejects), fetches=len(fetches),
                                   not_modified=sum(1 for f in fetches if f.not_modified), not_requested=not_requested,
                                   deferred=sum(1 for f in fetches if f.error_class == "deferred"), filtered=filtered)
    counts.update(status for status in analysis.nlp_status.values() if status != "ok")  # unsupported_language, ...
    failures = Counter(f"{urlsplit(f.url).hostname}: {f.error_class}" for f in fetches if f.error_class)
    names = {m.entity_id: m.canonical for m in analysis.mentions}
    names.update({e.entity_id: e.name for e in analysis.entities})
    entities = Counter(names[m.entity_id] for m in analysis.mentions)
    speakers = Counter(names.get(q.speaker_entity_id, q.speaker or "?") for q in analysis.quotes if q.speaker_entity_id)
    unresolved = Counter(q.speaker.lower() for q in analysis.quotes if q.speaker and not q.speaker_entity_id)
    return BatchSummary(counts, list(rejects), entities, speakers, unresolved, failures)


def merge(summaries: Sequence[BatchSummary]) -> BatchSummary:
    total = BatchSummary()
    for part in summaries:
        total.counts.update(part.counts)
        total.rejects += part.rejects
        total.entities.update(part.entities)
        total.speakers.update(part.speakers)
        total.unresolved_speakers.update(part.unresolved_speakers)
        total.failures_by_host.update(part.failures_by_host)
    return total


def _reasons(rejects: Sequence[Reject]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in Counter(r.reason for r in rejects).most_common())


def batch_line(part: int, batches: int, batch: BatchSummary) -> str:
    """One readable log line per batch: `batch 3/16: 64 fetched, 2 rejected (timeout 1, ...), 61 articles, ...`."""
    counts = batch.counts
    got = f"{counts['fetches']:,} fetched" if counts.get("fetches") else f"{counts.get('documents', 0):,} read"
    parts = [got]
    if counts.get("unchanged"):
        parts.append(f"{counts['unchanged']:,} unchanged")
    rejected = f"{counts.get('rejected', 0):,} rejected"
    if batch.rejects:
        rejected += f" ({_reasons(batch.rejects)})"
    parts += [rejected, f"{counts.get('articles', 0):,} articles", f"{counts.get('mentions', 0):,} mentions",
              f"{counts.get('quotes', 0):,} quotes"]
    return f"batch {part}/{batches}: " + ", ".join(parts) if part else "discovery: " + rejected


def run_line(run_id: str, merged: BatchSummary) -> str:
    """The run's totals before the load, in words (never a Counter repr)."""
    c = merged.counts
    line = (f"run {run_id}: {c.get('documents', 0):,} new or changed documents, {c.get('unchanged', 0):,} unchanged, "
            f"{c.get('articles', 0):,} articles, {c.get('mentions', 0):,} mentions, {c.get('quotes', 0):,} quotes, "
            f"{c.get('rejected', 0):,} rejected")
    return line + (f" ({_reasons(merged.rejects)})" if merged.rejects else "")


def check_lines(checks: dict[str, int]) -> list[str]:
    """A warning per failed data check (offending rows > 0)."""
    return [f"data check {name} failed: {n:,} offending rows (see warehouse/load.py for its SQL)"
            for name, n in checks.items() if n]


class _RoutineTaskStates(logging.Filter):
    """Drops the tasks' "Finished in state Completed()" lines (four per batch): the batch line says it better."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not str(record.msg).startswith("Finished in state Completed")


def quiet_routine_task_lines() -> None:
    """Keep the run's log to its stage and batch lines (and every warning), installed once per process."""
    task_logger = logging.getLogger("prefect.task_runs")
    if not any(isinstance(f, _RoutineTaskStates) for f in task_logger.filters):
        task_logger.addFilter(_RoutineTaskStates())


def run_row(run_id: str, started_at: datetime, flow_run_id: str, merged: BatchSummary, model: str,
            settings: dict[str, Any]) -> RunRecord:
    return RunRecord(run_id, started_at, flow_run_id, "completed", counts=json.dumps(dict(merged.counts)),
                     rejects_by_reason=json.dumps(rejects_by_reason(merged.rejects)),
                     versions=json.dumps(versions(model)), settings=json.dumps(settings))


TOP_ENTITIES = 25


def summary(run_id: str, merged: BatchSummary, added: dict[str, int], totals: dict[str, int],
            checks: dict[str, int], timings: dict[str, float] | None = None,
            trend: list[RecentRun] | None = None) -> RunSummary:
    return RunSummary(
        run_id=run_id, counts=dict(merged.counts), added=added, totals=totals, checks=checks,
        rejects_by_reason=rejects_by_reason(merged.rejects), rejects=list(merged.rejects),
        failures_by_host=dict(merged.failures_by_host.most_common()),
        top_entities=merged.entities.most_common(TOP_ENTITIES), entities_total=len(merged.entities),
        top_speakers=merged.speakers.most_common(10), unresolved_speakers=merged.unresolved_speakers.most_common(10),
        timings=dict(timings or {}), trend=list(trend or []))


class Timings(dict[str, float]):
    """Seconds per stage of a run: `lap(stage)` records the time since the last lap (or since it was made)."""

    def __init__(self) -> None:
        super().__init__()
        self._last = time.monotonic()

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self[stage] = now - self._last
        self._last = now


class Progress:
    """The run's progress artifact in the Prefect UI, updated at most every `every_s` seconds.

    Each update is a synchronous API call on the flow's thread (tens of milliseconds), so a
    run of many quick batches (an unchanged corpus) would otherwise spend a second on them.
    """

    def __init__(self, total: int, every_s: float = PROGRESS_EVERY_S) -> None:
        self.total = total
        self.every_s = every_s
        artifact = create_progress_artifact(0.0, key=PROGRESS_KEY, description=f"articles processed of {total}")
        self.artifact_id = artifact if isinstance(artifact, UUID) else None  # called from sync code: a UUID
        self._last = time.monotonic()

    def update(self, done: int) -> None:
        finished = done >= self.total
        if self.artifact_id is None or not self.total or (not finished and time.monotonic() - self._last < self.every_s):
            return
        update_progress_artifact(self.artifact_id, min(100.0, 100.0 * done / self.total))
        self._last = time.monotonic()


def to_markdown(result: RunSummary) -> str:
    lines = [f"# ingest-news run `{result.run_id}`", "", "## Rows added", ""]
    lines += [f"- **{table}**: {n:,} (total {result.totals.get(table, 0):,})" for table, n in result.added.items()
              if table in result.totals]
    lines += ["", "## Most-quoted speakers (resolved entities)", ""]
    lines += [f"- {name}: {n}" for name, n in result.top_speakers] or ["- none"]
    if result.unresolved_speakers:
        lines += ["", "Unresolved speakers (surface forms): " +
                  ", ".join(f"{text} {n}" for text, n in result.unresolved_speakers)]
    top, total = result.top_entities, result.entities_total
    lines += ["", "## Top entities by mentions", ""]
    lines += [f"- {name}: {n:,}" for name, n in top] or ["- none"]
    if total > len(top):
        lines += [f"- and {total - len(top):,} more"]
    if result.timings:
        lines += ["", "## Time per stage", "", "| stage | seconds |", "|---|---:|"]
        lines += [f"| {stage} | {seconds:.1f} |" for stage, seconds in result.timings.items()]
    failed = [name for name, n in result.checks.items() if n]
    lines += ["", "## Data checks", "", f"failed: {', '.join(failed)}" if failed else "all passed"]
    lines += ["", "## Failed fetches by host", ""]
    lines += [f"- {host}: {n}" for host, n in result.failures_by_host.items()] or ["- none"]
    lines += ["", "## Rejects", ""]
    lines += [f"- `{r.stage}:{r.reason}` {r.uri}: {r.message}" for r in result.rejects[:20]] or ["- none"]
    if result.trend:
        lines += ["", "## Last runs", "", "| run | started | articles | rejected | seconds |", "|---|---|---:|---:|---:|"]
        lines += [f"| `{r.run_id}` | {r.started_at} | {r.articles:,} | {r.rejected:,} | "
                  f"{'' if r.seconds is None else format(r.seconds, '.0f')} |" for r in result.trend]
    return "\n".join(lines)


def key_numbers(result: RunSummary) -> str:
    """Articles added, rejects, checks failed: what the artifact history page shows for each run."""
    failed = sum(1 for n in result.checks.values() if n)
    return (f"+{result.added.get('articles', 0):,} articles, {result.counts.get('rejected', 0):,} rejected, "
            f"{failed} checks failed")


def publish(result: RunSummary, state: Any = None) -> None:
    """Table and markdown artifacts for the Prefect UI (`state`: the run's final state, named in the descriptions)."""
    what = f"run {result.run_id}" + (f" ({state.name})" if state is not None else "") + f": {key_numbers(result)}"
    rows = [{"stage": stage, "count": n} for stage, n in result.counts.items()]
    rows += [{"stage": f"added:{table}", "count": n} for table, n in result.added.items()]
    rows += [{"stage": f"reject:{reason}", "count": n} for reason, n in result.rejects_by_reason.items()]
    create_table_artifact(rows, key=SUMMARY_KEY, description=f"counts per stage, {what}")
    checks = [{"check": name, "offending rows": n, "result": "failed" if n else "passed"}
              for name, n in result.checks.items()]
    create_table_artifact(checks, key=CHECKS_KEY, description=f"data checks, {what}")
    create_markdown_artifact(to_markdown(result), key=REPORT_KEY, description=what)
