"""trafilatura's own metadata guesses (title, author, date, site name), each found on first use.

The extractor checks these against what the page declares (`transforms.metadata`) and uses
them where the page declares nothing.
"""

from __future__ import annotations

from functools import cached_property
from html import unescape

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import META_URL as TRAFILATURA_META_URL
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_sitename, extract_title, extract_url
from trafilatura.settings import Document as TrafilaturaDocument
from trafilatura.settings import set_date_params
from trafilatura.utils import line_processing


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
