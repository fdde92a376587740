"""Structured metadata of an HTML page: JSON-LD, Open Graph, <meta>, microdata.

`parse_metadata` reads a parsed page (an lxml tree) and returns the best value
of each field together with where it came from (`json_ld`, `meta`, `html`,
`url`), so that the extractor can check trafilatura's guesses against what the
publisher declared. It reads as one step per field, each over the same
`_Declarations` (the page's JSON-LD article, its <meta> tags and its tree).
JSON-LD is read by `transforms.jsonld`, dates by `transforms.dates`, the
credited names by `transforms.authors`; what the page shows by its headline
(the dateline) by `transforms.dateline`.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urljoin

from lxml.html import HtmlElement

from transforms.authors import authors_of_record
from transforms.dates import normalise_date
from transforms.jsonld import article_item, item_types, parse_json_ld, site_name_of, text_of
from transforms.markup import element_text, first_meta, heading_text, in_masthead, meta_values, microdata
from transforms.outlets import site_keys, site_words, strip_site_suffix
from transforms.text import normalise_line

__all__ = ["PageMetadata", "Sourced", "parse_metadata"]

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


@dataclass(frozen=True)
class _Declarations:
    """What a page declares, read once: its JSON-LD objects and article, its <meta> tags, its tree."""

    tree: HtmlElement
    url: str | None
    items: list[dict[str, Any]]
    ld: dict[str, Any]  # the article's JSON-LD object ({} when none)
    meta: dict[str, list[str]]

    def ld_text(self, key: str) -> str | None:
        return text_of(self.ld.get(key))

    def first_meta(self, keys: tuple[str, ...]) -> str | None:
        return first_meta(self.meta, keys)


def _pick(*candidates: tuple[str | None, str]) -> Sourced | None:
    for value, source in candidates:
        if value:
            return Sourced(value, source)
    return None


def _read(tree: HtmlElement, url: str | None) -> _Declarations:
    items = parse_json_ld(tree)
    return _Declarations(tree, url, items, article_item(items) or {}, meta_values(tree))


def _page_types(page: _Declarations) -> tuple[str, ...]:
    types = {t for item in page.items for t in item_types(item)}
    types.update(v.lower() for v in page.meta.get("og:type", ()))
    return tuple(sorted(types))


def _h1s(page: _Declarations) -> tuple[str, ...]:
    return tuple(text for e in page.tree.iterfind(".//h1") if not in_masthead(e) and (text := heading_text(e)))


def _site_name(page: _Declarations) -> Sourced | None:
    return _pick((site_name_of(page.items, page.ld or None), "json_ld"), (page.first_meta(_SITE_META), "meta"))


def _titles(page: _Declarations) -> tuple[Sourced, ...]:
    """Every declared title: the JSON-LD headline and name, the first of each title <meta>, the <title>."""
    titles = [Sourced(v, "json_ld") for v in (page.ld_text("headline"), page.ld_text("name")) if v]
    titles += [Sourced(t, "meta") for k in _TITLE_META for v in page.meta.get(k, ())[:1]
               if (t := normalise_line(unescape(v)))]
    title_tag = page.tree.find(".//title")
    if title_tag is not None and (html_title := element_text(title_tag)):
        titles.append(Sourced(html_title, "html"))
    return tuple(titles)


def _title(page: _Declarations, titles: tuple[Sourced, ...], h1s: tuple[str, ...], site: Sourced | None) -> Sourced | None:
    """The best title from declarations alone: JSON-LD, a <meta>, the only <h1>, the <title> less the site's name."""
    html_title = next((t.value for t in titles if t.source == "html"), None)
    return _pick(
        (titles[0].value if titles and titles[0].source == "json_ld" else None, "json_ld"),
        (page.first_meta(_TITLE_META), "meta"),
        (h1s[0] if len(h1s) == 1 else None, "html"),
        (strip_site_suffix(html_title, site_words(site.value if site else None, None)) if html_title else None, "html"),
    )


def _authors(page: _Declarations, site: Sourced | None) -> tuple[tuple[str, ...], str | None, bool]:
    keys = site_keys((site.value if site else "", *page.meta.get("og:site_name", ())), page.url)
    meta_authors = next((values for k in _AUTHOR_META if (values := page.meta.get(k))), [])
    return authors_of_record(page.ld, meta_authors, keys, page.tree)


def _microdata_date(page: _Declarations, prop: str) -> str | None:
    for element in microdata(page.tree, prop):
        value = element.get("content") or element.get("datetime") or element_text(element)
        if value and (parsed := normalise_date(value)):
            return parsed
    return None


def _published(page: _Declarations) -> Sourced | None:
    return _pick(
        (normalise_date(page.ld_text("datePublished") or ""), "json_ld"),
        (normalise_date(page.first_meta(_PUBLISHED_META) or ""), "meta"),
        (_microdata_date(page, "datePublished"), "html"),
        (normalise_date(page.ld_text("dateCreated") or ""), "json_ld"),
    )


def _modified(page: _Declarations) -> Sourced | None:
    return _pick(
        (normalise_date(page.ld_text("dateModified") or ""), "json_ld"),
        (normalise_date(page.first_meta(_MODIFIED_META) or ""), "meta"),
        (_microdata_date(page, "dateModified"), "html"),
    )


def _language(page: _Declarations) -> Sourced | None:
    html_lang = page.tree.get("lang") or page.tree.get("xml:lang")
    language = _pick(
        (page.ld_text("inLanguage"), "json_ld"),
        (html_lang.strip() if html_lang and html_lang.strip() else None, "html"),
        (page.first_meta(_LANGUAGE_META), "meta"),
    )
    if language is None:
        return None
    return Sourced(language.value.replace("_", "-").split(",")[0].strip(), language.source)


def _canonical_url(page: _Declarations) -> Sourced | None:
    """<link rel=canonical>, else og:url, made absolute; None unless it is an http(s) URL."""
    url = page.url
    canonical = None
    for link in page.tree.iterfind(".//link"):
        if "canonical" in (link.get("rel") or "").lower().split() and (href := (link.get("href") or "").strip()):
            canonical = Sourced(urljoin(url, href) if url else href, "html")
            break
    if canonical is None and (og_url := page.first_meta(("og:url",))):
        canonical = Sourced(urljoin(url, og_url) if url else og_url, "meta")
    if canonical is not None and not canonical.value.startswith(("http://", "https://")):
        return None
    return canonical


def parse_metadata(tree: HtmlElement, url: str | None = None) -> PageMetadata:
    """Every field the page declares about itself, with its source."""
    page = _read(tree, url)
    h1s = _h1s(page)
    site = _site_name(page)
    titles = _titles(page)
    authors, authors_source, authors_are_outlet = _authors(page, site)
    body = page.ld.get("articleBody")
    free = page.ld.get("isAccessibleForFree")
    return PageMetadata(
        title=_title(page, titles, h1s, site),
        titles=titles,
        h1s=h1s,
        authors=authors,
        authors_source=authors_source,
        authors_are_outlet=authors_are_outlet,
        published_at=_published(page),
        modified_at=_modified(page),
        site_name=site,
        language=_language(page),
        section=_pick((page.ld_text("articleSection"), "json_ld"), (page.first_meta(_SECTION_META), "meta")),
        canonical_url=_canonical_url(page),
        description=_pick((page.ld_text("description"), "json_ld"),
                          (page.first_meta(("og:description", "description")), "meta")),
        article_body=body if isinstance(body, str) and body.strip() else None,
        page_types=_page_types(page),
        accessible_for_free=(str(free).lower() not in {"false", "0", "no"}) if free is not None else None,
    )
