"""Feeds: RSS 0.9x, 1.0 and 2.0, Atom and JSON Feed parsed into work items, and the records
every discovery document yields (`Parsed`, its items, child sitemaps and rejects).

`transforms.discovery.parse_source` picks the reader for a fetched body; sitemaps are read
by `transforms.sitemaps`, URLs spelt one way by `transforms.urls`.

The HTTP payload helpers at the end (`parse_content_type`, `sniff_charset`,
`sniff_media_type`) are pure too; the fetcher in flows/fetch.py calls them.
"""

from __future__ import annotations

import calendar
import codecs
import io
import json
import re
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser
from charset_normalizer import from_bytes

from transforms.dates import parse_moment
from transforms.models import Reject, WorkItem, iso_utc
from transforms.urls import UrlError, normalise_url

STAGE = "discover"
GZIP_MAGIC = b"\x1f\x8b"
MAX_FEED_BYTES = 50_000_000  # decompressed; sitemaps.org caps a sitemap at 50 MB
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
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
SNIFF_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "text/plain", "application/unknown"})
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_:.+-]+)["']""")
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)\b", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ChildSitemap:
    url: str
    lastmod: str | None = None  # ISO 8601 UTC


@dataclass(frozen=True)
class Parsed:
    """What one discovery document yields."""

    format: str  # "rss", "atom", "json_feed", "sitemap", "sitemap_index", "news_sitemap", "text", "invalid"
    items: tuple[WorkItem, ...] = ()
    sitemaps: tuple[ChildSitemap, ...] = ()
    rejects: tuple[Reject, ...] = ()


def malformed_reason(source_kind: str) -> str:
    return "sitemap_malformed" if source_kind == "sitemap" else "feed_malformed"


@dataclass(frozen=True)
class SourceContext:
    """Where a discovery document came from: its source, and the URL its relative links resolve against."""

    url: str
    source_name: str
    source_kind: str
    discovered_at: str

    @property
    def malformed(self) -> str:
        return malformed_reason(self.source_kind)

    def item(self, link: str, published_at: str | None, title: str | None, modified_by: str | None = None) -> WorkItem:
        return WorkItem(
            normalise_url(link, self.url), self.source_name, self.source_kind, self.discovered_at, published_at, title,
            modified_by,
        )


def invalid(url: str, reason: str, message: str) -> Parsed:
    return Parsed("invalid", rejects=(Reject(url, STAGE, reason, message),))


def gunzip_bounded(body: bytes, max_bytes: int) -> bytes:
    """Decompress gzip without ever holding more than `max_bytes` of output."""
    decoder = zlib.decompressobj(wbits=47)
    out = bytearray()
    data = body
    try:
        while data and not decoder.eof:
            out += decoder.decompress(data, max_bytes + 1 - len(out))
            if len(out) > max_bytes:
                raise UrlError("decompression_bomb", f"gzip body expands beyond {max_bytes} bytes")
            data = decoder.unconsumed_tail
    except zlib.error as exc:
        raise UrlError("malformed_feed", f"gzip body is corrupt ({exc})") from exc
    return bytes(out)


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
            items.append(ctx.item(link, to_iso_utc(published if isinstance(published, str) else None), title))
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
        published = _struct_to_iso(stamp) if isinstance(stamp, time.struct_time) else None
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


def _struct_to_iso(stamp: time.struct_time) -> str:
    return iso_utc(datetime.fromtimestamp(calendar.timegm(stamp), UTC))


def parse_datetime(value: str | None) -> datetime | None:
    """An aware datetime from ISO 8601/W3C (incl. "2024" and "2024-05") or RFC 822; None when absent or unreadable."""
    return parse_moment(value)


def to_iso_utc(value: str | None) -> str | None:
    moment = parse_datetime(value)
    return iso_utc(moment) if moment else None


# --- HTTP payloads ----------------------------------------------------------


def parse_content_type(value: str | None) -> tuple[str, str | None]:
    """("text/html", "utf-8") from 'text/html; charset="UTF-8"'; ("", None) when absent."""
    if not value:
        return "", None
    media, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = _known_charset(val.strip().strip("\"'"))
    return media.strip().lower(), charset


def _known_charset(name: str) -> str | None:
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def sniff_charset(body: bytes, declared: str | None = None) -> str | None:
    """The charset of an HTML or XML body: BOM, HTTP header, <meta>/XML declaration, UTF-8, detection."""
    if body.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if declared:
        return _known_charset(declared)
    head = body[:4096]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    if match:
        name = _known_charset(match.group(1).decode("ascii", errors="ignore"))
        if name is not None:
            return "utf-8" if name.startswith("utf-16") else name  # HTML: a <meta> can't declare UTF-16
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        best = from_bytes(body[:65536]).best()
        return _known_charset(best.encoding) if best is not None else None


def sniff_media_type(body: bytes) -> str:
    """"text/html", "application/xml", "application/json", "application/gzip" or "" from the first bytes."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:2] == GZIP_MAGIC:
        return "application/gzip"
    if _HTML_START.match(head):
        return "text/html"
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        return "application/xml"
    if head.startswith(b"{"):
        return "application/json"
    return ""
