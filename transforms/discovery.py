"""Discovery: the work items a source lists, from the fetched bytes of any document it points at.

`parse_source` reads RSS 0.9x, 1.0 and 2.0, Atom, JSON Feed (`transforms.feeds`), sitemap
url sets and index files and Google News sitemaps (`transforms.sitemaps`) and plain-text URL
lists, each optionally gzipped, and returns work items plus the child sitemaps to read next;
a broken document becomes a reject, never an exception. `select_items` applies a source's
options (allow/deny patterns, since, max).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from transforms.decoding import GZIP_MAGIC
from transforms.feeds import (
    MAX_FEED_BYTES,
    STAGE,
    Parsed,
    SourceContext,
    gunzip_bounded,
    invalid,
    malformed_reason,
    parse_feed,
    parse_json_feed,
)
from transforms.models import Reject, WorkItem
from transforms.sitemaps import local_name, parse_sitemap, parse_xml_root
from transforms.urls import UrlError, normalise_url


def parse_source(
    body: bytes,
    *,
    url: str,
    source_name: str,
    source_kind: str,
    discovered_at: datetime,
    max_bytes: int = MAX_FEED_BYTES,
) -> Parsed:
    """Work items from a feed or sitemap body (any supported format, gzipped or not).

    A body that is not well-formed gives a `feed_malformed` / `sitemap_malformed` reject (by the
    source's kind) with the parser's message, even when a lenient parse recovered items (which
    are returned too); a feed or sitemap that lists nothing usable gives an `empty_feed` reject.
    """
    malformed = malformed_reason(source_kind)
    if body[:2] == GZIP_MAGIC:
        try:
            body = gunzip_bounded(body, max_bytes)
        except UrlError as exc:
            return invalid(url, malformed if exc.reason == "feed_malformed" else exc.reason, f"{url}: {exc}")
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return invalid(url, "empty_feed", f"{url}: the feed or sitemap is empty")
    ctx = SourceContext(url, source_name, source_kind, discovered_at)
    if stripped[:1] == b"{":
        return _nothing_usable(parse_json_feed(stripped, ctx), ctx)
    if stripped[:1] == b"<":
        root, error = parse_xml_root(stripped)
        if root is None and error is not None:
            recovered = parse_xml_root(stripped, recover=True)[0]
            if recovered is not None and local_name(recovered) in ("urlset", "sitemapindex"):
                parsed = parse_sitemap(recovered, ctx)
                broken = Reject(url, STAGE, malformed_reason("sitemap"), f"{url}: sitemap is not well-formed XML ({error}); "
                                f"{len(parsed.items) + len(parsed.sitemaps)} entries read leniently")
                return replace(parsed, rejects=(broken, *parsed.rejects))
        if root is not None and local_name(root) in ("urlset", "sitemapindex"):
            return _nothing_usable(parse_sitemap(root, ctx), ctx)
        return _nothing_usable(parse_feed(stripped, ctx), ctx)
    text = stripped.decode("utf-8", errors="replace")
    if re.search(r"^\s*https?://", text, re.MULTILINE) and b"\x00" not in stripped:
        return parse_url_list(text, source_name=source_name, source_kind=source_kind, discovered_at=discovered_at)
    return invalid(url, malformed, f"{url}: not a feed, sitemap or URL list (starts with {stripped[:20]!r})")


def _nothing_usable(parsed: Parsed, ctx: SourceContext) -> Parsed:
    """`parsed`, with an `empty_feed` reject when it lists neither an item, a child sitemap nor a reject."""
    if parsed.items or parsed.sitemaps or parsed.rejects:
        return parsed
    what = "sitemap" if parsed.format.startswith("sitemap") or parsed.format == "news_sitemap" else "feed"
    empty = Reject(ctx.url, STAGE, "empty_feed", f"{ctx.url}: the {what} lists no entry with a usable link")
    return replace(parsed, rejects=(empty,))


def parse_url_list(text: str, *, source_name: str, source_kind: str, discovered_at: datetime) -> Parsed:
    """A list of URLs, one a line; blank lines and `#` comments are skipped."""
    items: list[WorkItem] = []
    rejects: list[Reject] = []
    for url in (line.strip() for line in text.splitlines()):
        if not url or url.startswith("#"):
            continue
        try:
            items.append(WorkItem(normalise_url(url), source_name, source_kind, discovered_at))
        except UrlError as exc:
            rejects.append(Reject(url, STAGE, exc.reason, str(exc)))
    return Parsed("text", tuple(items), rejects=tuple(rejects))


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
            published = item.published_at
            if published is not None and published < _aware(since):
                continue
        done.add(item.url)
        kept.append(item)
        if max_items is not None and len(kept) >= max_items:
            break
    return kept


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
