"""classify_page: the reject reason of a page that is not an article, or None."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html

from transforms.metadata import parse_metadata
from transforms.pages import MIN_ARTICLE_CHARS, classify_page

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "html"
ARTICLE = """<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": "Ferry fined"}
</script></head><body><article><h1>Ferry fined</h1><p>%s</p></article></body></html>"""


def _classify(page: str, body_text: str) -> tuple[str, str] | None:
    tree = lxml_html.fromstring(page)
    return classify_page(tree, body_text, parse_metadata(tree))


def test_an_article_passes() -> None:
    text = "The operator was fined on Monday after inspectors found lifejackets missing. " * 5
    assert _classify(ARTICLE % text, text) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [("paywall_stub.html", "paywall"), ("consent_wall.html", "consent_wall"), ("js_shell.html", "js_shell")],
)
def test_stubs_with_little_text_get_their_reason(name: str, reason: str) -> None:
    verdict = _classify((FIXTURES / name).read_text(encoding="utf-8"), "")
    assert verdict is not None and verdict[0] == reason and verdict[1]


def test_a_list_of_links_is_an_index_page() -> None:
    links = [f"Harbour story number {i} makes the news" for i in range(12)]
    page = "<html><body>" + "".join(f'<p><a href="/s{i}">{t}</a></p>' for i, t in enumerate(links)) + "</body></html>"
    verdict = _classify(page, "\n".join(links))
    assert verdict is not None and verdict[0] == "not_article_index"
    assert _classify(ARTICLE % "x", "\n".join(links)) is None  # declared an article: left alone


def test_short_text_without_any_sign_is_left_to_the_length_check() -> None:
    assert _classify("<html><body><p>Short note.</p></body></html>", "Short note.") is None
    assert MIN_ARTICLE_CHARS > len("Short note.")
