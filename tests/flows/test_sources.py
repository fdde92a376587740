"""Discovery: sources of each kind, served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from pytest_httpserver import HTTPServer

from flows.fetch import FetchOptions
from flows.sources import SourceConfig, discover

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
OPTIONS = FetchOptions(
    user_agent="newsdesk-test/1.0",
    timeout_s=0.5,
    total_timeout_s=3.0,
    per_host_delay_s=0.0,
    per_host_concurrency=4,
    retries=1,
    backoff_s=0.01,
    allowed_networks=("127.0.0.1/32",),
)


@pytest.fixture()
def web(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    for name, ctype in [
        ("rss091.xml", "application/rss+xml"),
        ("rss10.rdf", "application/rdf+xml"),
        ("rss20.xml", "application/rss+xml; charset=utf-8"),
        ("atom.xml", "application/atom+xml"),
        ("feed.json", "application/feed+json"),
        ("news-sitemap.xml", "application/xml"),
        ("sitemap.xml.gz", "application/x-gzip"),
        ("malformed.xml", "text/xml"),
    ]:
        server.expect_request(f"/{name}").respond_with_data((FEEDS / name).read_bytes(), content_type=ctype)
    server.expect_request("/sitemap.xml").respond_with_data(
        gzip.compress((FEEDS / "sitemap.xml").read_bytes()), headers={"Content-Encoding": "gzip"}, content_type="text/xml"
    )
    yield server
    server.clear()


def source(**fields: object) -> SourceConfig:
    return SourceConfig.model_validate(fields)


def test_feeds_of_every_format_are_discovered(web: HTTPServer) -> None:
    sources = [
        source(name="rss", kind="feed", urls=[web.url_for("/rss091.xml"), web.url_for("/rss10.rdf")]),
        source(name="atom", kind="feed", url=web.url_for("/atom.xml")),
        source(name="json", kind="feed", url=web.url_for("/feed.json"), group="markets"),
    ]
    items, fetches, rejects = discover(sources, OPTIONS)
    assert [(f.status, f.error_class) for f in fetches] == [(200, None)] * 4
    assert {f.source_name for f in fetches} == {"rss", "atom", "json"}
    assert len(items) == 8
    assert {i.source_name for i in items if "markets" in i.url} == {"json"}
    assert [i.source_kind for i in items if i.source_name == "json"] == ["feed", "feed"]
    assert [r.reason for r in rejects] == ["unsupported_scheme"]  # the mailto: item of the JSON Feed


def test_source_options_since_allow_deny_and_max_items(web: HTTPServer) -> None:
    feed = web.url_for("/rss20.xml")
    sources = [
        source(name="politics", kind="feed", url=feed, since="2024-01-01", deny=["/podcasts/"]),
        source(name="capped", kind="feed", url=feed, max_items=1),
        source(name="allowed", kind="feed", url=feed, allow=[r"old-story$"]),
    ]
    items, _, rejects = discover(sources, OPTIONS)
    politics = [i.url.rsplit("/", 1)[-1] for i in items if i.source_name == "politics"]
    assert politics == ["council-budget?page=1", "mayor-housing"]  # duplicate, podcast and 2023 story dropped
    capped = [i.url.rsplit("/", 1)[-1] for i in items if i.source_name == "capped"]
    assert capped == ["week-in-politics"]  # its newest new item: the two newer ones were found by "politics"
    assert [i.url.rsplit("/", 1)[-1] for i in items if i.source_name == "allowed"] == ["old-story"]
    assert items[1].url == web.url_for("/politics/mayor-housing")  # relative link resolved against the feed URL
    assert not rejects


def test_sitemap_index_is_followed_with_since_pruning(web: HTTPServer, tmp_path: Path) -> None:
    index = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{web.url_for("/sitemap.xml")}</loc><lastmod>2024-06-12</lastmod></sitemap>
  <sitemap><loc>/news-sitemap.xml</loc></sitemap>
  <sitemap><loc>{web.url_for("/sitemap.xml.gz")}</loc><lastmod>2024-06-30</lastmod></sitemap>
  <sitemap><loc>{web.url_for("/archive-2019.xml")}</loc><lastmod>2019-02-01</lastmod></sitemap>
</sitemapindex>"""
    web.expect_request("/sitemap-index.xml").respond_with_data(index, content_type="application/xml")
    config = source(name="ledger", kind="sitemap", url=web.url_for("/sitemap-index.xml"), since="2024-06-01")
    items, fetches, rejects = discover([config], OPTIONS, raw_root=tmp_path)
    fetched = sorted(f.url.rsplit("/", 1)[-1] for f in fetches)
    assert fetched == ["news-sitemap.xml", "sitemap-index.xml", "sitemap.xml", "sitemap.xml.gz"]  # 2019 archive pruned
    assert [i.url.rsplit("/", 1)[-1] for i in items] == ["port-strike", "summit-ends", "bank-merger", "election-results", "about"]
    assert items[0].title == "Port workers begin a two-day strike"
    assert not rejects
    assert all(f.content_hash and list(tmp_path.rglob(f"{f.content_hash[2:]}*")) for f in fetches)


