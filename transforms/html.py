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

from lxml.etree import _Element
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Document as TrafilaturaDocument
from trafilatura.utils import load_html

from transforms.authors import pick_authors
from transforms.dateline import parse_dateline
from transforms.errors import Reason
from transforms.guesses import TrafilaturaMetadata
from transforms.hydration import find_script_html
from transforms.decoding import PageError, decode_html
from transforms.metadata import PageMetadata, Sourced, parse_metadata
from transforms.models import Article, Document, Extracted, Reject, to_article_id, to_content_hash
from transforms.pages import MIN_ARTICLE_CHARS, classify_page
from transforms.published import pick_published
from transforms.text import Piece, join_pieces, normalise_line, normalise_text
from transforms.titles import pick_title, uncut_title

logger = logging.getLogger(__name__)

_HTML_TAG = re.compile(r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|main|section|span|a|br)\b", re.I)
_WORD = re.compile(r"\w+")
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
                 url: str | None) -> tuple[list[Piece], str]:
    """The body blocks and their source."""
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
            return recall_pieces, "trafilatura"  # recall mode covers the JSON-LD articleBody
        return _body_pieces_from_ld(declared), "json_ld"  # trafilatura missed most of it
    if len(text) < MIN_ARTICLE_CHARS:
        recall = _run_trafilatura(tree, url, "recall")
        recall_pieces = _pieces(recall.body) if recall is not None and recall.body is not None else []
        if len("\n".join(p.text for p in recall_pieces)) >= MIN_ARTICLE_CHARS:
            return recall_pieces, "trafilatura"  # balanced mode found too little
    return pieces, "trafilatura"


def _trim_edges(pieces: list[Piece]) -> list[Piece]:
    """Drop short promotional or legal blocks at the end (and start) of the body: sign-up
    prompts, paywall notices, copyright lines. The middle of an article is left alone."""
    def boilerplate(piece: Piece) -> bool:
        return len(piece.text) < 300 and bool(_EDGE_BOILERPLATE.search(piece.text))

    while len(pieces) > 1 and boilerplate(pieces[-1]):
        pieces = pieces[:-1]
    while len(pieces) > 1 and boilerplate(pieces[0]):
        pieces = pieces[1:]
    return pieces


def _drop_headline(pieces: list[Piece], titles: list[str]) -> list[Piece]:
    """Remove leading blocks that repeat the headline (it is the first block already)."""
    while pieces and pieces[0].kind in {"subheading", "paragraph"} and any(_same(pieces[0].text, t) for t in titles if t):
        pieces = pieces[1:]
    return pieces


def extract_html(document: Document) -> Extracted:
    """Extract an article from an HTML page; a `Reject` with a reason when there is none."""
    seed_id = to_article_id(f"seed:{document.uri}") if document.source == "seed" else None
    fallback_id = seed_id or to_article_id(document.url or document.uri)

    def reject(reason: Reason, message: str) -> Extracted:
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
    # trafilatura's metadata guesses, found only when consulted; also where its first body pass discards the
    # page (the body then comes from recall mode, JSON-LD or script data) but the page still carries its date
    guess = TrafilaturaMetadata(tree, document.url)
    pieces, body_source = _choose_body(tree, first, meta, document.url)
    if len("\n".join(p.text for p in pieces)) < MIN_ARTICLE_CHARS and (fragment := find_script_html(tree)):
        scripted = _run_trafilatura(load_html(f"<html><body><article>{fragment}</article></body></html>"),
                                    document.url, "balanced")
        scripted_pieces = _pieces(scripted.body) if scripted is not None and scripted.body is not None else []
        if len("\n".join(p.text for p in scripted_pieces)) >= MIN_ARTICLE_CHARS:
            pieces = scripted_pieces  # the article HTML carried in the page's script data (a JavaScript-rendered page)
    title = uncut_title(pick_title(meta, guess, document.url or (meta.canonical_url.value if meta.canonical_url
                                                                     else None)), meta)
    titles = [t for t in (title.value if title else None, *meta.h1s[:2], guess.title if guess else None) if t]
    pieces = _drop_headline(pieces, titles)
    pieces = _trim_edges(pieces)
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
    authors, authors_source = pick_authors(meta.authors, meta.authors_source, meta.authors_are_outlet,
                                           meta.site_name.value if meta.site_name else None, guess, dateline.authors)
    if authors_source is not None:
        provenance.append(("authors", authors_source))
    published = pick_published(meta, guess, dateline,
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
    )


