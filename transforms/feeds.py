"""Feeds, sitemaps and URLs: pure parsing of fetched bytes into work items.

`parse_source` reads any discovery document a source can point at (RSS 0.9x,
1.0 and 2.0, Atom, JSON Feed, sitemap url sets and index files, Google News
sitemaps, plain-text URL lists, each optionally gzipped) and returns work items
plus the child sitemaps to read next. `normalise_url` gives every URL one
spelling (lowercase scheme and host, no default port, no fragment, no tracking
parameters, sorted query) so that the same article found twice is fetched once.
`select_items` applies a source's options (allow/deny patterns, since, max).

The HTTP payload helpers (`parse_content_type`, `sniff_charset`, `sniff_media_type`)
live in `transforms.decoding`; they are imported here for the callers that know them here.
"""

from __future__ import annotations

import calendar
import io
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
from courlan import normalize_url
from lxml import etree

from transforms.decoding import GZIP_MAGIC, PayloadError, inflate
from transforms.decoding import parse_content_type, sniff_charset, sniff_media_type  # noqa: F401 (re-exported)
from transforms.errors import InputError, Stage
from transforms.models import Reject, Validators, WorkItem, iso_utc

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
_W3C_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
_SCHEMES = frozenset({"http", "https"})


class UrlError(InputError):
    """A URL that cannot be fetched; `reason` is the reject reason code."""

    STAGE = "discover"


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
    notes: tuple[str, ...] = field(default_factory=tuple)


# --- URLs -------------------------------------------------------------------


