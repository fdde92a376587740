"""Authors of record: whom a page credits, from its declarations, its byline markup and the byline shown.

`authors_of_record` chooses among what the page declares (JSON-LD author/creator, author
<meta> tags) and its byline markup (microdata, rel=author, "byline" classes); `pick_authors`
then weighs that against the byline shown under the headline (`transforms.dateline`) and
trafilatura's guess. The names themselves are cleaned by `transforms.bylines`.
"""

from __future__ import annotations

from typing import Any

from lxml.html import HtmlElement

from transforms.bylines import normalise_authors
from transforms.guesses import TrafilaturaMetadata
from transforms.jsonld import credited_names
from transforms.markup import element_text, microdata
from transforms.outlets import outlet_like, site_like, site_words


def authors_of_record(ld: dict[str, Any], meta_authors: list[str], keys: set[str],
                      tree: HtmlElement) -> tuple[tuple[str, ...], str | None, bool]:
    """The credited names, their source and whether only the outlet or an organisation is credited.

    People named in JSON-LD come first, with the agencies credited next to them ("dpa",
    "SDA"); the outlet's own name is left out when anyone else is credited. Where the
    declarations credit only the outlet or an organisation, a person named by the meta
    tags or the page's byline wins; else the organisation is the author of record.
    """
    people = normalise_authors(credited_names(ld.get("author")) + credited_names(ld.get("creator")))
    organisations = normalise_authors(credited_names(ld.get("author"), True) + credited_names(ld.get("creator"), True))
    fallback: tuple[tuple[str, ...], str | None] = ((), None)
    for names, source in ((people + organisations, "json_ld"), (normalise_authors(meta_authors), "meta")):
        if not names:
            continue
        if source == "json_ld" and people:  # the outlet's own entry is dropped next to the people it credits
            return people + tuple(n for n in organisations if not outlet_like(n, keys)), source, False
        if source == "meta" and not all(outlet_like(n, keys) for n in names):
            return names, source, False
        if not fallback[0]:
            fallback = (names, source)
    if html := _html_authors(tree):
        return html, "html", False
    return fallback[0], fallback[1], bool(fallback[0])


def _html_authors(tree: HtmlElement) -> tuple[str, ...]:
    for element in microdata(tree, "author") + microdata(tree, "creator"):
        named = microdata(element, "name")
        text = (named[0].get("content") or element_text(named[0])) if named else (
            element.get("content") or element_text(element))
        if names := normalise_authors(text):
            return names
    for element in tree.xpath('.//a[@rel="author"]|.//*[contains(@class, "byline") or contains(@id, "byline") '
                              'or contains(@data-testid, "byline")]'):
        if not isinstance(element, HtmlElement):
            continue
        links = [t for a in element.iterfind(".//a") if (t := element_text(a))]
        text = element_text(element)
        if links and len(" ".join(links)) < 120 and (names := normalise_authors(links)):
            return names
        if len(text) < 120 and (names := normalise_authors(text)):
            return names
    return ()


def pick_authors(declared: tuple[str, ...], declared_source: str | None, outlet_only: bool, site_name: str | None,
                 guess: TrafilaturaMetadata | None, byline: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """The declared authors, completed by the byline under the headline where they are cut
    short ("Todd" declared, "By Todd Bates" shown); else the byline; else trafilatura's guess."""
    if declared and len(byline) == len(declared) and byline != declared and all(
            shown.lower() == name.lower() or shown.lower().startswith(name.lower() + " ")
            for shown, name in zip(byline, declared)):
        return byline, "html"
    if declared and not outlet_only:
        return declared, declared_source or "meta"
    if byline:  # people named under the headline, where the declarations credit only the outlet or nobody
        return byline, "html"
    known = site_words(site_name, None)
    if guess is not None and guess.author and (names := normalise_authors(guess.author.split(";"))):
        names = tuple(n for n in names if not site_like(n, known))
        if names:
            return names, "trafilatura"
    return declared, (declared_source or "meta") if declared else None
