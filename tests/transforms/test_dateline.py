"""The dateline: days shown in text and URLs, and the day and byline by the headline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lxml_html

from transforms.dateline import parse_dateline, parse_shown_date


def _tree(page: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(page)


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


def test_the_headline_is_the_first_visible_h1_else_an_h2() -> None:
    dated = "<p>{}</p>"
    headline = "Ferry operator fined over safety lapses"
    hidden_first = (f"<html><body><figure><h1>{headline}</h1>{dated.format('May 1, 2020')}</figure>"
                    f"<h1>{headline}</h1>{dated.format('Updated May 6, 2024')}<p>{'Text. ' * 80}</p></body></html>")
    assert parse_shown_date(_tree(hidden_first), headline) == "2024-05-06"
    h1_after_h2 = (f"<html><body><h2>{headline}</h2>{dated.format('May 1, 2020')}<p>{'Text. ' * 80}</p>"
                   f"<h1>{headline}</h1>{dated.format('May 6, 2024')}</body></html>")
    assert parse_shown_date(_tree(h1_after_h2), headline) == "2024-05-06"
    only_h2 = f"<html><body><h2>{headline}</h2>{dated.format('May 1, 2020')}</body></html>"
    assert parse_shown_date(_tree(only_h2), headline) == "2020-05-01"
