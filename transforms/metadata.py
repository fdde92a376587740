"""Structured metadata of an HTML page: JSON-LD, Open Graph, <meta>, microdata.

`parse_metadata` reads a parsed page (an lxml tree) and returns the best value
of each field together with where it came from (`json_ld`, `meta`, `html`,
`url`), so that the extractor can check trafilatura's guesses against what the
publisher declared. Bylines are cleaned (`normalise_authors`) and dates are
turned into ISO 8601 with the time zone kept when given (`normalise_date`).
What the page shows by its headline (the dateline) is read in `transforms.dateline`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import META_URL as TRAFILATURA_META_URL
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_sitename, extract_title, extract_url
from trafilatura.settings import Document as TrafilaturaDocument
from trafilatura.settings import set_date_params
from trafilatura.utils import line_processing

from transforms.bylines import normalise_authors
from transforms.text import normalise_line

__all__ = ["normalise_authors", "normalise_date", "parse_metadata", "parse_json_ld", "PageMetadata", "Sourced",
           "TrafilaturaMetadata"]

ARTICLE_TYPES = frozenset(
    {
        "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
        "backgroundnewsarticle", "reviewnewsarticle", "askpublicnewsarticle", "blogposting", "liveblogposting",
        "socialmediaposting", "scholarlyarticle", "medicalscholarlyarticle", "techarticle", "report",
        "satiricalarticle", "advertisercontentarticle", "review", "recipe", "howto",
    }
)
_ORGANISATION_TYPES = frozenset({"organization", "newsmediaorganization", "corporation", "newsagency"})
INDEX_TYPES = frozenset({"collectionpage", "itemlist", "searchresultspage", "website", "blog", "sitenavigationelement"})

_AUTHOR_META = ("author", "article:author", "og:article:author", "byl", "dc.creator", "dc.creator.aut",
                "dcterms.creator", "parsely-author", "sailthru.author", "citation_author", "twitter:creator")
_PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished", "pubdate",
                   "publishdate", "publish-date", "publish_date", "date", "dc.date", "dc.date.issued",
                   "dcterms.date", "dcterms.created", "parsely-pub-date", "sailthru.date", "citation_publication_date",
                   "article.published", "published_time", "cxenseparse:recs:publishtime", "og:published_time")
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dc.date.modified",
                  "dcterms.modified", "last-modified", "lastmod", "article.updated", "modified_time")
_TITLE_META = ("og:title", "twitter:title", "parsely-title", "sailthru.title", "dc.title", "citation_title", "title")
_SITE_META = ("og:site_name", "application-name", "publisher", "dc.publisher", "twitter:site")
_SECTION_META = ("article:section", "og:article:section", "parsely-section", "section", "category")
_LANGUAGE_META = ("content-language", "language", "dc.language", "og:locale", "inlanguage")

_TITLE_SPLIT = re.compile(r"\s+[|–—·•:»-]\s+")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TEXT_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%Y/%m/%d", "%d/%m/%Y",
                      "%m/%d/%Y", "%b. %d, %Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y.%m.%d", "%d.%m.%Y")


@dataclass(frozen=True)
class Sourced:
    """A field value and where it came from: "json_ld", "meta", "html" or "url"."""

    value: str
    source: str


@dataclass(frozen=True)
class PageMetadata:
    title: Sourced | None = None  # the best title from declarations alone
    titles: tuple[Sourced, ...] = ()  # every declared title: JSON-LD headline, og:title, <title>, ...
    h1s: tuple[str, ...] = ()  # <h1> texts outside the page's header, navigation and logo
    authors: tuple[str, ...] = ()
    authors_source: str | None = None
    authors_are_outlet: bool = False  # only the outlet or an organisation is credited: a byline may name people
    published_at: Sourced | None = None
    modified_at: Sourced | None = None
    site_name: Sourced | None = None
    language: Sourced | None = None
    section: Sourced | None = None
    canonical_url: Sourced | None = None
    description: Sourced | None = None
    article_body: str | None = None  # JSON-LD articleBody, as declared
    page_types: tuple[str, ...] = ()  # lower-case JSON-LD @type values and og:type
    accessible_for_free: bool | None = None  # JSON-LD isAccessibleForFree


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


def _types(item: dict[str, Any]) -> set[str]:
    return {str(t).rsplit("/", 1)[-1].lower() for t in _as_list(item.get("@type"))}


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("text")
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    cleaned = normalise_line(unescape(re.sub(r"<[^>]+>", " ", value)))
    return cleaned or None


def _person_names(value: Any, organisations: bool = False) -> list[str]:
    """The names of the people credited, or with `organisations` those of the organisations credited."""
    names: list[str] = []
    for person in _as_list(value):
        if isinstance(person, str) and not organisations:
            names.append(person)
        elif isinstance(person, dict):
            if bool(_types(person) & _ORGANISATION_TYPES) != organisations:
                continue
            name = person.get("name")
            if isinstance(name, list):
                name = " ".join(str(n) for n in name)
            if not name and (person.get("givenName") or person.get("familyName")):
                name = " ".join(str(person.get(k, "")) for k in ("givenName", "familyName"))
            if isinstance(name, str):
                names.append(name)
    return names


def _outlet_like(name: str, site_keys: set[str]) -> bool:
    key = re.sub(r"\W", "", name.lower())
    return bool(key) and any(key == site or key in site or site in key for site in site_keys if len(site) > 2)


def _authors_of_record(ld: dict[str, Any], meta_authors: list[str], site_keys: set[str],
                       tree: HtmlElement) -> tuple[tuple[str, ...], str | None, bool]:
    """The credited names, their source and whether only the outlet or an organisation is credited.

    People named in JSON-LD come first, with the agencies credited next to them ("dpa",
    "SDA"); the outlet's own name is left out when anyone else is credited. Where the
    declarations credit only the outlet or an organisation, a person named by the meta
    tags or the page's byline wins; else the organisation is the author of record.
    """
    people = normalise_authors(_person_names(ld.get("author")) + _person_names(ld.get("creator")))
    organisations = normalise_authors(_person_names(ld.get("author"), True) + _person_names(ld.get("creator"), True))
    fallback: tuple[tuple[str, ...], str | None] = ((), None)
    for names, source in ((people + organisations, "json_ld"), (normalise_authors(meta_authors), "meta")):
        if not names:
            continue
        if source == "json_ld" and people:  # the outlet's own entry is dropped next to the people it credits
            return people + tuple(n for n in organisations if not _outlet_like(n, site_keys)), source, False
        if source == "meta" and not all(_outlet_like(n, site_keys) for n in names):
            return names, source, False
        if not fallback[0]:
            fallback = (names, source)
    if html := _html_authors(tree):
        return html, "html", False
    return fallback[0], fallback[1], bool(fallback[0])


def normalise_date(raw: str) -> str | None:
    """ISO 8601 from a declared date: date only stays a date, a given time zone is kept."""
    text = normalise_line(raw)
    if not text:
        return None
    if m := _COMPACT_DATE.match(text):
        text = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    if _DATE_ONLY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        return day.isoformat() if 1990 <= day.year <= 2100 else None
    candidate = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
    candidate = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", candidate)
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            for fmt in _TEXT_DATE_FORMATS:
                try:
                    parsed = datetime.strptime(text, fmt)
                except ValueError:
                    continue
                if "%H" not in fmt:
                    return parsed.date().isoformat() if 1990 <= parsed.year <= 2100 else None
                break
    if parsed is None or not 1990 <= parsed.year <= 2100:
        return None
    return parsed.isoformat()


def _meta_values(tree: HtmlElement) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv") or "")
        content = meta.get("content")
        if key and content and content.strip():
            values.setdefault(key.strip().lower(), []).append(content.strip())
    return values


def _first_meta(meta: dict[str, list[str]], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        for value in meta.get(key, ()):
            if value := normalise_line(unescape(value)):
                return value
    return None


def _microdata(tree: HtmlElement, prop: str) -> list[HtmlElement]:
    return [e for e in tree.xpath(f'.//*[@itemprop="{prop}"]') if isinstance(e, HtmlElement)]


def _heading_text(element: HtmlElement) -> str:
    """A heading's text with its parts (kicker, separator, headline) joined as written: a space
    between two parts only where neither has one and the next does not open with punctuation."""
    text = ""
    for piece in element.itertext():
        if text and piece and not text[-1].isspace() and not piece[0].isspace() and piece[0] not in ":,.;!?)\u2026":
            text += " "
        text += piece
    return normalise_line(re.sub(r"\s+", " ", text))


def _element_text(element: HtmlElement) -> str:
    return normalise_line(re.sub(r"\s+", " ", " ".join(element.itertext())))


_MASTHEAD = re.compile(r"masthead|site-?title|site-?name|blog-?title|logo|branding|navbar|site-header|brand", re.I)


def _in_masthead(element: HtmlElement) -> bool:
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


def _html_authors(tree: HtmlElement) -> tuple[str, ...]:
    for element in _microdata(tree, "author") + _microdata(tree, "creator"):
        named = _microdata(element, "name")
        text = (named[0].get("content") or _element_text(named[0])) if named else (
            element.get("content") or _element_text(element))
        if names := normalise_authors(text):
            return names
    for element in tree.xpath('.//a[@rel="author"]|.//*[contains(@class, "byline") or contains(@id, "byline") '
                              'or contains(@data-testid, "byline")]'):
        if not isinstance(element, HtmlElement):
            continue
        links = [t for a in element.iterfind(".//a") if (t := _element_text(a))]
        text = _element_text(element)
        if links and len(" ".join(links)) < 120 and (names := normalise_authors(links)):
            return names
        if len(text) < 120 and (names := normalise_authors(text)):
            return names
    return ()


def _date_from_html(tree: HtmlElement, prop: str) -> str | None:
    for element in _microdata(tree, prop):
        value = element.get("content") or element.get("datetime") or _element_text(element)
        if value and (parsed := normalise_date(value)):
            return parsed
    return None


def _article_item(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    articles = [item for item in items if _types(item) & ARTICLE_TYPES]
    if not articles:
        return None
    return max(articles, key=lambda item: (bool(item.get("headline")), len(str(item.get("articleBody") or ""))))


def _site_from(items: list[dict[str, Any]], article: dict[str, Any] | None) -> str | None:
    if article is not None and (name := _text(article.get("publisher"))):
        return name
    for item in items:
        if _types(item) & {"newsmediaorganization", "organization", "website"} and (name := _text(item.get("name"))):
            return name
    return None


def _pick(*candidates: tuple[str | None, str]) -> Sourced | None:
    for value, source in candidates:
        if value:
            return Sourced(value, source)
    return None


def _strip_site(title: str, site: str | None) -> str:
    """Drop a " | Site" suffix (or "Site - " prefix) from a <title>."""
    parts = _TITLE_SPLIT.split(title)
    if len(parts) < 2:
        return title
    if site and parts[-1].lower() in site.lower() or site and site.lower() in parts[-1].lower():
        return " - ".join(parts[:-1]) if len(parts) > 2 else parts[0]
    if site and parts[0].lower() in site.lower():
        return " - ".join(parts[1:])
    return title


def parse_metadata(tree: HtmlElement, url: str | None = None) -> PageMetadata:
    """Every field the page declares about itself, with its source."""
    items = parse_json_ld(tree)
    article = _article_item(items)
    meta = _meta_values(tree)
    ld: dict[str, Any] = article or {}
    page_types = {t for item in items for t in _types(item)}
    page_types.update(v.lower() for v in meta.get("og:type", ()))

    h1s = [text for e in tree.iterfind(".//h1") if not _in_masthead(e) and (text := _heading_text(e))]
    site = _pick((_site_from(items, article), "json_ld"), (_first_meta(meta, _SITE_META), "meta"))
    title_tag = tree.find(".//title")
    html_title = _element_text(title_tag) if title_tag is not None else ""
    titles = [Sourced(v, "json_ld") for v in (_text(ld.get("headline")), _text(ld.get("name"))) if v]
    titles += [Sourced(t, "meta") for k in _TITLE_META for v in meta.get(k, ())[:1] if (t := normalise_line(unescape(v)))]
    if html_title:
        titles.append(Sourced(html_title, "html"))
    title = _pick(
        (titles[0].value if titles and titles[0].source == "json_ld" else None, "json_ld"),
        (_first_meta(meta, _TITLE_META), "meta"),
        (h1s[0] if len(h1s) == 1 else None, "html"),
        (_strip_site(html_title, site.value if site else None) if html_title else None, "html"),
    )

    site_keys = {re.sub(r"\W", "", v.lower()) for v in (site.value if site else "", *meta.get("og:site_name", ())) if v}
    if url and (host := urlsplit(url).hostname):
        site_keys.add(re.sub(r"\W", "", host.removeprefix("www.").rsplit(".", 1)[0]))
    meta_authors = next((values for k in _AUTHOR_META if (values := meta.get(k))), [])
    authors, authors_source, authors_are_outlet = _authors_of_record(ld, meta_authors, site_keys, tree)

    published = _pick(
        (normalise_date(_text(ld.get("datePublished")) or ""), "json_ld"),
        (normalise_date(_first_meta(meta, _PUBLISHED_META) or ""), "meta"),
        (_date_from_html(tree, "datePublished"), "html"),
        (normalise_date(_text(ld.get("dateCreated")) or ""), "json_ld"),
    )
    modified = _pick(
        (normalise_date(_text(ld.get("dateModified")) or ""), "json_ld"),
        (normalise_date(_first_meta(meta, _MODIFIED_META) or ""), "meta"),
        (_date_from_html(tree, "dateModified"), "html"),
    )
    html_lang = tree.get("lang") or tree.get("xml:lang")
    language = _pick(
        (_text(ld.get("inLanguage")), "json_ld"),
        (html_lang.strip() if html_lang and html_lang.strip() else None, "html"),
        (_first_meta(meta, _LANGUAGE_META), "meta"),
    )
    if language is not None:
        language = Sourced(language.value.replace("_", "-").split(",")[0].strip(), language.source)
    section = _pick((_text(ld.get("articleSection")), "json_ld"), (_first_meta(meta, _SECTION_META), "meta"))

    canonical = None
    for link in tree.iterfind(".//link"):
        if "canonical" in (link.get("rel") or "").lower().split() and (href := (link.get("href") or "").strip()):
            canonical = Sourced(urljoin(url, href) if url else href, "html")
            break
    if canonical is None and (og_url := _first_meta(meta, ("og:url",))):
        canonical = Sourced(urljoin(url, og_url) if url else og_url, "meta")
    if canonical is not None and not canonical.value.startswith(("http://", "https://")):
        canonical = None

    body = ld.get("articleBody")
    free = ld.get("isAccessibleForFree")
    return PageMetadata(
        title=title,
        titles=tuple(titles),
        h1s=tuple(h1s),
        authors=authors,
        authors_source=authors_source,
        authors_are_outlet=authors_are_outlet,
        published_at=published,
        modified_at=modified,
        site_name=site,
        language=language,
        section=section,
        canonical_url=canonical,
        description=_pick((_text(ld.get("description")), "json_ld"),
                          (_first_meta(meta, ("og:description", "description")), "meta")),
        article_body=body if isinstance(body, str) and body.strip() else None,
        page_types=tuple(sorted(page_types)),
        accessible_for_free=(str(free).lower() not in {"false", "0", "no"}) if free is not None else None,
    )


class TrafilaturaMetadata:
    """trafilatura's own metadata guesses (title, author, date, site name), each found on first use.

    The same values as `trafilatura.extract_metadata` gives, field by field: the extractor
    consults the title on every page but the author, date and site name only where the page
    declares none, and the whole of `extract_metadata` (with htmldate's date search, categories,
    tags and licence) costs about half as much again as the body extraction itself.
    """

    def __init__(self, tree: HtmlElement, url: str | None) -> None:
        self._tree = tree
        self._url = url

    @cached_property
    def _declared(self) -> TrafilaturaDocument:
        declared = examine_meta(self._tree)
        if declared.author and " " not in declared.author:
            declared.author = None
        try:
            declared = extract_meta_json(self._tree, declared)
        except Exception:  # noqa: BLE001 - as extract_metadata: bugs in trafilatura's JSON-LD reader
            pass
        return declared

    @cached_property
    def title(self) -> str | None:
        return _trimmed(self._declared.title or extract_title(self._tree))

    @cached_property
    def author(self) -> str | None:
        return _trimmed(self._declared.author or extract_author(self._tree))

    @cached_property
    def _page_url(self) -> str | None:
        return self._declared.url or extract_url(self._tree, self._url)

    @cached_property
    def date(self) -> str | None:
        found = find_date(self._tree, **{**set_date_params(True), "url": self._page_url})
        return _trimmed(found)

    @cached_property
    def sitename(self) -> str | None:
        name = self._declared.sitename or extract_sitename(self._tree)
        if name:
            name = name.lstrip("@")
            if name and "." not in name and not name[0].isupper():
                name = name.title()
        elif self._page_url and (match := TRAFILATURA_META_URL.match(self._page_url)):
            name = match[1]
        return _trimmed(name)


def _trimmed(value: str | None) -> str | None:
    """A metadata string as trafilatura's `Document.clean_and_trim` leaves it."""
    if not isinstance(value, str):
        return value
    if len(value) > 10000:
        value = value[:9999] + "…"
    return line_processing(unescape(value))
