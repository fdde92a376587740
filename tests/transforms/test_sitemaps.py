"""A sitemap's <lastmod> bounds when a page last changed; pages unchanged since their last fetch are skipped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from transforms.models import Validators, WorkItem
from transforms.sitemaps import lastmod_bound, unchanged_since_fetched

NOW = datetime(2024, 7, 1, tzinfo=UTC)


@pytest.mark.parametrize(("lastmod", "bound"), [
    ("2024-06-12", "2024-06-13T00:00:00Z"),  # a day alone: the change may come late that day
    ("2024-06-12T08:30:00+02:00", "2024-06-12T06:30:00Z"),
    ("2024-06-12T08:30:00", "2024-06-12T08:30:00Z"),
    ("2024-06", None), ("2024", None), ("yesterday", None), (None, None), ("", None),
])
def test_lastmod_bound(lastmod: str | None, bound: str | None) -> None:
    assert lastmod_bound(lastmod) == _utc(bound)


def _utc(moment: str | None) -> datetime | None:
    return None if moment is None else datetime.fromisoformat(moment.replace("Z", "+00:00"))


def test_only_urls_changed_since_their_last_fetch_are_requested() -> None:
    def item(path: str, modified_by: str | None) -> WorkItem:
        return WorkItem(f"https://example.org/{path}", "s", "sitemap", NOW, modified_by=_utc(modified_by))

    items = [item("old", "2024-06-13T00:00:00Z"), item("same-moment", "2024-06-20T10:00:00Z"),
             item("changed", "2024-06-21T00:00:00Z"), item("no-lastmod", None), item("never-fetched", "2024-01-01T00:00:00Z"),
             item("fetch-time-unknown", "2024-01-01T00:00:00Z")]
    fetched = Validators(etag='"x"', fetched_at=_utc("2024-06-20T10:00:00Z"))
    previous = {f"https://example.org/{p}": fetched for p in ("old", "same-moment", "changed", "no-lastmod")}
    previous["https://example.org/fetch-time-unknown"] = Validators(etag='"x"')
    fetch, skip = unchanged_since_fetched(items, previous)
    assert [i.url.rsplit("/", 1)[1] for i in skip] == ["old", "same-moment"]
    assert [i.url.rsplit("/", 1)[1] for i in fetch] == ["changed", "no-lastmod", "never-fetched", "fetch-time-unknown"]