def normalise_url(url: str, base: str | None = None) -> str:
    """One spelling per URL; raises UrlError("invalid_url" | "unsupported_scheme")."""
    text = url.strip()
    if base:
        text = urljoin(base, text)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UrlError("invalid_url", f"{url!r} is not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise UrlError("unsupported_scheme", f"{url!r}: only http and https URLs are fetched")
    if not parts.hostname or any(c.isspace() for c in text):
        raise UrlError("invalid_url", f"{url!r} has no host or contains spaces")
    try:
        return normalize_url(urlunsplit((scheme, parts.netloc, parts.path, parts.query, "")), strict=False)
    except (ValueError, AttributeError) as exc:
        raise UrlError("invalid_url", f"{url!r} is not a valid URL ({exc})") from exc


def parse_url_list(text: str, *, source_name: str, source_kind: str, discovered_at: str, group: str | None = None) -> Parsed:
    """A list of URLs, one a line; blank lines and `#` comments are skipped."""
    urls = [line.strip() for line in text.splitlines()]
    return _items_from_urls([u for u in urls if u and not u.startswith("#")], "text", source_name, source_kind, discovered_at, group)


def _items_from_urls(
    urls: Iterable[str], fmt: str, source_name: str, source_kind: str, discovered_at: str, group: str | None
) -> Parsed:
    items: list[WorkItem] = []
    rejects: list[Reject] = []
    for url in urls:
        try:
            items.append(WorkItem(normalise_url(url), source_name, source_kind, discovered_at, group=group))
        except UrlError as exc:
            rejects.append(Reject(url, STAGE, exc.reason, str(exc)))
    return Parsed(fmt, tuple(items), rejects=tuple(rejects))


# --- feeds and sitemaps -----------------------------------------------------


def parse_source(
    body: bytes,
    *,
    url: str,
    source_name: str,
    source_kind: str,
    discovered_at: str,
    group: str | None = None,
    max_bytes: int = MAX_FEED_BYTES,
) -> Parsed:
    """Work items from a feed or sitemap body (any supported format, gzipped or not).

    A body that is not well-formed gives a `feed_malformed` / `sitemap_malformed` reject (by the
    source's kind) with the parser's message, even when a lenient parse recovered items (which
    are returned too); a feed or sitemap that lists nothing usable gives an `empty_feed` reject.
    """
    malformed = _malformed_reason(source_kind)
    if body[:2] == GZIP_MAGIC:
        try:
            body = gunzip_bounded(body, max_bytes)
        except UrlError as exc:
            return _invalid(url, malformed if exc.reason == "feed_malformed" else exc.reason, f"{url}: {exc}")
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return _invalid(url, "empty_feed", f"{url}: the feed or sitemap is empty")
    ctx = _Context(url, source_name, source_kind, discovered_at, group)
    if stripped[:1] == b"{":
        return _nothing_usable(_parse_json_feed(stripped, ctx), ctx)
    if stripped[:1] == b"<":
        root, error = _xml_root(stripped)
        if root is None and error is not None:
            recovered = _xml_root(stripped, recover=True)[0]
            if recovered is not None and _local(recovered) in ("urlset", "sitemapindex"):
                parsed = _parse_sitemap(recovered, ctx)
                broken = Reject(url, STAGE, _malformed_reason("sitemap"), f"{url}: sitemap is not well-formed XML ({error}); "
                                f"{len(parsed.items) + len(parsed.sitemaps)} entries read leniently")
                return replace(parsed, rejects=(broken, *parsed.rejects))
        if root is not None and _local(root) in ("urlset", "sitemapindex"):
            return _nothing_usable(_parse_sitemap(root, ctx), ctx)
        return _nothing_usable(_parse_feed(stripped, ctx), ctx)
    text = stripped.decode("utf-8", errors="replace")
    if re.search(r"^\s*https?://", text, re.MULTILINE) and b"\x00" not in stripped:
        return parse_url_list(text, source_name=source_name, source_kind=source_kind, discovered_at=discovered_at, group=group)
    return _invalid(url, malformed, f"{url}: not a feed, sitemap or URL list (starts with {stripped[:20]!r})")


def _malformed_reason(source_kind: str) -> str:
    return "sitemap_malformed" if source_kind == "sitemap" else "feed_malformed"


def _nothing_usable(parsed: Parsed, ctx: _Context) -> Parsed:
    """`parsed`, with an `empty_feed` reject when it lists neither an item, a child sitemap nor a reject."""
    if parsed.items or parsed.sitemaps or parsed.rejects:
        return parsed
    what = "sitemap" if parsed.format.startswith("sitemap") or parsed.format == "news_sitemap" else "feed"
    empty = Reject(ctx.url, STAGE, "empty_feed", f"{ctx.url}: the {what} lists no entry with a usable link")
    return replace(parsed, rejects=(empty,))


@dataclass(frozen=True)
class _Context:
    url: str
    source_name: str
    source_kind: str
    discovered_at: str
    group: str | None

    @property
    def malformed(self) -> str:
        return _malformed_reason(self.source_kind)

    def item(self, link: str, published_at: str | None, title: str | None, modified_by: str | None = None) -> WorkItem:
        return WorkItem(
            normalise_url(link, self.url), self.source_name, self.source_kind, self.discovered_at, published_at, title, self.group,
            modified_by,
        )


def _invalid(url: str, reason: str, message: str) -> Parsed:
    return Parsed("invalid", rejects=(Reject(url, STAGE, reason, message),))


def gunzip_bounded(body: bytes, max_bytes: int) -> bytes:
    """Decompress gzip without ever holding more than `max_bytes` of output."""
    try:
        return inflate(body, max_bytes)
    except PayloadError as exc:
        if exc.reason == "decompression_bomb":
            raise UrlError("decompression_bomb", f"gzip body expands beyond {max_bytes} bytes") from exc
        raise UrlError("feed_malformed", f"gzip body is corrupt ({exc.detail})") from exc


def _xml_root(body: bytes, recover: bool = False) -> tuple[etree._Element | None, str | None]:
    """The document's root, or None and the parser's message."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=recover)
    try:
        return etree.fromstring(body, parser=parser), None
    except (etree.XMLSyntaxError, ValueError) as exc:
        return None, str(exc) or type(exc).__name__


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if _local(child) == name and child.text and child.text.strip():
            return str(child.text.strip())
    return None


def _parse_sitemap(root: etree._Element, ctx: _Context) -> Parsed:
    is_index = _local(root) == "sitemapindex"
    items: list[WorkItem] = []
    children: list[ChildSitemap] = []
    rejects: list[Reject] = []
    news = False
    for entry in root:
        if _local(entry) not in ("url", "sitemap"):
            continue
        loc = _child_text(entry, "loc")
        if loc is None:
            continue
        lastmod = _child_text(entry, "lastmod")
        published = to_iso_utc(lastmod)
        title = None
        for child in entry:
            if _local(child) == "news":
                news = True
                published = to_iso_utc(_child_text(child, "publication_date")) or published
                title = _child_text(child, "title")
        try:
            if is_index or _local(entry) == "sitemap":
                children.append(ChildSitemap(normalise_url(loc, ctx.url), published))
            else:
                items.append(ctx.item(loc, published, title, lastmod_bound(lastmod)))
        except UrlError as exc:
            rejects.append(Reject(loc, STAGE, exc.reason, str(exc)))
    fmt = "sitemap_index" if is_index else ("news_sitemap" if news else "sitemap")
    return Parsed(fmt, tuple(items), tuple(children), tuple(rejects))


def _parse_json_feed(body: bytes, ctx: _Context) -> Parsed:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return _invalid(ctx.url, ctx.malformed, f"{ctx.url}: JSON Feed is not valid JSON ({exc})")
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return _invalid(ctx.url, ctx.malformed, f"{ctx.url}: JSON document without an `items` list is not a JSON Feed")
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


def _parse_feed(body: bytes, ctx: _Context) -> Parsed:
    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-location": ctx.url, "content-type": "application/xml"})
    version = str(parsed.get("version") or "")
    entries = parsed.get("entries") or []
    if not version and not entries:
        cause = parsed.get("bozo_exception")
        return _invalid(ctx.url, ctx.malformed, f"{ctx.url}: not a valid RSS/Atom feed ({cause or 'no feed element'})")
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
    notes = (f"feed is not well-formed, read leniently: {parsed.get('bozo_exception')}",) if parsed.get("bozo") else ()
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(problem, (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)):
        said = str(problem).strip() or type(problem).__name__
        rejects.insert(0, Reject(ctx.url, STAGE, ctx.malformed, f"{ctx.url}: feed is not well-formed XML ({said}); "
                                 f"{len(items)} entries read leniently"))
    fmt = "atom" if version.startswith("atom") else "rss"
    return Parsed(fmt, tuple(items), rejects=tuple(rejects), notes=notes)


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
    if not value or not value.strip():
        return None
    text = value.strip()
    partial = _W3C_PARTIAL.match(text)
    if partial:
        return datetime(int(partial.group(1)), int(partial.group(2) or 1), 1, tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def lastmod_bound(value: str | None) -> str | None:
    """A sitemap <lastmod> as the moment the page is unchanged since, ISO 8601 UTC.

    A W3C date alone ("2024-06-01") may hide a change later that day, so it stands for
    the end of the day; a datetime without a zone is read as UTC.
    """
    if value is None or _W3C_PARTIAL.match(value.strip()):  # a year or a month alone says too little
        return None
    moment = parse_datetime(value)
    if moment is None:
        return None
    if re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        moment += timedelta(days=1)
    return iso_utc(moment)


def unchanged_since_fetched(items: Sequence[WorkItem], previous: Mapping[str, Validators]) -> tuple[list[WorkItem], list[WorkItem]]:
    """The items to fetch, and those whose sitemap <lastmod> is before the fetch that got their content."""
    fetch: list[WorkItem] = []
    skip: list[WorkItem] = []
    for item in items:
        known = previous.get(item.url)
        modified = parse_datetime(item.modified_by)
        fetched = parse_datetime(known.fetched_at) if known is not None else None
        (skip if modified is not None and fetched is not None and modified <= fetched else fetch).append(item)
    return fetch, skip


def to_iso_utc(value: str | None) -> str | None:
    moment = parse_datetime(value)
    return iso_utc(moment) if moment else None


# --- a source's options -----------------------------------------------------


def select_items(
    items: Iterable[WorkItem],
    *,
    since: datetime | None = None,
    allow: Sequence[str] = (),
    deny: Sequence[str] = (),
    max_items: int | None = None,
    seen: Iterable[str] = (),
) -> list[WorkItem]:
    """Dedup by URL (first wins), keep URLs matching an `allow` regex (if any) and no `deny` regex,
    published at or after `since` (undated items are kept), at most `max_items`."""
    allow_re = [re.compile(p) for p in allow]
    deny_re = [re.compile(p) for p in deny]
    done = set(seen)
    kept: list[WorkItem] = []
    for item in items:
        if item.url in done:
            continue
        if allow_re and not any(p.search(item.url) for p in allow_re):
            continue
        if any(p.search(item.url) for p in deny_re):
            continue
        if since is not None:
            published = parse_datetime(item.published_at)
            if published is not None and published < _aware(since):
                continue
        done.add(item.url)
        kept.append(item)
        if max_items is not None and len(kept) >= max_items:
            break
    return kept


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
