"""Reading a parsed page's tags: <meta> values, microdata items, element and heading text.

Small readers shared by `transforms.metadata` (what a page declares) and `transforms.authors`
(whom it credits); each takes an lxml tree or element and returns clean text.
"""

from __future__ import annotations

import re
from html import unescape

from lxml.html import HtmlElement

from transforms.text import normalise_line

_MASTHEAD = re.compile(r"masthead|site-?title|site-?name|blog-?title|logo|branding|navbar|site-header|brand", re.I)


def meta_values(tree: HtmlElement) -> dict[str, list[str]]:
    """Every <meta> content by its lower-case property, name, itemprop or http-equiv, in page order."""
    values: dict[str, list[str]] = {}
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv") or "")
        content = meta.get("content")
        if key and content and content.strip():
            values.setdefault(key.strip().lower(), []).append(content.strip())
    return values


def first_meta(meta: dict[str, list[str]], keys: tuple[str, ...]) -> str | None:
    """The first non-empty value under the first of `keys` the page has."""
    for key in keys:
        for value in meta.get(key, ()):
            if value := normalise_line(unescape(value)):
                return value
    return None


def microdata(tree: HtmlElement, prop: str) -> list[HtmlElement]:
    """The elements with itemprop=`prop`."""
    return [e for e in tree.xpath(f'.//*[@itemprop="{prop}"]') if isinstance(e, HtmlElement)]


def heading_text(element: HtmlElement) -> str:
    """A heading's text with its parts (kicker, separator, headline) joined as written: a space
    between two parts only where neither has one and the next does not open with punctuation."""
    text = ""
    for piece in element.itertext():
        if text and piece and not text[-1].isspace() and not piece[0].isspace() and piece[0] not in ":,.;!?)\u2026":
            text += " "
        text += piece
    return normalise_line(re.sub(r"\s+", " ", text))


def element_text(element: HtmlElement) -> str:
    """An element's text as one line."""
    return normalise_line(re.sub(r"\s+", " ", " ".join(element.itertext())))


def in_masthead(element: HtmlElement) -> bool:
    """An <h1> that names the site (in the header, navigation or logo) rather than the article."""
    node: HtmlElement | None = element
    depth = 0
    while node is not None and depth < 8:
        if node.tag in {"header", "nav"} and node.getparent() is not None and node.getparent().tag == "body":
            return True
        if node.tag == "nav" or _MASTHEAD.search(f"{node.get('class', '')} {node.get('id', '')}"):
            return True
        node = node.getparent()
        depth += 1
    return False
