"""Sources: their configuration, and discovery of the article URLs they list.

A source is a URL list (inline or in a file), a feed (RSS, Atom, JSON Feed) or
a sitemap (url set, index, Google News; gzipped or not), fetched over HTTP or
read from a local file. `discover` turns sources into work items, with the
source's options applied (allow/deny patterns, since, max items) and every
URL found once across all sources; every feed or sitemap fetch is a `Fetch`
record and every problem a `Reject`.

```toml
[[sources]]
name = "valley-times"
kind = "feed"
url = "https://www.valleytimes.example.com/politics/rss.xml"
max_items = 50
since = 2024-06-01
deny = ["/podcasts/"]
```
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flows.fetch import session_fetcher
from flows.fetch_loop import run_sync
from flows.fetch_options import FetchOptions
from flows.fetcher import Fetcher
from transforms.discovery import parse_source, parse_url_list, select_items
from transforms.errors import Stage
from transforms.feeds import FEED_TYPES, Parsed, parse_datetime
from transforms.models import Fetch, Reject, WorkItem

STAGE: Stage = "discover"
MAX_SITEMAP_DEPTH = 3
_NEVER = datetime.min.replace(tzinfo=UTC)  # sorts an item without a date last


class SourceConfig(BaseModel):
    """One `[[sources]]` table of newsdesk.toml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    kind: Literal["urls", "feed", "sitemap", "warc"]  # warc: read by flows/warc.py, not discovered
    urls: tuple[str, ...] = ()
    url: str | None = None
    file: Path | None = None  # a URL list (kind "urls"), a local feed/sitemap file, or a WARC list (kind "warc")
    max_items: int | None = Field(default=None, ge=1)
    max_records: int | None = Field(default=None, ge=1)  # kind "warc": records read into documents or rejects, per run
    since: datetime | None = None  # a TOML date or datetime; naive means UTC
    until: datetime | None = None  # kind "warc": records whose WARC-Date is before this
    languages: tuple[str, ...] = ()  # keep only articles detected in these languages (ISO 639-1); empty: all
    allow: tuple[str, ...] = ()  # regexes searched in the URL; when given, one must match
    deny: tuple[str, ...] = ()  # regexes searched in the URL; any match drops it
    group: str | None = None
    max_sitemaps: int = Field(default=50, ge=1)  # child sitemaps read from an index
    # A sitemap URL whose <lastmod> is before our last fetch of its content is not requested again;
    # false for a site whose <lastmod> cannot be trusted (every URL is then re-requested, conditionally).
    trust_lastmod: bool = True

    @field_validator("since", "until", mode="before")
    @classmethod
    def _date_is_midnight_utc(cls, value: object) -> object:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(), UTC)
        if isinstance(value, str):
            return parse_datetime(value) or value
        return value

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @field_validator("languages")
    @classmethod
    def _languages_known(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        from transforms.language import normalise_language

        codes = tuple(normalise_language(tag) for tag in tags)
        unknown = [tag for tag, code in zip(tags, codes) if code is None]
        if unknown:
            raise ValueError(f"{', '.join(map(repr, unknown))}: not a language (use ISO 639-1 codes such as \"en\")")
        return tuple(code for code in codes if code)

    @field_validator("allow", "deny")
    @classmethod
    def _regexes_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression ({exc})") from exc
        return patterns

    @model_validator(mode="after")
    def _has_a_location(self) -> SourceConfig:
        if not self.urls and not self.url and self.file is None:
            raise ValueError(f"source {self.name!r} needs `url`, `urls` or `file`")
        return self

    @property
    def locations(self) -> tuple[str, ...]:
        return self.urls + ((self.url,) if self.url else ())


def discover(
    sources: Sequence[SourceConfig], options: FetchOptions, raw_root: Path | None = None, session: str | None = None,
    budget_until: float | None = None,
) -> tuple[list[WorkItem], list[Fetch], list[Reject]]:
    """The article URLs of all sources (deduplicated), the feed/sitemap fetches, and the rejects.

    With a `session` (the run id) the feeds are fetched by the run's shared fetcher, so that a
    host's robots.txt is read once for the whole run; `budget_until` is the run's fetch budget.
    """
    return run_sync(discover_async(sources, options, raw_root, session, budget_until))


async def discover_async(
    sources: Sequence[SourceConfig], options: FetchOptions, raw_root: Path | None = None, session: str | None = None,
    budget_until: float | None = None,
) -> tuple[list[WorkItem], list[Fetch], list[Reject]]:
    async with session_fetcher(session, options, raw_root) as fetcher:
        found = await asyncio.gather(*(_discover_source(source, fetcher, budget_until) for source in sources))
    items: list[WorkItem] = []
    fetches: list[Fetch] = []
    rejects: list[Reject] = []
    seen: set[str] = set()
    for source, (source_items, source_fetches, source_rejects) in zip(sources, found, strict=True):
        if source.kind != "urls":
            source_items = sorted(source_items, key=lambda i: i.published_at or _NEVER, reverse=True)
        kept = select_items(
            source_items, since=source.since, allow=source.allow, deny=source.deny, max_items=source.max_items, seen=seen
        )
        if not source.trust_lastmod:
            kept = [replace(item, modified_by=None) for item in kept]
        seen.update(item.url for item in kept)
        items.extend(kept)
        fetches.extend(source_fetches)
        rejects.extend(source_rejects)
    return items, fetches, rejects


async def _discover_source(
    source: SourceConfig, fetcher: Fetcher, budget_until: float | None = None
) -> tuple[list[WorkItem], list[Fetch], list[Reject]]:
    now = datetime.now(UTC)
    items: list[WorkItem] = []
    fetches: list[Fetch] = []
    rejects: list[Reject] = []

    def take(parsed: Parsed) -> Parsed:
        items.extend(parsed.items)
        rejects.extend(parsed.rejects)
        return parsed

    if source.file is not None:
        try:
            data = source.file.read_bytes()
        except OSError as exc:
            rejects.append(Reject(str(source.file), STAGE, "unreadable_file", f"source {source.name!r}: cannot read {source.file} ({exc})"))
        else:
            if source.kind == "urls":
                take(parse_url_list(data.decode("utf-8", errors="replace"), **_context(source, now)))
            else:
                local = source.file.resolve().as_uri()
                take(parse_source(data, url=local, max_bytes=fetcher.options.max_decompressed_bytes, **_context(source, now)))
    if source.kind == "urls":
        take(parse_url_list("\n".join(source.locations), **_context(source, now)))
        return items, fetches, rejects

    queue = [(url, 0) for url in source.locations]
    budget = source.max_sitemaps
    while queue:
        level = queue
        queue = []
        outcomes = await asyncio.gather(
            *(fetcher.fetch_url(url, accept=FEED_TYPES, source_name=source.name, budget_until=budget_until) for url, _ in level)
        )
        for (url, depth), outcome in zip(level, outcomes, strict=True):
            fetches.extend(outcome.fetches)
            if outcome.reject is not None:
                rejects.append(outcome.reject)
            if outcome.body is None:
                continue
            parsed = parse_source(outcome.body.body, url=outcome.body.final_url, max_bytes=fetcher.options.max_decompressed_bytes,
                                  **_context(source, now))
            fetch_id = outcome.fetches[-1].fetch_id  # the feed's own rejects point at the fetch that got it
            take(replace(parsed, rejects=tuple(replace(r, fetch_id=fetch_id) if r.uri == outcome.body.final_url else r
                                               for r in parsed.rejects)))
            for child in parsed.sitemaps:
                if depth + 1 > MAX_SITEMAP_DEPTH or budget <= 0:
                    rejects.append(Reject(child.url, STAGE, "sitemap_limit", f"source {source.name!r}: skipped {child.url}: "
                                          f"more than {source.max_sitemaps} sitemaps or nested deeper than {MAX_SITEMAP_DEPTH}"))
                    continue
                if source.since is not None and (child.lastmod or source.since) < source.since:
                    continue  # nothing in it changed since the cut-off
                budget -= 1
                queue.append((child.url, depth + 1))
    return items, fetches, rejects


def put_deferred_first(
    items: Sequence[WorkItem], deferred: dict[str, str | None], sources: Sequence[SourceConfig]
) -> list[WorkItem]:
    """The work items with the URLs a previous run deferred (url -> source name) first; deferred URLs of
    a configured source that discovery no longer lists are fetched too, once, as plain URLs."""
    names = {source.name: source for source in sources}
    listed = {item.url for item in items}
    now = datetime.now(UTC)
    missing = [WorkItem(url, name, "urls", now) for url, name in deferred.items()
               if url not in listed and name in names]
    return missing + [i for i in items if i.url in deferred] + [i for i in items if i.url not in deferred]


def _context(source: SourceConfig, now: datetime) -> dict[str, Any]:
    return {"source_name": source.name, "source_kind": source.kind, "discovered_at": now}
