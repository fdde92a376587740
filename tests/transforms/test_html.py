"""extract_html on real news pages (Scrapinghub benchmark, MIT) and realistic non-article pages."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from transforms.html import decode_html, extract_html
from transforms.models import Article, Document, to_article_id, to_content_hash

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "html"
SEEDS = Path(__file__).resolve().parent.parent.parent / "seeds"
BBC_URL = "https://www.bbc.com/news/newsbeat-50470672"
NYPOST_URL = "https://nypost.com/2019/11/18/chinese-hunter-catches-bubonic-plague-after-eating-wild-rabbit/"


def _page(name: str) -> bytes:
    data = (FIXTURES / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def _article(name: str, url: str | None, source: str = "url") -> Article:
    extracted = extract_html(Document(uri=url or name, source=source, body=_page(name), media_type="text/html", url=url))
    assert extracted.reject is None, extracted.reject
    assert extracted.article is not None
    return extracted.article


def test_bbc_page_text_starts_with_headline_then_body() -> None:
    article = _article("bbc_newsbeat_50470672.html.gz", BBC_URL)
    assert article.title == "Taylor Swift is allowed to play her music at the AMAs after all"
    assert article.text.startswith(article.title + "\n\n")
    first_body = article.text[article.blocks[1].start : article.blocks[1].end]
    assert first_body.startswith("A row involving Taylor Swift, her former record label")
    assert "Big Machine, says she will be allowed to play her old tracks" in article.text
    # the headline is not repeated as the first body block
    assert article.text.count("Taylor Swift is allowed to play her music at the AMAs after all") == 1
    # boilerplate around the article stays out
    for junk in ("Share this with", "Copyright ©", "Related Topics", "Read about our approach to external linking"):
        assert junk not in article.text


def test_blocks_tile_the_text_with_one_blank_line() -> None:
    article = _article("nypost_bubonic_plague.html.gz", NYPOST_URL)
    assert article.blocks[0].kind == "headline"
    assert {b.kind for b in article.blocks[1:]} <= {"paragraph", "subheading", "list_item", "blockquote", "table_row"}
    pieces = [article.text[b.start : b.end] for b in article.blocks]
    assert "\n\n".join(pieces) == article.text
    assert all(piece and piece == piece.strip() and "\n\n" not in piece for piece in pieces)
    assert article.content_hash == to_content_hash(article.text)


def test_metadata_and_provenance_from_structured_data() -> None:
    article = _article("nypost_bubonic_plague.html.gz", NYPOST_URL)
    assert article.title == "Chinese hunter catches bubonic plague after eating wild rabbit"
    assert article.authors == ("Natalie Musumeci",)
    assert article.published_at is not None and article.published_at.startswith("2019-11-18T")
    assert article.published_at.endswith("+00:00")  # the zone is kept
    assert article.canonical_url == NYPOST_URL
    assert article.article_id == to_article_id(NYPOST_URL)
    provenance = dict(article.provenance)
    assert provenance["title"] in {"html", "json_ld", "meta"}
    assert provenance["canonical_url"] == "html"
    assert set(provenance.values()) <= {"json_ld", "meta", "html", "url", "text", "trafilatura"}
    assert {"text", "title", "authors", "published_at"} <= provenance.keys()


def test_typography_is_normalised_but_curly_quotes_stay() -> None:
    article = _article("nypost_bubonic_plague.html.gz", NYPOST_URL)
    assert "\u00a0" not in article.text and "\u200b" not in article.text
    assert "north China’s Inner Mongolia" in article.text  # the page's curly apostrophe


@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.html")))
def test_seed_pages_extract_with_seed_ids(seed: str) -> None:
    document = Document(uri=seed, source="seed", body=(SEEDS / seed).read_bytes(), media_type="text/html")
    extracted = extract_html(document)
    assert extracted.article is not None, extracted.reject
    article = extracted.article
    assert article.article_id == to_article_id(f"seed:{seed}")
    assert len(article.text) > 1000 and article.title and article.published_at
    assert article.canonical_url and article.canonical_url.startswith("https://")


def test_same_page_same_id_and_hash() -> None:
    one, two = (_article("bbc_newsbeat_50470672.html.gz", BBC_URL) for _ in range(2))
    assert (one.article_id, one.content_hash, one.text) == (two.article_id, two.content_hash, two.text)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("index_page.html", "not_article_index"),
        ("paywall_stub.html", "paywall"),
        ("consent_wall.html", "consent_wall"),
        ("js_shell.html", "js_shell"),
        ("no_article_text.html", "no_article_text"),
        ("not_html.pdf", "not_html"),
    ],
)
def test_pages_that_are_not_articles_are_rejected_with_their_reason(name: str, reason: str) -> None:
    document = Document(uri=f"https://courier.example/{name}", source="url", body=_page(name),
                        media_type="text/html", url=f"https://courier.example/{name}", fetch_id="f1")
    extracted = extract_html(document)
    assert extracted.article is None
    assert extracted.reject is not None
    assert (extracted.reject.stage, extracted.reject.reason) == ("extract", reason)
    assert extracted.reject.fetch_id == "f1" and extracted.reject.uri == document.uri
    assert extracted.reject.message


@pytest.mark.parametrize("body", [b"", b"   \n", b'{"error": "not found"}', b"just some plain words, no markup"])
def test_empty_and_non_html_bodies_are_rejected(body: bytes) -> None:
    extracted = extract_html(Document(uri="u", source="url", body=body, media_type="text/html"))
    assert extracted.article is None and extracted.reject is not None
    assert extracted.reject.reason in {"empty", "not_html"}


@pytest.mark.parametrize("declared", ["iso-8859-1", "iso-8859-15", "gb2312", "windows-1252"])
def test_decode_html_reads_utf8_bytes_whatever_the_page_declares(declared: str) -> None:
    """A page saved as UTF-8 that still declares the charset it was served in comes out right."""
    page = f'<html><head><meta charset="{declared}"></head><body><p>für sanción 人民网 “quoted”</p></body></html>'
    assert "für sanción 人民网 “quoted”" in decode_html(page.encode("utf-8"))
    assert "für sanción 人民网 “quoted”" in decode_html(page.encode("utf-8"), declared)  # an HTTP header too


def test_decode_html_prefers_declared_then_meta_charset() -> None:
    page = '<html><head><meta charset="windows-1252"></head><body><p>café “quoted”</p></body></html>'
    raw = page.encode("cp1252")
    assert "café “quoted”" in decode_html(raw)
    assert "café" in decode_html(page.replace("windows-1252", "utf-8").encode("utf-8"), "utf-8")


def test_short_paywalled_teaser_does_not_pass_as_article() -> None:
    page = _page("paywall_stub.html").replace(b"Subscribe to continue reading. Already a subscriber? Log in.", b"")
    extracted = extract_html(Document(uri="p", source="url", body=page, media_type="text/html"))
    assert extracted.article is None and extracted.reject is not None
    assert extracted.reject.reason == "paywall"  # isAccessibleForFree: False and almost no text


DATED_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Ferry operator fined over safety lapses</title>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Ferry operator fined over safety lapses", "datePublished": "{declared}",
 "dateModified": "2025-06-30T09:46:00Z"}}</script></head>
<body><article><h1>Ferry operator fined over safety lapses</h1>
<p class="byline">By Tom Price</p><p class="date">{dateline}</p>
<p>{body}</p><p>{body}</p></article></body></html>"""