def test_malformed_feed_and_failed_source_do_not_stop_the_others(web: HTTPServer) -> None:
    web.expect_request("/gone.xml").respond_with_data("not here", status=404)
    sources = [
        source(name="broken", kind="feed", url=web.url_for("/malformed.xml")),
        source(name="gone", kind="feed", url=web.url_for("/gone.xml")),
        source(name="blocked", kind="feed", url=web.url_for("/private/feed.xml")),
        source(name="good", kind="feed", url=web.url_for("/atom.xml")),
    ]
    items, fetches, rejects = discover(sources, OPTIONS)
    assert {i.source_name for i in items} == {"good"} and len(items) == 2
    reasons = {(r.stage, r.reason) for r in rejects}
    assert reasons == {("discover", "feed_malformed"), ("fetch", "http_4xx"), ("fetch", "robots_disallowed")}
    assert next(r for r in rejects if r.reason == "feed_malformed").uri == web.url_for("/malformed.xml")
    assert len(fetches) == 4


def test_url_lists_inline_and_from_a_file_and_local_feed_files(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_bytes((FEEDS / "urls.txt").read_bytes())
    sources = [
        source(name="inline", kind="urls", urls=["https://news.example.org/a?utm_medium=x#c", "https://news.example.org/a"]),
        source(name="listed", kind="urls", file=listing),
        source(name="local", kind="feed", file=FEEDS / "rss10.rdf"),
        source(name="missing", kind="sitemap", file=tmp_path / "absent.xml"),
    ]
    items, fetches, rejects = discover(sources, OPTIONS)
    assert not fetches
    assert [(i.source_name, i.url) for i in items] == [
        ("inline", "https://news.example.org/a"),
        ("listed", "https://www.dailyledger.example.com/world/2024/06/summit-ends"),
        ("listed", "https://news.example.org/2024/11/ferry-timetable.html"),
        ("local", "https://science.example.net/articles/comet-survey"),
        ("local", "https://science.example.net/articles/glacier-retreat"),
    ]
    assert sorted(r.reason for r in rejects) == ["unreadable_file", "unsupported_scheme"]


def test_source_config_from_toml() -> None:
    document = tomllib.loads(
        """
[[sources]]
name = "valley"
kind = "feed"
url = "https://www.valleytimes.example.com/politics/rss.xml"
since = 2024-06-01
max_items = 20
deny = ["/podcasts/"]
group = "local"

[[sources]]
name = "ledger"
kind = "sitemap"
url = "https://www.dailyledger.example.com/sitemap.xml"
since = 2024-06-01T12:00:00+02:00
"""
    )
    valley, ledger = (SourceConfig.model_validate(table) for table in document["sources"])
    assert valley.since == datetime(2024, 6, 1, tzinfo=UTC) and valley.max_items == 20 and valley.group == "local"
    assert ledger.since == datetime(2024, 6, 1, 10, tzinfo=UTC)
    assert valley.locations == ("https://www.valleytimes.example.com/politics/rss.xml",)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "x", "kind": "feed"}, "needs `url`, `urls` or `file`"),
        ({"name": "x", "kind": "podcast", "url": "https://a.example/"}, "kind"),
        ({"name": "x", "kind": "feed", "url": "https://a.example/", "deny": ["(unclosed"]}, "not a valid regular expression"),
        ({"name": "x", "kind": "feed", "url": "https://a.example/", "max_items": 0}, "max_items"),
        ({"name": "x", "kind": "feed", "url": "https://a.example/", "maxitems": 3}, "maxitems"),
    ],
)
def test_bad_source_config_says_what_is_wrong(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SourceConfig.model_validate(fields)


def test_lastmod_is_dropped_for_a_site_that_is_not_trusted_on_it(web: HTTPServer) -> None:
    trusted, _, _ = discover([source(name="ledger", kind="sitemap", url=web.url_for("/sitemap.xml"))], OPTIONS)
    untrusted, _, _ = discover([source(name="ledger", kind="sitemap", url=web.url_for("/sitemap.xml"), trust_lastmod=False)],
                               OPTIONS)
    assert [i.url for i in trusted] == [i.url for i in untrusted]
    assert sum(i.modified_by is not None for i in trusted) == 3
    assert all(i.modified_by is None for i in untrusted)
