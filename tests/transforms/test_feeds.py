"""Feeds, sitemaps and URL lists parse into normalised, deduplicated work items."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.discovery import parse_source, select_items
from transforms.decoding import parse_content_type, sniff_charset, sniff_media_type
from transforms.feeds import Parsed, parse_datetime

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
WEB = Path(__file__).resolve().parent.parent / "fixtures" / "web"
NOW = datetime(2024, 7, 1, tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    """A parsed moment as ISO 8601 UTC with a Z, as the assertions write them."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(name: str, url: str | None = None) -> Parsed:
    return parse_source(
        (FEEDS / name).read_bytes(),
        url=url or f"https://feeds.example.com/{name}",
        source_name="test",
        source_kind="feed",
        discovered_at=NOW,
    )


def test_rss_091_keeps_links_and_drops_tracking_and_fragments() -> None:
    parsed = parse("rss091.xml")
    assert parsed.format == "rss" and not parsed.rejects
    assert [i.url for i in parsed.items] == [
        "https://news.example.org/2024/11/ferry-timetable.html",
        "https://news.example.org/2024/11/cafe-reopens.html",
    ]
    assert parsed.items[1].title == "Café on the quay reopens"
    assert parsed.items[0].source_name == "test" and parsed.items[0].discovered_at == NOW


def test_rss_10_rdf_dates_are_converted_to_utc() -> None:
    parsed = parse("rss10.rdf")
    assert [(i.url, _iso(i.published_at)) for i in parsed.items] == [
        ("https://science.example.net/articles/comet-survey", "2024-03-05T08:30:00Z"),
        ("https://science.example.net/articles/glacier-retreat", "2024-02-20T12:00:00Z"),
    ]


def test_rss_20_resolves_relative_links_against_the_feed_url() -> None:
    parsed = parse("rss20.xml", url="https://www.valleytimes.example.com/politics/rss.xml")
    urls = [i.url for i in parsed.items]
    assert urls[0] == "https://www.valleytimes.example.com/politics/council-budget?page=1"
    assert urls[1] == "https://www.valleytimes.example.com/politics/mayor-housing"
    assert _iso(parsed.items[1].published_at) == "2024-03-04T07:15:00Z"
    assert urls[3] == urls[0]  # same article twice: select_items removes it


def test_atom_uses_the_alternate_link_and_published_date() -> None:
    parsed = parse("atom.xml")
    assert parsed.format == "atom" and not parsed.rejects
    assert [(i.url, _iso(i.published_at)) for i in parsed.items] == [
        ("https://blog.example.io/posts/night-trains", "2024-04-02T02:30:00Z"),
        ("https://blog.example.io/posts/bike-lanes", "2024-03-28T14:00:00Z"),
    ]


def test_json_feed_takes_url_or_external_url_and_rejects_other_schemes() -> None:
    parsed = parse("feed.json")
    assert parsed.format == "json_feed"
    assert [i.url for i in parsed.items] == [
        "https://markets.example.com/2024/05/rates-hold",
        "https://wire.example.org/story/oil-prices",
    ]
    assert _iso(parsed.items[0].published_at) == "2024-05-02T12:00:00Z"
    assert [(r.reason, r.stage) for r in parsed.rejects] == [("unsupported_scheme", "discover")]


def test_sitemap_plain_and_gzipped_give_the_same_items() -> None:
    plain, zipped = parse("sitemap.xml"), parse("sitemap.xml.gz")
    assert plain.format == zipped.format == "sitemap"
    assert plain.items == zipped.items
    assert len(plain.items) == 4
    assert _iso(plain.items[0].published_at) == "2024-06-12T00:00:00Z" and plain.items[3].published_at is None


def test_sitemap_items_carry_lastmod_as_an_upper_bound() -> None:
    items = parse("sitemap.xml").items
    assert [i.modified_by.isoformat() if i.modified_by else None for i in items] == [
        "2024-06-13T00:00:00+00:00", "2024-06-10T21:00:00+00:00", "2024-05-26T00:00:00+00:00", None]



def test_sitemap_index_lists_child_sitemaps_with_lastmod() -> None:
    parsed = parse("sitemap-index.xml", url="https://www.dailyledger.example.com/sitemap.xml")
    assert parsed.format == "sitemap_index" and not parsed.items
    assert [(c.url, _iso(c.lastmod)) for c in parsed.sitemaps] == [
        ("https://www.dailyledger.example.com/sitemap-2024-06.xml", "2024-06-12T08:00:00Z"),
        ("https://www.dailyledger.example.com/sitemap-news.xml", None),
        ("https://www.dailyledger.example.com/sitemap-2019-01.xml.gz", "2019-02-01T00:00:00Z"),
    ]


def test_google_news_sitemap_gives_publication_date_and_title() -> None:
    parsed = parse("news-sitemap.xml")
    assert parsed.format == "news_sitemap"
    assert [(_iso(i.published_at), i.title) for i in parsed.items] == [
        ("2024-06-13T05:45:00Z", "Port workers begin a two-day strike"),
        ("2024-06-12T00:00:00Z", "Two regional banks agree to merge"),
    ]