@pytest.mark.parametrize(
    ("url", "declared", "dateline", "expected", "source"),
    [
        # the day by the byline beats a declared CMS date ...
        ("https://courier.example/ferry-fine", "2016-08-29T21:54:39+00:00", "Updated May 6, 2019", "2019-05-06", "html"),
        # ... the declared timestamp stays, with its time and zone, when both show the same day ...
        ("https://courier.example/ferry-fine", "2019-05-06T21:54:39-04:00", "May 6, 2019", "2019-05-06T21:54:39-04:00",
         "json_ld"),
        # ... and when the URL's day confirms it against a later "Updated" line
        ("https://courier.example/2019/11/8/ferry-fine", "2019-11-08T10:00:00+00:00", "Updated Nov 13, 2019",
         "2019-11-08T10:00:00+00:00", "json_ld"),
        # a UTC timestamp past midnight: the URL keeps the publisher's own day
        ("https://courier.example/2019/11/18/ferry-fine", "2019-11-19T02:34:30Z", "", "2019-11-18", "url"),
        # a declared local time (offset kept) is the publisher's day: a shown day one off it is the print edition
        ("https://courier.example/ferry-fine", "2024-04-25T19:30:04+02:00", "Ausgabe vom 26.04.2024",
         "2024-04-25T19:30:04+02:00", "json_ld"),
        # a UTC time at 12:36 is on no earlier local day anywhere (offsets reach -12:00): the day before is a broadcast
        ("https://courier.example/ferry-fine", "2026-04-15T12:36:37Z", "Im Radio am 14.04.2026 um 17:50 Uhr",
         "2026-04-15T12:36:37+00:00", "json_ld"),
        # ... while at 02:34 UTC it is still the day before in the Americas: the day shown wins
        ("https://courier.example/ferry-fine", "2019-11-19T02:34:30Z", "November 18, 2019", "2019-11-18", "html"),
        # a machine <time> stamp by the headline on the declared modification day is the update time
        ("https://courier.example/ferry-fine", "2025-06-29T17:29:54Z",
         '<time datetime="2025-06-30T09:46:00Z">09:46</time>', "2025-06-29T17:29:54+00:00", "json_ld"),
    ],
)
def test_published_day_is_the_one_the_page_states(url: str, declared: str, dateline: str, expected: str,
                                                   source: str) -> None:
    body = "The operator was fined on Monday after inspectors found lifejackets missing on two crossings. " * 3
    page = DATED_PAGE.format(declared=declared, dateline=dateline, body=body).encode()
    extracted = extract_html(Document(uri=url, source="url", body=page, media_type="text/html", url=url))
    assert extracted.article is not None, extracted.reject
    assert extracted.article.published_at == expected
    assert dict(extracted.article.provenance)["published_at"] == source


