"""Structured metadata: JSON-LD, Open Graph, <meta>, microdata; bylines and dates."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lxml_html

from transforms.metadata import (
    normalise_authors,
    normalise_date,
    parse_json_ld,
    parse_dateline,
    parse_metadata,
    parse_shown_date,
    parse_shown_days,
    parse_url_day,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "html"

PAGE = """<!DOCTYPE html><html lang="en-GB"><head>
<title>Ferry operator fined over safety lapses | The Harbour Courier</title>
<meta property="og:title" content="Ferry operator fined over safety lapses">
<meta property="og:site_name" content="The Harbour Courier">
<meta property="og:type" content="article">
<meta property="article:section" content="Business">
<meta name="author" content="By Tom Price, Business Reporter">
<link rel="canonical" href="/business/ferry-fine">
<script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [
  {"@type": "WebSite", "name": "The Harbour Courier"},
  {"@type": ["NewsArticle"], "headline": "Ferry operator fined over safety lapses",
   "datePublished": "2024-03-11T07:30:00+01:00", "dateModified": "2024-03-11T09:02:00+01:00",
   "author": [{"@type": "Person", "name": "Anna Berg"}, {"@type": "Person", "name": "Tom Price"},
              {"@type": "Organization", "name": "The Harbour Courier"}],
   "publisher": {"@type": "NewsMediaOrganization", "name": "The Harbour Courier"},
   "articleBody": "The operator was fined on Monday.\\nIt will appeal."}
]}
</script>
</head><body><header class="site-header"><h1 class="logo">The Harbour Courier</h1></header>
<article><h1>Ferry operator fined over safety lapses</h1><p>The operator was fined on Monday.</p></article>
</body></html>"""


def _tree(page: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(page)


def test_json_ld_wins_and_says_so() -> None:
    meta = parse_metadata(_tree(PAGE), "https://courier.example/business/ferry-fine?utm=1")
    assert meta.title is not None and (meta.title.value, meta.title.source) == (
        "Ferry operator fined over safety lapses", "json_ld")
    assert meta.authors == ("Anna Berg", "Tom Price") and meta.authors_source == "json_ld"
    assert meta.published_at is not None and meta.published_at.value == "2024-03-11T07:30:00+01:00"
    assert meta.modified_at is not None and meta.modified_at.source == "json_ld"
    assert meta.site_name is not None and meta.site_name.value == "The Harbour Courier"
    assert meta.section is not None and (meta.section.value, meta.section.source) == ("Business", "meta")
    assert meta.language is not None and meta.language.value == "en-GB"
    assert meta.canonical_url is not None and meta.canonical_url.value == "https://courier.example/business/ferry-fine"
    assert meta.article_body and meta.article_body.startswith("The operator was fined")
    assert "newsarticle" in meta.page_types and "website" in meta.page_types
    assert meta.h1s == ("Ferry operator fined over safety lapses",)  # the logo <h1> is not a headline


def test_meta_tags_when_there_is_no_json_ld() -> None:
    page = PAGE.split("<script")[0] + "</head><body><p>x</p></body></html>"
    meta = parse_metadata(_tree(page))
    assert meta.title is not None and meta.title.source == "meta"
    assert meta.authors == ("Tom Price",) and meta.authors_source == "meta"
    assert meta.published_at is None and meta.canonical_url is None  # a relative link without a base URL


def test_microdata_byline_and_date() -> None:
    page = """<html><body><article itemscope itemtype="https://schema.org/Article">
    <span itemprop="author" itemscope itemtype="https://schema.org/Person">by <span itemprop="name">Lena Holm</span></span>
    <time itemprop="datePublished" datetime="2023-11-08T14:05:00-05:00">Nov. 8</time></article></body></html>"""
    meta = parse_metadata(_tree(page))
    assert meta.authors == ("Lena Holm",) and meta.authors_source == "html"
    assert meta.published_at is not None and meta.published_at.value == "2023-11-08T14:05:00-05:00"
    assert meta.published_at.source == "html"


def test_real_page_json_ld() -> None:
    tree = _tree(gzip.decompress((FIXTURES / "nypost_bubonic_plague.html.gz").read_bytes()).decode("utf-8"))
    assert any("NewsArticle" in str(item.get("@type")) for item in parse_json_ld(tree))
    meta = parse_metadata(tree)
    assert meta.authors == ("Natalie Musumeci",)


def test_broken_json_ld_is_skipped() -> None:
    page = '<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": </script></head></html>'
    assert parse_json_ld(_tree(page)) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("By Jane Smith", ("Jane Smith",)),
        ("by JANE SMITH and Tom O'Neill", ("Jane Smith", "Tom O'Neill")),
        ("Jane Smith, Associated Press", ("Jane Smith",)),
        ("Jane Smith | Reuters", ("Jane Smith",)),
        ("Jane Smith, Senior Correspondent", ("Jane Smith",)),
        ("Written by Jane Smith; Omar Haddad", ("Jane Smith", "Omar Haddad")),
        ("View all posts by Daniel Lemire", ("Daniel Lemire",)),
        ("Adam Aaronson PhillyVoice Staff", ("Adam Aaronson",)),
        ("Associated Press", ()),
        ("https://www.facebook.com/janesmith", ()),
        ("jane@example.com", ()),
    ],
)
def test_bylines_are_cleaned(raw: str, expected: tuple[str, ...]) -> None:
    assert normalise_authors(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2019-11-19T17:42:40+00:00", "2019-11-19T17:42:40+00:00"),
        ("2019-11-19T17:42:40Z", "2019-11-19T17:42:40+00:00"),
        ("2019-11-19T17:42:40.000-0500", "2019-11-19T17:42:40-05:00"),
        ("2019-11-19 17:42:40", "2019-11-19T17:42:40"),
        ("2019-11-19", "2019-11-19"),
        ("20191119", "2019-11-19"),
        ("Tue, 19 Nov 2019 17:42:40 GMT", "2019-11-19T17:42:40+00:00"),
        ("November 19, 2019", "2019-11-19"),
        ("not a date", None),
        ("1066-10-14", None),
    ],
)
def test_dates_become_iso_8601_with_zone_kept(raw: str, expected: str | None) -> None:
    assert normalise_date(raw) == expected


@given(st.text(max_size=80))
def test_normalisers_never_raise(raw: str) -> None:
    names = normalise_authors(raw)
    assert all(name == name.strip() and name for name in names)
    assert normalise_authors(list(names)) == names  # idempotent
    normalise_date(raw)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Posted on September 21, 2020 by Ada Lovelace", ["2020-09-21"]),
        ("Last updated 04 Jun 2020, originally created 17 Jun 2019", ["2020-06-04", "2019-06-17"]),
        ("Written: 2023-11-07 15:03:30 / Updated: 2023-11-07 15:30:46", ["2023-11-07", "2023-11-07"]),
        ("31. October, 2023 | 18 Comments", ["2023-10-31"]),
        ("Dec. 3rd 2019, 4:41AM", ["2019-12-03"]),
        ("01.21.2020 07:00 AM", ["2020-01-21"]),  # month first: 21 cannot be a month
        ("21/01/2020", ["2020-01-21"]),
        ("03/04/2020", []),  # day and month cannot be told apart
        ("February 30, 2020", []),
        ("Mayor 2020 race: 12 candidates", []),
    ],
)
def test_shown_days_are_read_in_order(text: str, expected: list[str]) -> None:
    assert [day for _start, _end, day in parse_shown_days(text)] == expected


DATELINE_PAGE = """<html><body><nav><a href="/">Home</a> <span>October 12, 2020</span></nav>
<header><p class="kicker">{kicker}</p><h1>Ferry operator fined over safety lapses</h1>
<h2>The operator will appeal the ruling.</h2>
<figure><img src="a.jpg"><figcaption>The ferry at the quay on March 2, 2024.</figcaption></figure>
<p class="byline">By <a href="/tom">Tom Price</a></p><p class="date">{dateline}</p></header>
<p>{paragraph}</p><aside><h2>Related</h2><p>Harbour fees rise</p><p>January 5, 2024</p></aside></body></html>"""


@pytest.mark.parametrize(
    ("kicker", "dateline", "expected"),
    [
        ("Business", "Updated May 6, 2024", "2024-05-06"),  # the only day shown, even if updated
        ("Business", "Last updated 04 Jun 2024, originally published 17 Mar 2024", "2024-03-17"),
        ("Business", "Posted: Mar 11, 2024 / 07:30 PM CST | Updated: Mar 12, 2024", "2024-03-11"),
        ("Business", '<time datetime="2024-03-11T07:30:00+01:00">2 hours ago</time>', "2024-03-11"),
        ("7 April 2024", "", "2024-04-07"),  # an issue date above the headline
        ("Business", "", None),  # the caption, the navigation and the sidebar do not count
    ],
)
def test_shown_date_is_the_dateline_by_the_headline(kicker: str, dateline: str, expected: str | None) -> None:
    page = DATELINE_PAGE.format(kicker=kicker, dateline=dateline, paragraph="The operator was fined. " * 20)
    assert parse_shown_date(_tree(page), "Ferry operator fined over safety lapses") == expected


def test_shown_date_needs_the_headline_and_stops_at_the_body() -> None:
    page = DATELINE_PAGE.format(kicker="Business", dateline="", paragraph="The operator was fined. " * 20)
    assert parse_shown_date(_tree(page), "A headline this page does not carry") is None
    body_first = DATELINE_PAGE.format(kicker="Business", dateline="",
                                      paragraph="The operator was fined. " * 20 + "It was fined on May 3, 2024.")
    assert parse_shown_date(_tree(body_first), "Ferry operator fined over safety lapses") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://courier.example/2019/11/8/20948348/ferry-fine", "2019-11-08"),
        ("https://courier.example/business/story/2019-11-19/ferry-fine", "2019-11-19"),
        ("https://courier.example/articles/35030/20160214/ferry-fine.htm", "2016-02-14"),
        ("https://courier.example/2019/13/01/ferry-fine", None),
        ("https://courier.example/ferry-fine-11574121884", None),
        (None, None),
    ],
)
def test_url_day(url: str | None, expected: str | None) -> None:
    assert parse_url_day(url) == expected


@given(st.text(max_size=120))
def test_shown_days_never_raise(text: str) -> None:
    assert all(start < end for start, end, _day in parse_shown_days(text))


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ('<p class="byline">By <a href="/tom">Tom Price</a></p>', ("Tom Price",)),
        ("<p>By</p><p><a>Anna Berg</a></p><p>,</p><p><a>Tom Price</a></p><p>March 11, 2024</p>", ("Anna Berg", "Tom Price")),
        ("<p>By <a>Anna Berg</a>, Business Reporter</p>", ("Anna Berg",)),
        ("<p>Posted on March 11, 2024 by Anna Berg</p>", ("Anna Berg",)),
        ("<p>By Anna Berg | 11/03/2024</p>", ("Anna Berg",)),
        ("<p>By</p><p><a>Anna Berg</a></p><p>View author archive</p>", ("Anna Berg",)),
        ("<p>Photo by Lena Holm</p>", ()),  # a credit, not a byline
        ("", ()),
    ],
)
def test_dateline_byline_names(byline: str, expected: tuple[str, ...]) -> None:
    page = DATELINE_PAGE.format(kicker="Business", dateline="", paragraph="The operator was fined. " * 20)
    page = page.replace('<p class="byline">By <a href="/tom">Tom Price</a></p>', byline)
    assert parse_dateline(_tree(page), "Ferry operator fined over safety lapses").authors == expected
