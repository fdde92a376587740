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
from urllib.parse import urljoin

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import META_URL as TRAFILATURA_META_URL
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_sitename, extract_title, extract_url
from trafilatura.settings import Document as TrafilaturaDocument
from trafilatura.settings import set_date_params
from trafilatura.utils import line_processing

from transforms.text import normalise_line

ARTICLE_TYPES = frozenset(
    {
        "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
        "backgroundnewsarticle", "reviewnewsarticle", "askpublicnewsarticle", "blogposting", "liveblogposting",
        "socialmediaposting", "scholarlyarticle", "medicalscholarlyarticle", "techarticle", "report",
        "satiricalarticle", "advertisercontentarticle", "review", "recipe", "howto",
    }
)
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

_BY = re.compile(r"^\s*(?:(?:view |see |more )?(?:all |more )?(?:posts|articles|stories) |(?:written|posted|reported|"
                 r"story|text|words|photos?|compiled|edited) )?by[:\s]+", re.I)
_FOR_OUTLET = re.compile(r"\s+[Ff](?:or|OR)\s+(?:[Tt]he\s+)?(?:[A-Z0-9][\w.'&-]*\s*)+$")
_DATE_LIKE = re.compile(r"\b(?:19|20)\d{2}\b|\d{1,2}:\d{2}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d"
                        r"|\b\d+\s+(?:min(?:ute)?s?|hours?|days?)\b", re.I)
_STAFF_SUFFIX = re.compile(r"(?<=\w)\s+(?:[\w.]+\s+)?staff(?:\s+(?:writer|reporter))?$", re.I)
_ROLES = (
    r"(?:the\s+)?(?:associated press|reuters|afp|ap|upi|bloomberg|cnn|bbc|pa|dpa|ians|pti|"
    r"staff(?:\s+(?:writer|reporter|report))?|(?:(?:senior|chief|deputy|political|business|sports|science|health|"
    r"foreign|managing|news|contributing|special|staff|associate|executive)\s+)*(?:correspondent|editor|reporter|"
    r"writer|columnist|contributor|producer|journalist|analyst)s?|contributors?|news\s+service|wire\s+services?)"
)
_ROLE = re.compile(rf"\s*(?:[,|/–—-]|\bfor\b)\s*{_ROLES}\b.*$", re.I)
_ROLE_ONLY = re.compile(rf"^{_ROLES}$", re.I)
_AGENCY_ONLY = re.compile(
    r"^(?:the\s+)?(?:associated press|reuters|afp|ap|upi|bloomberg|pa media|dpa|staff|admin|administrator|"
    r"editor|editors|editorial staff|.* staff|news desk|newsdesk|web desk|guest|anonymous|unknown)$",
    re.I,
)
_SPLIT_AUTHORS = re.compile(r"\s*(?:;|\||,\s*and\s+|\s+and\s+|\s+&\s+|,)\s*", re.I)
_URLISH = re.compile(r"^(?:https?:|www\.|/|@)|\.(?:com|org|net|co\.uk)\b", re.I)
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


def _person_names(value: Any) -> list[str]:
    names: list[str] = []
    for person in _as_list(value):
        if isinstance(person, str):
            names.append(person)
        elif isinstance(person, dict):
            if _types(person) & {"organization", "newsmediaorganization", "corporation"}:
                continue
            name = person.get("name")
            if isinstance(name, list):
                name = " ".join(str(n) for n in name)
            if not name and (person.get("givenName") or person.get("familyName")):
                name = " ".join(str(person.get(k, "")) for k in ("givenName", "familyName"))
            if isinstance(name, str):
                names.append(name)
    return names


def normalise_authors(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Clean bylines: no "By", roles, agency suffixes, e-mail or URLs; one name each."""
    pieces = [raw] if isinstance(raw, str) else list(raw)
    names: list[str] = []
    for piece in pieces:
        text = normalise_line(re.sub(r"[\x00-\x1f\x7f-\x9f\s]+", " ", unescape(re.sub(r"<[^>]+>", " ", piece))))
        text = _BY.sub("", text)
        text = re.sub(r"\S+@\S+", "", text)
        for name in _SPLIT_AUTHORS.split(text):
            name = _ROLE.sub("", _BY.sub("", name)).strip(" .,:;-–—|")
            name = _STAFF_SUFFIX.sub("", name) if len(name.split()) > 2 else name
            name = " ".join(_FOR_OUTLET.sub("", name).split())
            if (
                not name
                or _URLISH.search(name)
                or _AGENCY_ONLY.match(name)
                or _ROLE_ONLY.match(name)
                or len(name) > 60
                or len(name.split()) > 6
                or not re.search(r"[^\W\d_]", name)
                or _DATE_LIKE.search(name)
            ):
                continue
            if name.isupper() or name.islower():
                name = name.title() if name.isupper() else name
            if name.lower() not in {n.lower() for n in names}:
                names.append(name)
    return tuple(names)


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

    h1s = [text for e in tree.iterfind(".//h1") if not _in_masthead(e) and (text := _element_text(e))]
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

    authors: tuple[str, ...] = ()
    authors_source: str | None = None
    site_key = re.sub(r"\W", "", site.value.lower()) if site else ""
    meta_authors = next((values for k in _AUTHOR_META if (values := meta.get(k))), [])
    for raw_names, source in (
        (_person_names(ld.get("author")) + _person_names(ld.get("creator")), "json_ld"),
        (meta_authors, "meta"),
    ):
        names = normalise_authors([n for n in raw_names if not site_key or re.sub(r"\W", "", n.lower()) != site_key])
        names = tuple(n for n in names if not site_key or re.sub(r"\W", "", n.lower()) != site_key)
        if names:
            authors, authors_source = names, source
            break
    if not authors and (names := _html_authors(tree)):
        authors, authors_source = names, "html"

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