@pytest.mark.parametrize(
    ("declared", "byline", "expected", "source"),
    [
        ('"author": {"@type": "Person", "name": "Tom"},', "By Tom Price", ("Tom Price",), "html"),  # cut short
        ('"author": {"@type": "Person", "name": "Anna Berg"},', "By Tom Price", ("Anna Berg",), "json_ld"),
        ("", "Posted on May 6, 2019 by Tom Price", ("Tom Price",), "html"),
    ],
)
def test_authors_from_the_byline_under_the_headline(declared: str, byline: str, expected: tuple[str, ...],
                                                     source: str) -> None:
    body = "The operator was fined on Monday after inspectors found lifejackets missing on two crossings. " * 3
    page = DATED_PAGE.format(declared="2019-05-06", dateline="", body=body).replace('"datePublished"', declared
                                                                                      + ' "datePublished"')
    page = page.replace("By Tom Price", byline)
    extracted = extract_html(Document(uri="u", source="url", body=page.encode(), media_type="text/html"))
    assert extracted.article is not None, extracted.reject
    assert extracted.article.authors == expected
    assert dict(extracted.article.provenance)["authors"] == source


def test_a_title_cut_with_an_ellipsis_gives_way_to_the_whole_headline() -> None:
    body = "The operator was fined on Monday after inspectors found lifejackets missing on two crossings. " * 3
    page = DATED_PAGE.format(declared="2019-05-06", dateline="", body=body).replace(
        "<h1>Ferry operator fined over safety lapses</h1>", "<h1>Ferry operator fined over…</h1>").replace(
        '"headline": "Ferry operator fined over safety lapses"', '"headline": "Ferry operator fined over…"')
    extracted = extract_html(Document(uri="u", source="url", body=page.encode(), media_type="text/html"))
    assert extracted.article is not None and extracted.article.title == "Ferry operator fined over safety lapses"


@pytest.mark.parametrize(
    ("h1", "og_title", "expected"),
    [  # a kicker shown apart from the headline: the declared one-line title keeps its separator
        ('<span class="k">Bubi-Bomber wieder da</span><span class="sep">: </span><span>Thioune fordert Geduld</span>',
         "Bubi-Bomber wieder da: Thioune fordert Geduld", "Bubi-Bomber wieder da: Thioune fordert Geduld"),
        ("<span>Ausschuss zur Ahrtal-Flut</span> <span>Zwei Rücktritte und viele Fragen</span>",
         "Ausschuss zur Ahrtal-Flut: Zwei Rücktritte und viele Fragen",
         "Ausschuss zur Ahrtal-Flut: Zwei Rücktritte und viele Fragen"),
        ("Orden fürs Morden", "Nationaler Veteranentag: Orden fürs Morden", "Nationaler Veteranentag: Orden fürs Morden"),
    ],
)
def test_kicker_and_headline(h1: str, og_title: str, expected: str) -> None:
    body = "Der Betrieb wurde am Montag nach einer Kontrolle eingestellt, weil Rettungswesten fehlten. " * 3
    page = (f'<html><head><meta property="og:title" content="{og_title}"></head><body><article><h1>{h1}</h1>'
            f"<p>{body}</p><p>{body}</p></article></body></html>")
    extracted = extract_html(Document(uri="u", source="url", body=page.encode(), media_type="text/html"))
    assert extracted.article is not None and extracted.article.title == expected
