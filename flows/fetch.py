"""Fetching a batch of work items: fetch records, documents and rejects (see `flows.fetcher` for one URL).

The batches of one flow run share one `Fetcher` in this process (`session_fetcher`, kept
on the fetch loop of `flows.fetch_loop`), so batches fetched side by side are together as
polite as the options say.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flows.fetch_loop import run_sync, shared
from flows.fetch_options import FetchOptions
from flows.fetcher import Fetcher, Outcome
from transforms.models import Document, Fetch, Reject, Validators, WorkItem

__all__ = ["DOCUMENT_SOURCE", "FetchBatch", "FetchOptions", "Fetcher", "Outcome", "fetch_batch", "fetch_batch_async",
           "run_sync", "session_fetcher"]

DOCUMENT_SOURCE = {"urls": "url", "url": "url", "feed": "feed", "sitemap": "sitemap"}


@dataclass
class FetchBatch:
    fetches: list[Fetch] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


@asynccontextmanager
async def session_fetcher(session: str | None, options: FetchOptions, raw_root: Path | None) -> AsyncIterator[Fetcher]:
    """The session's shared fetcher (a new one for no session); on the fetch loop (`run_sync`)."""
    if session is None:
        async with Fetcher(options, raw_root) as fetcher:
            yield fetcher
        return
    async with shared((session, options, str(raw_root)), lambda: Fetcher(options, raw_root)) as fetcher:
        yield fetcher


async def fetch_batch_async(
    items: Sequence[WorkItem],
    options: FetchOptions,
    raw_root: Path,
    previous: Mapping[str, Validators] | None = None,
    session: str | None = None,
    budget_until: float | None = None,
) -> FetchBatch:
    previous = previous or {}
    unique = list({item.url: item for item in reversed(items)}.values())[::-1]
    batch = FetchBatch()
    async with session_fetcher(session, options, raw_root) as fetcher:
        outcomes = await asyncio.gather(*(
            fetcher.fetch_url(item.url, validators=previous.get(item.url), source_name=item.source_name, budget_until=budget_until)
            for item in unique
        ))
    for item, outcome in zip(unique, outcomes, strict=True):
        batch.fetches.extend(outcome.fetches)
        if outcome.reject is not None:
            batch.rejects.append(outcome.reject)
        body = outcome.body
        if body is not None and not body.not_modified:
            last = outcome.fetches[-1]
            batch.documents.append(
                Document(
                    uri=item.url,
                    source=DOCUMENT_SOURCE.get(item.source_kind, item.source_kind),
                    body=body.body,
                    media_type="text/html",
                    charset=body.charset,
                    url=body.final_url,
                    fetch_id=last.fetch_id,
                    fetched_at=last.fetched_at,
                    raw_hash=body.content_hash or "",
                )
            )
    return batch


def fetch_batch(
    items: Sequence[WorkItem],
    options: FetchOptions,
    raw_root: Path,
    previous: Mapping[str, Validators] | None = None,
    session: str | None = None,
    budget_until: float | None = None,
) -> FetchBatch:
    """Fetch every item's URL; failures become Fetch rows with an error_class and Rejects.

    URLs not done by `budget_until` (epoch seconds: the end of the run's fetch budget) end as a
    `deferred` fetch row each, without a reject.

    Batches given the same `session` (a flow run passes its run id) share one `Fetcher` in
    this process: one connection pool, one robots.txt per origin, and one global and per-host
    limit, so batches fetched side by side are together as polite as the options say.
    Without a session the batch has a fetcher of its own.
    """
    return run_sync(fetch_batch_async(items, options, raw_root, previous, session, budget_until))