def test_url_list_skips_comments_and_rejects_other_schemes() -> None:
    parsed = parse("urls.txt")
    assert parsed.format == "text"
    assert [i.url for i in parsed.items] == [
        "https://www.dailyledger.example.com/world/2024/06/summit-ends",
        "https://www.dailyledger.example.com/world/2024/06/summit-ends",
        "https://news.example.org/2024/11/ferry-timetable.html",
    ]
    assert [r.reason for r in parsed.rejects] == ["unsupported_scheme"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ((FEEDS / "malformed.xml").read_bytes(), "feed_malformed"),
        (b"", "empty_feed"),
        (b"{not json", "feed_malformed"),
        (b'{"version": "x"}', "feed_malformed"),
        (b"\x00\x01binary", "feed_malformed"),
        (gzip.compress(b"<urlset>") [:12], "feed_malformed"),
        (gzip.compress(b" " * 2_000_000), "decompression_bomb"),
    ],
)
def test_broken_documents_become_rejects_not_exceptions(body: bytes, reason: str) -> None:
    parsed = parse_source(body, url="https://x.example/f", source_name="t", source_kind="feed", discovered_at=NOW, max_bytes=1_000_000)
    assert parsed.format == "invalid" and not parsed.items
    assert [r.reason for r in parsed.rejects] == [reason]
    assert parsed.rejects[0].uri == "https://x.example/f"


def test_select_items_dedups_filters_and_limits() -> None:
    items = parse("rss20.xml", url="https://www.valleytimes.example.com/politics/rss.xml").items
    kept = select_items(items, since=datetime(2024, 1, 1, tzinfo=UTC), allow=[r"/politics/"], deny=[r"mayor"])
    assert [i.title for i in kept] == ["Council approves the new budget"]
    assert len(select_items(items)) == 4
    assert len(select_items(items, max_items=2)) == 2
    undated = parse("sitemap.xml").items
    assert [i.url.rsplit("/", 1)[-1] for i in select_items(undated, since=datetime(2024, 6, 1))] == [
        "summit-ends",
        "election-results",
        "about",
    ]
    assert select_items(items, seen=[items[0].url])[0].url != items[0].url


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_parse_source_never_raises(body: bytes) -> None:
    parsed = parse_source(body, url="https://x.example/f", source_name="t", source_kind="feed", discovered_at=NOW)
    assert parsed.items or parsed.rejects or parsed.format != "invalid"


def test_charset_from_header_meta_or_detection() -> None:
    page = (WEB / "cp1251-meta-only.html").read_bytes()
    assert sniff_charset(page) == "cp1251"
    assert "бюджет" in page.decode(sniff_charset(page) or "")
    assert sniff_charset(page, "koi8-r") == "koi8-r"  # the header wins over the meta tag
    assert sniff_charset("<p>déjà vu</p>".encode()) == "utf-8"
    assert sniff_charset(b"\xef\xbb\xbf<p>x</p>", "latin-1") == "utf-8"  # a BOM wins over everything
    assert parse_content_type('text/html; charset="UTF-8"') == ("text/html", "utf-8")
    assert parse_content_type("TEXT/HTML;charset=nonsense") == ("text/html", None)
    assert parse_content_type(None) == ("", None)


def test_sniff_media_type() -> None:
    assert sniff_media_type((WEB / "jpost-608399.html").read_bytes()) == "text/html"
    assert sniff_media_type((FEEDS / "rss20.xml").read_bytes()) == "application/xml"
    assert sniff_media_type(b"%PDF-1.7\n") == ""
    assert sniff_media_type((FEEDS / "sitemap.xml.gz").read_bytes()) == "application/gzip"


def test_parse_datetime_formats() -> None:
    assert parse_datetime("2024") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_datetime("2024-05") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_datetime("Tue, 05 Mar 2024 18:04:00 GMT") == datetime(2024, 3, 5, 18, 4, tzinfo=UTC)
    assert parse_datetime("not a date") is None


def _parse(body: bytes, kind: str) -> Parsed:
    return parse_source(body, url="https://x.example/f", source_name="t", source_kind=kind, discovered_at=NOW)


def test_a_feed_read_leniently_still_gives_its_items_and_a_malformed_reject() -> None:
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Us & them</title>'
            b"<item><link>https://x.example/a</link></item><item><link>https://x.example/b</link></item></channel></rss>")
    parsed = _parse(body, "feed")
    assert [i.url for i in parsed.items] == ["https://x.example/a", "https://x.example/b"]
    [reject] = parsed.rejects
    assert (reject.reason, reject.uri) == ("feed_malformed", "https://x.example/f")
    assert "not well-formed" in reject.message and "2 entries read leniently" in reject.message


def test_a_sitemap_cut_short_gives_what_it_lists_and_a_malformed_reject() -> None:
    body = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            b"<url><loc>https://x.example/a</loc></url><url><loc>https://x.example/b</loc></url><url><loc>https://x.ex")
    parsed = _parse(body, "sitemap")
    assert [i.url for i in parsed.items][:2] == ["https://x.example/a", "https://x.example/b"]  # and what the cut left
    assert [r.reason for r in parsed.rejects][:1] == ["sitemap_malformed"]
    assert "line 1" in parsed.rejects[0].message  # the parser's own message


@pytest.mark.parametrize(("body", "kind"), [
    (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>', "feed"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>no link</title></item></channel></rss>', "feed"),
    (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>', "sitemap"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "feed"),
])
def test_a_feed_or_sitemap_listing_nothing_usable_is_a_reject(body: bytes, kind: str) -> None:
    parsed = _parse(body, kind)
    assert not parsed.items and [r.reason for r in parsed.rejects] == ["empty_feed"]
