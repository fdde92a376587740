"""What a run will read, found before any batch, and the batches it reads it in.

`plan_inputs` lists the seed files, discovers the web sources' URLs (feeds, sitemaps,
URL lists; the last run's deferred URLs first), and finds the raw bodies and WARC
records to read; `Plan.batches` then submits one reading task per batch, lazily, so
the flow only ever holds the batches in its window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from prefect.futures import PrefectFuture

from flows.analyse import chunks
from flows.inputs import (
    Inputs,
    discover_sources,
    fetch_batch_task,
    list_seeds,
    list_warc,
    read_batch,
    read_raw_batch,
    read_warc_records,
    read_warc_task,
)
from flows.known import Known, query_known, query_raw
from flows.run import Run
from flows.seeds import to_display_name
from flows.sources import put_deferred_first
from flows.states import check_configuration
from flows.warc import WarcFile, WarcSpan
from transforms.errors import PermanentError
from transforms.models import Fetch, RawInput, Reject, WorkItem

V = TypeVar("V")


@dataclass
class Plan:
    """The run's inputs: seed files, web items, raw bodies and WARC files, and what discovery found on the way."""

    run: Run
    known: Known
    paths: list[Path] = field(default_factory=list)
    items: list[WorkItem] = field(default_factory=list)
    raw: list[RawInput] = field(default_factory=list)
    files: list[WarcFile] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)  # found before any batch (part 0 of the run)
    fetches: list[Fetch] = field(default_factory=list)  # discovery's fetches (feeds, sitemaps, robots.txt)
    spans: dict[PrefectFuture[Inputs], WarcSpan] = field(default_factory=dict)  # a WARC batch -> where it lies

    @property
    def total(self) -> int:
        """Inputs known ahead (WARC records stream: not counted)."""
        return len(self.paths) + len(self.items) + len(self.raw) + len(self.known.warc_uris)

    @property
    def n_batches(self) -> int:
        """Batches known ahead (WARC files add more as they are read)."""
        size = self.run.options.batch_size
        return sum(len(chunks(group, size)) for group in (self.paths, self.items, self.raw, self.known.warc_uris))

    def describe(self) -> str:
        o, known = self.run.options, self.known
        read_before = sum(1 for f in self.files if known.checkpoints.get(f.location, (0, False))[1] and not o.force)
        return (f"{len(self.paths)} seed files, {len(self.items)} web items from {len(o.web_sources)} sources, "
                f"{len(self.raw)} raw bodies to re-extract, {len(self.files)} WARC files ({read_before} read to "
                f"their end before), {len(known.warc_uris)} WARC records to re-extract")

    def batches(self) -> Iterator[PrefectFuture[Inputs]]:
        """Each batch's reading task, submitted when the flow asks for the next batch."""
        run, o, known = self.run, self.run.options, self.known
        for chunk in chunks(self.paths, o.batch_size):
            mine = _only((to_display_name(p.relative_to(o.seeds).as_posix()) for p in chunk), known.loaded)
            yield read_batch.submit(o.seeds, chunk, mine, run.force)
        wanted = {s.name: s.languages for s in o.web_sources if s.languages}  # sources' language filters
        for chunk in chunks(self.items, o.batch_size):
            urls = [item.url for item in chunk]
            languages = {item.url: wanted[item.source_name] for item in chunk if item.source_name in wanted}
            # --force asks for every body again: no validators, so no 304s and no lastmod skips
            previous = {} if run.force else _only(urls, known.validators)
            yield fetch_batch_task.submit(chunk, o.fetch, o.raw, previous, _only(urls, known.loaded), run.force,
                                          run.run_id,  # the run's batches share connections and politeness
                                          _only(urls, known.rejected), run.budget_until, languages)
        for chunk in chunks(self.raw, o.batch_size):
            yield read_raw_batch.submit(chunk, o.raw)
        for chunk in chunks(known.warc_uris, o.batch_size):
            yield read_warc_records.submit(chunk, o.warc_options)
        yield from self._warc_batches()

    def _warc_batches(self) -> Iterator[PrefectFuture[Inputs]]:
        """The WARC files' batches: a file's batches one after another (each starts where the one before ended),
        several files read at once (up to the batch window), so their reads overlap (on Dask, many files at once).
        A source with a `max_records` budget reads one file at a time, so that its budget is exact."""
        o, known = self.run.options, self.known
        budgets = {s.name: s.max_records or s.max_items for s in o.warc_sources}
        waiting = deque(self.files)
        reading: deque[tuple[WarcFile, PrefectFuture[Inputs]]] = deque()
        budgeted_busy: set[str] = set()

        def read(file: WarcFile, offset: int) -> None:
            reading.append((file, read_warc_task.submit(file, offset, o.batch_size, o.warc_options,
                                                        budgets[file.source_name])))

        def start_files() -> None:
            for _ in range(len(waiting)):
                if len(reading) >= o.window:
                    return
                file = waiting.popleft()
                start, done = (0, False) if o.force else known.checkpoints.get(file.location, (0, False))
                if done or budgets[file.source_name] == 0:
                    continue
                if budgets[file.source_name] is not None:
                    if file.source_name in budgeted_busy:
                        waiting.append(file)  # after the source's file being read
                        continue
                    budgeted_busy.add(file.source_name)
                read(file, start)

        start_files()
        while reading:
            file, future = reading.popleft()
            span = future.result().warc
            assert span is not None  # a WARC batch always says where it lies
            self.spans[future] = span
            yield future
            budget = budgets[file.source_name]
            if budget is not None:
                budget = budgets[file.source_name] = budget - span.taken
            if span.next_offset is not None and budget != 0:
                read(file, span.next_offset)
            else:
                budgeted_busy.discard(file.source_name)
            start_files()


def plan_inputs(run: Run) -> Plan:
    """List, discover and query what the run will read; a wrong configuration fails the run here, saying which."""
    o = run.options
    web, warcs = o.web_sources, o.warc_sources
    if warcs and run.lakehouse:
        raise PermanentError("WARC sources load into a DuckDB file warehouse (their per-file checkpoints commit "
                             "with each batch there); use warehouse = \"<file>.duckdb\" for WARC runs")
    known = query_known(o.warehouse, o.lock_timeout_s, o.lake_url, o.storage_options, bool(web), bool(warcs),
                        o.reextract)
    plan = Plan(run, known)
    if o.seeds:
        plan.paths, plan.rejects = list_seeds(o.seeds)
    if o.reextract:
        plan.raw = query_raw(o.warehouse, o.lock_timeout_s, o.lake_url, o.storage_options)
    if warcs:
        plan.files, lost = list_warc(warcs)
        plan.rejects += lost
    if web:
        items, plan.fetches, found = discover_sources(web, o.fetch, o.raw, run.run_id, run.budget_until)
        plan.items = put_deferred_first(items, known.deferred, web)
        plan.rejects += found
    check_configuration(plan.rejects)  # a missing seeds folder or source list: the run fails, saying which
    return plan


def _only(keys: Iterator[str] | Sequence[str], mapping: Mapping[str, V]) -> dict[str, V]:
    """The entries of `mapping` a batch needs: task parameters are copied to every task (and over
    the network on Dask), so a batch gets its own URLs' hashes and validators, not the warehouse's."""
    return {key: mapping[key] for key in keys if key in mapping}
