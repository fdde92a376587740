"""Sitemaps: url sets, index files and Google News sitemaps, and what their <lastmod> says.

An entry's <lastmod> is an upper bound on when the page last changed (`lastmod_bound`):
a page whose bound is before the fetch that got its content is not requested again
(`unchanged_since_fetched`), unless the source is configured not to be trusted on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from lxml import etree

from transforms.feeds import STAGE, ChildSitemap, Parsed, SourceContext, parse_datetime, to_utc
from transforms.models import Reject, Validators, WorkItem
from transforms.urls import UrlError, normalise_url

_YEAR_OR_MONTH = re.compile(r"^\d{4}(?:-\d{2})?$")


def parse_xml_root(body: bytes, recover: bool = False) -> tuple[etree._Element | None, str | None]:
    """The document's root, or None and the parser's message."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=recover)
    try:
        return etree.fromstring(body, parser=parser), None
    except (etree.XMLSyntaxError, ValueError) as exc:
        return None, str(exc) or type(exc).__name__


def local_name(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if local_name(child) == name and child.text and child.text.strip():
            return str(child.text.strip())
    return None


def parse_sitemap(root: etree._Element, ctx: SourceContext) -> Parsed:
    is_index = local_name(root) == "sitemapindex"
    items: list[WorkItem] = []
    children: list[ChildSitemap] = []
    rejects: list[Reject] = []
    news = False
    for entry in root:
        if local_name(entry) not in ("url", "sitemap"):
            continue
        loc = _child_text(entry, "loc")
        if loc is None:
            continue
        lastmod = _child_text(entry, "lastmod")
        published = to_utc(lastmod)
        title = None
        for child in entry:
            if local_name(child) == "news":
                news = True
                published = to_utc(_child_text(child, "publication_date")) or published
                title = _child_text(child, "title")
        try:
            if is_index or local_name(entry) == "sitemap":
                children.append(ChildSitemap(normalise_url(loc, ctx.url), published))
            else:
                items.append(ctx.item(loc, published, title, lastmod_bound(lastmod)))
        except UrlError as exc:
            rejects.append(Reject(loc, STAGE, exc.reason, str(exc)))
    fmt = "sitemap_index" if is_index else ("news_sitemap" if news else "sitemap")
    return Parsed(fmt, tuple(items), tuple(children), tuple(rejects))


def lastmod_bound(value: str | None) -> datetime | None:
    """A sitemap <lastmod> as the moment the page is unchanged since (UTC).

    A W3C date alone ("2024-06-01") may hide a change later that day, so it stands for
    the end of the day; a datetime without a zone is read as UTC.
    """
    if value is None or _YEAR_OR_MONTH.match(value.strip()):  # a year or a month alone says too little
        return None
    moment = parse_datetime(value)
    if moment is None:
        return None
    if re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        moment += timedelta(days=1)
    return moment.astimezone(UTC)


def unchanged_since_fetched(items: Sequence[WorkItem], previous: Mapping[str, Validators]) -> tuple[list[WorkItem], list[WorkItem]]:
    """The items to fetch, and those whose sitemap <lastmod> is before the fetch that got their content."""
    fetch: list[WorkItem] = []
    skip: list[WorkItem] = []
    for item in items:
        known = previous.get(item.url)
        modified = item.modified_by
        fetched = known.fetched_at if known is not None else None
        (skip if modified is not None and fetched is not None and modified <= fetched else fetch).append(item)
    return fetch, skip
