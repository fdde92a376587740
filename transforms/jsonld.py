"""JSON-LD: the schema.org objects a page declares in <script type="application/ld+json">.

`parse_json_ld` returns every object (the @graph and nested items included), `article_item`
the one that describes the article, and the helpers read its values as text or as the names
of the people and organisations it credits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

from lxml.html import HtmlElement

from transforms.text import normalise_line

ARTICLE_TYPES = frozenset(
    {
        "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
        "backgroundnewsarticle", "reviewnewsarticle", "askpublicnewsarticle", "blogposting", "liveblogposting",
        "socialmediaposting", "scholarlyarticle", "medicalscholarlyarticle", "techarticle", "report",
        "satiricalarticle", "advertisercontentarticle", "review", "recipe", "howto",
    }
)
ORGANISATION_TYPES = frozenset({"organization", "newsmediaorganization", "corporation", "newsagency"})
INDEX_TYPES = frozenset({"collectionpage", "itemlist", "searchresultspage", "website", "blog", "sitenavigationelement"})


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _walk_json(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema.org object in a JSON-LD document, @graph and nesting included."""
    for item in _as_list(node):
        if not isinstance(item, dict):
            continue
        yield item
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement", "hasPart"):
            if isinstance(item.get(key), (dict, list)):
                yield from _walk_json(item[key])


def parse_json_ld(tree: HtmlElement) -> list[dict[str, Any]]:
    """All schema.org objects declared in <script type="application/ld+json">."""
    items: list[dict[str, Any]] = []
    for script in tree.iterfind(".//script"):
        if "ld+json" not in (script.get("type") or "").lower() or not script.text:
            continue
        raw = script.text.strip().removeprefix("<!--").removesuffix("-->").strip().rstrip(";")
        try:
            data = json.loads(raw)
        except ValueError:
            try:  # raw newlines and tabs inside strings are common
                data = json.loads(re.sub(r"[\n\r\t]+", " ", raw))
            except ValueError:
                continue
        items.extend(_walk_json(data))
    return items


def item_types(item: dict[str, Any]) -> set[str]:
    """An object's @type values, lower-case and without the schema.org prefix."""
    return {str(t).rsplit("/", 1)[-1].lower() for t in _as_list(item.get("@type"))}


def text_of(value: Any) -> str | None:
    """A JSON-LD value as one clean line: a string, or the name/@value/text of an object."""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("text")
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    cleaned = normalise_line(unescape(re.sub(r"<[^>]+>", " ", value)))
    return cleaned or None


def credited_names(value: Any, organisations: bool = False) -> list[str]:
    """The names of the people credited, or with `organisations` those of the organisations credited."""
    names: list[str] = []
    for person in _as_list(value):
        if isinstance(person, str) and not organisations:
            names.append(person)
        elif isinstance(person, dict):
            if bool(item_types(person) & ORGANISATION_TYPES) != organisations:
                continue
            name = person.get("name")
            if isinstance(name, list):
                name = " ".join(str(n) for n in name)
            if not name and (person.get("givenName") or person.get("familyName")):
                name = " ".join(str(person.get(k, "")) for k in ("givenName", "familyName"))
            if isinstance(name, str):
                names.append(name)
    return names


def article_item(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The object that describes the article: one with a headline and the longest body first."""
    articles = [item for item in items if item_types(item) & ARTICLE_TYPES]
    if not articles:
        return None
    return max(articles, key=lambda item: (bool(item.get("headline")), len(str(item.get("articleBody") or ""))))


def site_name_of(items: list[dict[str, Any]], article: dict[str, Any] | None) -> str | None:
    """The publisher named by the article, else the name of an organisation or website declared."""
    if article is not None and (name := text_of(article.get("publisher"))):
        return name
    for item in items:
        if item_types(item) & {"newsmediaorganization", "organization", "website"} and (name := text_of(item.get("name"))):
            return name
    return None
