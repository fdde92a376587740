"""Structured metadata: JSON-LD, Open Graph, <meta>, microdata; bylines and dates."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lxml_html

from transforms.bylines import normalise_authors
from transforms.dates import normalise_date
from transforms.guesses import TrafilaturaMetadata
from transforms.jsonld import parse_json_ld
from transforms.metadata import parse_metadata

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
        ("Jane Smith, Associated Press", ("Jane Smith", "Associated Press")),  # the agency is an author of record
        ("Jane Smith | Reuters", ("Jane Smith", "Reuters")),
        ("Jane Smith, Senior Correspondent", ("Jane Smith",)),
        ("Written by Jane Smith; Omar Haddad", ("Jane Smith", "Omar Haddad")),
        ("View all posts by Daniel Lemire", ("Daniel Lemire",)),
        ("Adam Aaronson PhillyVoice Staff", ("Adam Aaronson",)),
        ("Associated Press", ("Associated Press",)),
        ("Staff", ()),
        ("https://www.facebook.com/janesmith", ()),
        ("jane@example.com", ()),
    ],
)
def test_bylines_are_cleaned(raw: str, expected: tuple[str, ...]) -> None:
    assert normalise_authors(raw) == expected


@given(st.text(max_size=80))
def test_normalisers_never_raise(raw: str) -> None:
    names = normalise_authors(raw)
    assert all(name == name.strip() and name for name in names)
    assert normalise_authors(list(names)) == names  # idempotent
    normalise_date(raw)


@pytest.mark.parametrize("url", ["https://courier.example/business/ferry-fine", None])
def test_trafilatura_metadata_is_what_extract_metadata_finds(url: str | None) -> None:
    """Each field found on its own (only when asked) equals trafilatura's whole-page metadata."""
    from trafilatura.metadata import extract_metadata

    pages = [PAGE] + [gzip.decompress(p.read_bytes()).decode() if p.suffix == ".gz" else p.read_text()
                      for p in sorted(FIXTURES.glob("*.htm*"))]
    for page in pages:
        tree = lxml_html.fromstring(page)
        whole = extract_metadata(tree, url)
        lazy = TrafilaturaMetadata(tree, url)
        assert (lazy.title, lazy.author, lazy.date, lazy.sitename) == (
            whole.title, whole.author, whole.date, whole.sitename)
