"""Feeds: RSS 0.9x, 1.0 and 2.0, Atom and JSON Feed parsed into work items, and the records
every discovery document yields (`Parsed`, its items, child sitemaps and rejects).

`transforms.discovery.parse_source` picks the reader for a fetched body; sitemaps are read
by `transforms.sitemaps`, URLs spelt one way by `transforms.urls`.

The HTTP payload helpers (content type, charset sniffing, gzip with a ceiling) live in
`transforms.decoding`.
"""

from __future__ import annotations

import calendar
import io
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser

from transforms.dates import parse_moment
from transforms.decoding import PayloadError, inflate
from transforms.errors import Reason, Stage
from transforms.models import Reject, WorkItem
from transforms.urls import UrlError, normalise_url

STAGE: Stage = "discover"
MAX_FEED_BYTES = 50_000_000  # decompressed; sitemaps.org caps a sitemap at 50 MB
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/feed+json",
        "application/json",
        "application/gzip",
        "application/x-gzip",
        "text/plain",
    }
)


@dataclass(frozen=True)
class ChildSitemap:
    url: str
    lastmod: datetime | None = None  # UTC


@dataclass(frozen=True)
class Parsed:
    """What one discovery document yields."""

    format: str  # "rss", "atom", "json_feed", "sitemap", "sitemap_index", "news_sitemap", "text", "invalid"
    items: tuple[WorkItem, ...] = ()
    sitemaps: tuple[ChildSitemap, ...] = ()
    rejects: tuple[Reject, ...] = ()


def malformed_reason(source_kind: str) -> Reason:
    return "sitemap_malformed" if source_kind == "sitemap" else "feed_malformed"


@dataclass(frozen=True)
class SourceContext:
    """Where a discovery document came from: its source, and the URL its relative links resolve against."""

    url: str
    source_name: str
    source_kind: str
    discovered_at: datetime

    @property
    def malformed(self) -> Reason:
        return malformed_reason(self.source_kind)

    def item(self, link: str, published_at: datetime | None, title: str | None, modified_by: datetime | None = None
             ) -> WorkItem:
        return WorkItem(
            normalise_url(link, self.url), self.source_name, self.source_kind, self.discovered_at, published_at, title,
            modified_by,
        )


def invalid(url: str, reason: Reason, message: str) -> Parsed:
    return Parsed("invalid", rejects=(Reject(url, STAGE, reason, message),))


def gunzip_bounded(body: bytes, max_bytes: int) -> bytes:
    """Decompress gzip without ever holding more than `max_bytes` of output."""
    try:
        return inflate(body, max_bytes)
    except PayloadError as exc:
        if exc.reason == "decompression_bomb":
            raise UrlError("decompression_bomb", f"gzip body expands beyond {max_bytes} bytes") from exc
        raise UrlError("feed_malformed", f"gzip body is corrupt ({exc.detail})") from exc


def parse_json_feed(body: bytes, ctx: SourceContext) -> Parsed:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return invalid(ctx.url, ctx.malformed, f"{ctx.url}: JSON Feed is not valid JSON ({exc})")
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return invalid(ctx.url, ctx.malformed, f"{ctx.url}: JSON document without an `items` list is not a JSON Feed")
    items: list[WorkItem] = []
    rejects: list[Reject] = []
    for entry in data["items"]:
        if not isinstance(entry, dict):
            continue
        link = entry.get("url") or entry.get("external_url")
        if not isinstance(link, str):
            continue
        title = entry.get("title") if isinstance(entry.get("title"), str) else None
        published = entry.get("date_published") or entry.get("date_modified")
        try:
            items.append(ctx.item(link, to_utc(published if isinstance(published, str) else None), title))
        except UrlError as exc:
            rejects.append(Reject(link, STAGE, exc.reason, str(exc)))
    return Parsed("json_feed", tuple(items), rejects=tuple(rejects))


def parse_feed(body: bytes, ctx: SourceContext) -> Parsed:
    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-location": ctx.url, "content-type": "application/xml"})
    version = str(parsed.get("version") or "")
    entries = parsed.get("entries") or []
    if not version and not entries:
        cause = parsed.get("bozo_exception")
        return invalid(ctx.url, ctx.malformed, f"{ctx.url}: not a valid RSS/Atom feed ({cause or 'no feed element'})")
    items: list[WorkItem] = []
    rejects: list[Reject] = []
    for entry in entries:
        link = _entry_link(entry)
        if link is None:
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = _struct_to_utc(stamp) if isinstance(stamp, time.struct_time) else None
        title = entry.get("title")
        try:
            items.append(ctx.item(link, published, title if isinstance(title, str) else None))
        except UrlError as exc:
            rejects.append(Reject(link, STAGE, exc.reason, str(exc)))
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(problem, (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)):
        said = str(problem).strip() or type(problem).__name__
        rejects.insert(0, Reject(ctx.url, STAGE, ctx.malformed, f"{ctx.url}: feed is not well-formed XML ({said}); "
                                 f"{len(items)} entries read leniently"))
    fmt = "atom" if version.startswith("atom") else "rss"
    return Parsed(fmt, tuple(items), rejects=tuple(rejects))


def _entry_link(entry: feedparser.FeedParserDict) -> str | None:
    for link in entry.get("links") or []:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    link = entry.get("link")
    if isinstance(link, str) and link:
        return link
    guid = entry.get("id")
    if isinstance(guid, str) and guid.startswith(("http://", "https://")):
        return guid
    return None


# --- dates ------------------------------------------------------------------


def _struct_to_utc(stamp: time.struct_time) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(stamp), UTC)


def parse_datetime(value: str | None) -> datetime | None:
    """An aware datetime from ISO 8601/W3C (incl. "2024" and "2024-05") or RFC 822; None when absent or unreadable."""
    return parse_moment(value)


def to_utc(value: str | None) -> datetime | None:
    """An aware UTC datetime from a feed's or sitemap's date; None when absent or unreadable."""
    moment = parse_datetime(value)
    return moment.astimezone(UTC) if moment else None
