"""HTML articles: body extraction with trafilatura, checked against structured data.

`extract_html` turns a fetched page (or an HTML seed) into an `Article` whose
text is the headline followed by the body blocks, joined by blank lines. The
body is trafilatura's extraction, checked against what the page declares about
itself (JSON-LD `articleBody`, Open Graph, <meta>, microdata; see
`transforms.metadata`) and, only when the first pass looks wrong, against a
second pass in recall mode. The date and byline are those the page shows by its
headline where it shows them (`transforms.dateline.parse_dateline`). Pages that
are not articles (index pages, paywall stubs, consent walls, JavaScript shells;
see `transforms.pages`) become a `Reject` with a reason of their own instead of
junk text.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from lxml.etree import _Element
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Document as TrafilaturaDocument
from trafilatura.utils import load_html

from transforms.dateline import Dateline, parse_dateline, parse_url_day
from transforms.hydration import find_script_html
from transforms.decoding import PageError, decode_html
from transforms.metadata import (PageMetadata, Sourced, TrafilaturaMetadata, normalise_authors, normalise_date,
                                 parse_metadata)
from transforms.models import Article, Document, Extracted, Reject, to_article_id, to_content_hash
from transforms.pages import MIN_ARTICLE_CHARS, classify_page
from transforms.text import Piece, join_pieces, normalise_line, normalise_text

logger = logging.getLogger(__name__)

_HTML_TAG = re.compile(r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|main|section|span|a|br)\b", re.I)
_WORD = re.compile(r"\w+")
_TITLE_SEPARATOR = re.compile(r"(\s+[|–—·•:»~-]\s+|\s*[|·•»]\s*)")
_EDGE_BOILERPLATE = re.compile(
    r"newsletter|sign(?:ing)? up\b|subscribe\b|subscribers?\b|already a subscriber|never miss|want to be informed|"
    r"follow us|share (?:this|on)\b|^(?:related|read more|more|advertisement|comments?|view comments|tags?)\b:?|"
    r"all rights reserved|^(?:©|copyright\b|\(c\))|copyrighted property|written permission|without permission|"
    r"reprint(?:ed)?\b|submit your (?:letter|story|news)|log ?in\b|sign in\b|welcome gift|click here",
    re.I,
)
def _element_text(element: _Element) -> str:
    parts: list[str] = []
    for node in element.iter():
        if node is not element and node.tag == "lb":
            parts.append("\n")
        if node.text and node.tag not in {"graphic"}:
            parts.append(node.text)
        if node is not element and node.tail:
            parts.append(node.tail)
    text = normalise_text("".join(parts))
    return text.replace("\n\n", "\n")


def _child_text(element: _Element) -> str:
    """Text of an element without its own tail (iter() above includes descendants' tails)."""
    return _element_text(element)


def _pieces(body: _Element) -> list[Piece]:
    """Typed blocks from trafilatura's XML body (head, p, list, quote, table, code)."""
    pieces: list[Piece] = []

    def add(kind: str, text: str) -> None:
        if text:
            pieces.append(Piece(kind, text))

    for child in body:
        tag = child.tag
        if tag == "head":
            add("subheading", _child_text(child))
        elif tag == "list":
            for item in child.iterchildren("item"):  # a nested list stays inside its item
                add("list_item", _child_text(item))
        elif tag == "table":
            for row in child.iter("row"):
                cells = [_child_text(cell) for cell in row.iter("cell")]
                add("table_row", " | ".join(c.replace("\n", " ") for c in cells if c))
        elif tag == "quote":
            add("blockquote", _child_text(child))
        elif tag == "graphic":
            continue
        else:
            add("paragraph", _child_text(child))
        if child.tail and child.tail.strip():
            add("paragraph", normalise_line(child.tail))
    return pieces


def _same(a: str, b: str) -> bool:
    return _WORD.findall(a.lower()) == _WORD.findall(b.lower())


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _coverage(part: str, whole: str) -> float:
    """Share of `whole`'s distinct words that `part` contains."""
    whole_words = set(_tokens(whole))
    if not whole_words:
        return 0.0
    return len(whole_words & set(_tokens(part))) / len(whole_words)


def _body_pieces_from_ld(article_body: str) -> list[Piece]:
    text = normalise_text(re.sub(r"<[^>]+>", " ", article_body))
    return [Piece("paragraph", chunk.replace("\n", " ")) for chunk in text.split("\n\n") if chunk]


def _run_trafilatura(tree: HtmlElement, url: str | None, focus: str) -> TrafilaturaDocument | None:
    result = bare_extraction(
        tree,
        url=url,
        with_metadata=False,  # TrafilaturaMetadata finds the fields we use, when we use them
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        favor_recall=focus == "recall",
        favor_precision=focus == "precision",
    )
    return result if isinstance(result, TrafilaturaDocument) else None


def _choose_body(tree: HtmlElement, first: TrafilaturaDocument | None, meta: PageMetadata,
                 url: str | None) -> tuple[list[Piece], str, list[str]]:
    """The body blocks, their source and notes on the choice made."""
    notes: list[str] = []
    pieces = _pieces(first.body) if first is not None and first.body is not None else []
    text = "\n".join(p.text for p in pieces)
    declared = meta.article_body
    declared_len = len(normalise_line(declared)) if declared else 0
    if declared and declared_len >= MIN_ARTICLE_CHARS and _coverage(text, declared) < 0.6:
        # trafilatura missed much of what the publisher declares as the body: try recall mode
        recall = _run_trafilatura(tree, url, "recall")
        recall_pieces = _pieces(recall.body) if recall is not None and recall.body is not None else []
        recall_text = "\n".join(p.text for p in recall_pieces)
        if _coverage(recall_text, declared) >= 0.8 and len(recall_text) < 3 * declared_len:
            notes.append("body: recall mode (covers the JSON-LD articleBody)")
            return recall_pieces, "trafilatura", notes
        notes.append("body: JSON-LD articleBody (trafilatura missed most of it)")
        return _body_pieces_from_ld(declared), "json_ld", notes
    if len(text) < MIN_ARTICLE_CHARS:
        recall = _run_trafilatura(tree, url, "recall")
        recall_pieces = _pieces(recall.body) if recall is not None and recall.body is not None else []
        if len("\n".join(p.text for p in recall_pieces)) >= MIN_ARTICLE_CHARS:
            notes.append("body: recall mode (balanced mode found too little)")
            return recall_pieces, "trafilatura", notes
    return pieces, "trafilatura", notes


def _trim_edges(pieces: list[Piece]) -> tuple[list[Piece], int]:
    """Drop short promotional or legal blocks at the end (and start) of the body: sign-up
    prompts, paywall notices, copyright lines. The middle of an article is left alone."""
    def boilerplate(piece: Piece) -> bool:
        return len(piece.text) < 300 and bool(_EDGE_BOILERPLATE.search(piece.text))

    before = len(pieces)
    while len(pieces) > 1 and boilerplate(pieces[-1]):
        pieces = pieces[:-1]
    while len(pieces) > 1 and boilerplate(pieces[0]):
        pieces = pieces[1:]
    return pieces, before - len(pieces)


def _drop_headline(pieces: list[Piece], titles: list[str]) -> list[Piece]:
    """Remove leading blocks that repeat the headline (it is the first block already)."""
    while pieces and pieces[0].kind in {"subheading", "paragraph"} and any(_same(pieces[0].text, t) for t in titles if t):
        pieces = pieces[1:]
    return pieces


def _site_words(meta: PageMetadata, url: str | None) -> set[str]:
    words = set(_tokens(meta.site_name.value)) if meta.site_name else set()
    if url:
        host = urlsplit(url).hostname or ""
        words.update(w for w in _tokens(host.removeprefix("www.")) if w not in {"com", "org", "net", "co", "uk", "www"})
    return words


def _site_like(text: str, site_words: set[str]) -> bool:
    words = set(_tokens(text))
    squashed = "".join(_tokens(text))
    return bool(words) and (words <= site_words or squashed in site_words or bool(site_words) and site_words <= words)


def _strip_site_suffix(title: str, site_words: set[str]) -> str:
    """Drop " | Site" and "Site - " parts from a declared title, keeping the rest as written."""
    parts = _TITLE_SEPARATOR.split(title)  # text, separator, text, ...
    while len(parts) > 2 and _site_like(parts[-1], site_words):
        parts = parts[:-2]
    while len(parts) > 2 and _site_like(parts[0], site_words):
        parts = parts[2:]
    return "".join(parts).strip()


def _contained(inner: str, outer: str) -> bool:
    a, b = " ".join(_tokens(inner)), " ".join(_tokens(outer))
    return bool(a) and a != b and f" {a} " in f" {b} " and len(a.split()) >= 3


def _kicker_of(declared: str, h1: str) -> bool:
    """The declared title is the <h1> headline with its kicker in front ("Kicker: Headline"):
    the page shows the two apart (or the kicker without its colon), the declaration as one line."""
    a, b = _tokens(declared), _tokens(h1)
    if not b or a == b and declared != h1:
        return bool(b)
    match = re.match(r"^(.{2,80}?)\s*(?::|\s/|\s[–—-]|\|)\s+(.+)$", declared)
    return match is not None and _tokens(match.group(2)) == b and len(_tokens(match.group(1))) <= 6


def _title_matches(h1: str, ref: str) -> bool:
    a, b = " ".join(_tokens(h1)), " ".join(_tokens(ref))
    if not a or not b:
        return False
    if a == b or b.startswith(a + " ") or b.endswith(" " + a):
        return True
    return (a in b or b in a) and min(len(a), len(b)) / max(len(a), len(b)) >= 0.5


def _pick_title(meta: PageMetadata, guess: TrafilaturaMetadata | None, url: str | None) -> Sourced | None:
    """The headline: an <h1> confirmed by a declared title, else the declarations, site name removed."""
    refs = [t.value for t in meta.titles]
    if guess is not None and guess.title:
        refs.append(guess.title)
    site_words = _site_words(meta, url)
    declared = [t for t in meta.titles if t.source != "html"]
    for page_title in (t.value for t in meta.titles if t.source == "html"):
        # what the <title> adds around the declared headline is the site's name
        for t in declared:
            if _contained(t.value, page_title):
                site_words |= set(_tokens(page_title)) - set(_tokens(t.value))
    h1s = [h for h in meta.h1s[:6] if not _site_like(h, site_words)]
    for h1 in h1s:
        for ref in declared:  # an <h1> with a kicker or standfirst around the declared headline
            stripped = _strip_site_suffix(ref.value, site_words)
            if _contained(stripped, h1) or _kicker_of(stripped, h1):
                return Sourced(stripped, ref.source)
        if any(_title_matches(h1, ref) for ref in refs):
            return Sourced(h1, "html")
    if len(h1s) == 1 and len(_tokens(h1s[0])) >= 3:
        return Sourced(h1s[0], "html")
    for candidate in meta.titles:
        value = _strip_site_suffix(candidate.value, site_words)
        if value and not _site_like(value, site_words):
            return Sourced(value, candidate.source)
    if guess is not None and guess.title:
        return Sourced(_strip_site_suffix(normalise_line(guess.title), site_words), "trafilatura")
    return meta.title


def _uncut_title(title: Sourced | None, meta: PageMetadata) -> Sourced | None:
    """A headline cut short with "…" or "..." gives way to a declared or shown title that it begins."""
    if title is None or not title.value.endswith(("…", "...")):
        return title
    stem = title.value.rstrip(".… ")
    for candidate in (*meta.h1s, *(t.value for t in meta.titles)):
        if len(candidate) > len(stem) + 1 and candidate.startswith(stem) and not candidate.endswith(("…", "...")):
            return Sourced(candidate, title.source)
    return title


def _pick_authors(meta: PageMetadata, guess: TrafilaturaMetadata | None,
                  byline: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """The declared authors, completed by the byline under the headline where they are cut
    short ("Todd" declared, "By Todd Bates" shown); else the byline; else trafilatura's guess."""
    declared = meta.authors
    if declared and len(byline) == len(declared) and byline != declared and all(
            shown.lower() == name.lower() or shown.lower().startswith(name.lower() + " ")
            for shown, name in zip(byline, declared)):
        return byline, "html"
    if declared and not meta.authors_are_outlet:
        return declared, meta.authors_source or "meta"
    if byline:  # people named under the headline, where the declarations credit only the outlet or nobody
        return byline, "html"
    site_words = _site_words(meta, None)
    if guess is not None and guess.author and (names := normalise_authors(guess.author.split(";"))):
        names = tuple(n for n in names if not _site_like(n, site_words))
        if names:
            return names, "trafilatura"
    return declared, (meta.authors_source or "meta") if declared else None


def _pick_published(meta: PageMetadata, guess: TrafilaturaMetadata | None, dateline: Dateline,
                    url: str | None) -> Sourced | None:
    """The publication day as the page states it, in the publisher's own time zone.

    In order: the declared timestamp when the URL path carries the same day (the strongest
    evidence of the original publication); the day shown by the headline and byline
    (`parse_shown_date`: what readers see, where metadata often carries a CMS creation date
    or a UTC timestamp that falls on the next day); the URL's day when the declared UTC
    timestamp is one day off it; the declared timestamp unless trafilatura (htmldate) finds
    another day on the page. A declared value is kept when it agrees on the day, as it
    carries the time and the zone. A <time datetime> stamp by the headline whose day is the
    declared modification day, not the declared publication day, is the update time: it never
    replaces the declared publication date (a day written out for the reader still does). A
    shown day one day off a declared time is another event (the print edition, a broadcast, an
    update) unless a time zone can move the declared moment to that day: a local time declared
    with its offset is already the publisher's day; a UTC time can move only as far as the
    offsets of the world reach (-12:00 to +14:00).
    """
    declared = meta.published_at
    declared_day = declared.value[:10] if declared is not None else None
    updated_day = meta.modified_at.value[:10] if meta.modified_at is not None else None
    url_day = parse_url_day(url)

    shown_day = dateline.day
    if dateline.day_in_markup and declared_day is not None and shown_day not in {None, declared_day} \
            and shown_day == updated_day:
        shown_day = None
    if declared is not None and declared_day == url_day:
        return declared
    def other_event(day: str | None) -> bool:  # one day off a declared time that no time zone can shift there
        return declared is not None and day is not None and declared_day is not None \
            and _days_apart(day, declared_day) == 1 and not _shiftable(declared.value, day)

    if other_event(shown_day):
        shown_day = None
    if shown_day is not None:
        return declared if declared is not None and declared_day == shown_day else Sourced(shown_day, "html")
    if url_day is not None and declared_day is not None and _days_apart(url_day, declared_day) == 1:
        return Sourced(url_day, "url")
    shown = normalise_date(guess.date) if guess is not None and guess.date else None
    if declared is not None and (shown is None or declared_day == shown[:10]
                                 or other_event(shown[:10])):
        return declared
    return Sourced(shown, "trafilatura") if shown else declared


def _shiftable(value: str, day: str) -> bool:
    """Whether the moment `value` falls on `day` somewhere: always for a bare date or a time without
    a zone, never for a local time with its offset, within -12:00..+14:00 of a UTC time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return True
    if len(value) <= 10 or moment.tzinfo is None:
        return True
    offset = moment.utcoffset()
    if offset:
        return moment.date().isoformat() == day
    return (moment - timedelta(hours=12)).date().isoformat() <= day <= (moment + timedelta(hours=14)).date().isoformat()


def _days_apart(a: str, b: str) -> int:
    return abs((date.fromisoformat(a[:10]) - date.fromisoformat(b[:10])).days)


def extract_html(document: Document) -> Extracted:
    """Extract an article from an HTML page; a `Reject` with a reason when there is none."""
    seed_id = to_article_id(f"seed:{document.uri}") if document.source == "seed" else None
    fallback_id = seed_id or to_article_id(document.url or document.uri)

    def reject(reason: str, message: str) -> Extracted:
        return Extracted(reject=Reject(document.uri, "extract", reason, message, fallback_id, document.fetch_id))

    try:
        html = decode_html(document.body, document.charset)
        if html.lstrip()[:1] in {"{", "["} or not _HTML_TAG.search(html[:200_000]):
            raise PageError("not_html", "no HTML markup: the content is not a web page")
        tree = load_html(html)
        if tree is None:
            raise PageError("not_html", "the page could not be parsed as HTML")
    except PageError as err:
        return reject(err.reason, f"{err} ({document.uri})")

    meta = parse_metadata(tree, document.url)
    first = _run_trafilatura(tree, document.url, "balanced")
    # trafilatura's metadata guesses, as bare_extraction(with_metadata=True) would give them with the body
    guess = TrafilaturaMetadata(tree, document.url) if first is not None else None
    pieces, body_source, notes = _choose_body(tree, first, meta, document.url)
    if len("\n".join(p.text for p in pieces)) < MIN_ARTICLE_CHARS and (fragment := find_script_html(tree)):
        scripted = _run_trafilatura(load_html(f"<html><body><article>{fragment}</article></body></html>"),
                                    document.url, "balanced")
        scripted_pieces = _pieces(scripted.body) if scripted is not None and scripted.body is not None else []
        if len("\n".join(p.text for p in scripted_pieces)) >= MIN_ARTICLE_CHARS:
            pieces = scripted_pieces
            notes.append("body: the article HTML carried in the page's script data (a JavaScript-rendered page)")
    title = _uncut_title(_pick_title(meta, guess, document.url or (meta.canonical_url.value if meta.canonical_url
                                                                     else None)), meta)
    titles = [t for t in (title.value if title else None, *meta.h1s[:2], guess.title if guess else None) if t]
    pieces = _drop_headline(pieces, titles)
    pieces, trimmed = _trim_edges(pieces)
    if trimmed:
        notes.append(f"body: {trimmed} promotional or legal blocks trimmed at the edges")
    body_text = "\n\n".join(p.text for p in pieces)

    verdict = classify_page(tree, body_text, meta)
    if verdict is not None:
        return reject(verdict[0], f"{verdict[1]} ({document.uri})")
    if len(body_text) < MIN_ARTICLE_CHARS:
        return reject("no_article_text", f"only {len(body_text)} characters of article text found ({document.uri})")

    provenance: list[tuple[str, str]] = [("text", body_source)]
    headline = title.value if title is not None else pieces[0].text
    provenance.append(("title", title.source if title is not None else "text"))
    text, blocks = join_pieces([Piece("headline", normalise_line(headline)), *pieces])

    dateline = parse_dateline(tree, headline)
    authors, authors_source = _pick_authors(meta, guess, dateline.authors)
    if authors_source is not None:
        provenance.append(("authors", authors_source))
    published = _pick_published(meta, guess, dateline,
                                document.url or (meta.canonical_url.value if meta.canonical_url else None))

    def sourced(name: str, value: Sourced | None) -> str | None:
        if value is None:
            return None
        provenance.append((name, value.source))
        return value.value

    site = meta.site_name
    if site is None and guess is not None and guess.sitename:
        site = Sourced(normalise_line(guess.sitename), "trafilatura")
    canonical = sourced("canonical_url", meta.canonical_url)
    article_id = seed_id or to_article_id(canonical or document.url or document.uri)
    return Extracted(
        article=Article(
            article_id=article_id,
            content_hash=to_content_hash(text),
            uri=document.uri,
            source=document.source,
            text=text,
            title=headline,
            standfirst=None,
            authors=authors,
            published_at=sourced("published_at", published),
            modified_at=sourced("modified_at", meta.modified_at),
            site_name=sourced("site_name", site),
            language=sourced("language", meta.language),
            section=sourced("section", meta.section),
            url=document.url,
            canonical_url=canonical,
            blocks=blocks,
            provenance=tuple(provenance),
            fetch_id=document.fetch_id,
        ),
        notes=tuple(notes),
    )


