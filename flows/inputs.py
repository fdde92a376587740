"""Where a batch's documents come from: seed files, fetched URLs, the raw store, WARC archives.

Each source of documents is one task returning `Inputs`: the batch's documents with what
was already rejected or skipped on the way in. Discovery (feeds, sitemaps) and the file
listings run once, before the batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.fetch import FetchBatch, fetch_batch
from flows.fetch_options import FetchOptions
from flows.known import transient_only
from flows.seeds import list_seed_files, read_seed_documents
from flows.sources import SourceConfig, discover
from flows.warc import WarcFile, WarcOptions, WarcSpan, read_warc_batch, read_warc_documents, warc_files
from transforms.documents import select_changed, select_not_rejected
from transforms.sitemaps import unchanged_since_fetched
from transforms.models import Document, Fetch, RawInput, Reject, Validators, WorkItem
from warehouse.raw import read_raw_documents


@dataclass(frozen=True)
class Inputs:
    """One batch's documents, with what was already rejected or skipped on the way in."""

    documents: list[Document] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    fetches: list[Fetch] = field(default_factory=list)
    unchanged: int = 0  # documents already loaded, 304s and URLs not requested
    not_requested: int = 0  # sitemap URLs whose <lastmod> is before our last fetch
    warc: WarcSpan | None = None  # a WARC batch: where it lies in its file (for the checkpoint)
    filtered: int = 0  # records a source's URL or date filter left out
    languages: dict[str, tuple[str, ...]] = field(default_factory=dict)  # document uri -> its source's languages


@task(cache_policy=NO_CACHE)
def list_seeds(seeds: str) -> tuple[list[Path], list[Reject]]:
    return list_seed_files(Path(seeds))


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=transient_only)
def discover_sources(sources: list[SourceConfig], options: FetchOptions, raw: str, session: str | None = None,
                     budget_until: float | None = None) -> tuple[list[WorkItem], list[Fetch], list[Reject]]:
    return discover(sources, options, Path(raw), session, budget_until)


@task(cache_policy=NO_CACHE)
def list_warc(sources: list[SourceConfig]) -> tuple[list[WarcFile], list[Reject]]:
    return warc_files(sources)


@task(cache_policy=NO_CACHE)
def read_batch(seeds: str, paths: list[Path], loaded: dict[str, str], force: bool) -> Inputs:
    documents, rejects = read_seed_documents(Path(seeds), paths)
    fresh, unchanged = select_changed(documents, loaded, force)
    return Inputs(fresh, rejects, [], unchanged)


@task(cache_policy=NO_CACHE)
def fetch_batch_task(items: list[WorkItem], options: FetchOptions, raw: str, previous: dict[str, Validators],
                     loaded: dict[str, str], force: bool, session: str, rejected: dict[str, list[str]] | None = None,
                     budget_until: float | None = None, languages: dict[str, tuple[str, ...]] | None = None) -> Inputs:
    wanted, skipped = unchanged_since_fetched(items, previous)  # under --force, previous is empty
    if skipped:
        get_run_logger().info("%d of %d URLs not requested: their sitemap <lastmod> is before our last fetch",
                              len(skipped), len(items))
    got: FetchBatch = fetch_batch(wanted, options, Path(raw), previous, session, budget_until) if wanted else FetchBatch()
    fresh, unchanged = select_changed(got.documents, loaded, force)
    fresh, known_rejects = select_not_rejected(fresh, {} if force else rejected or {})
    not_modified = sum(1 for f in got.fetches if f.not_modified)
    return Inputs(fresh, got.rejects, got.fetches, unchanged + known_rejects + not_modified + len(skipped), len(skipped),
                  languages=languages or {})


@task(cache_policy=NO_CACHE)
def read_raw_batch(bodies: list[RawInput], raw: str) -> Inputs:
    documents, rejects = read_raw_documents(Path(raw), bodies)
    return Inputs(documents, rejects)


@task(cache_policy=NO_CACHE)
def read_warc_task(file: WarcFile, start: int, batch_size: int, options: WarcOptions, budget: int | None) -> Inputs:
    batch = read_warc_batch(file, start, batch_size, options, budget)
    languages = {d.uri: file.languages for d in batch.documents} if file.languages else {}
    return Inputs(batch.documents, batch.rejects, batch.fetches, batch.revisits, warc=batch.span,
                  filtered=batch.filtered, languages=languages)


@task(cache_policy=NO_CACHE)
def read_warc_records(uris: list[str], options: WarcOptions) -> Inputs:
    documents, rejects = read_warc_documents(uris, options)
    return Inputs(documents, rejects)
