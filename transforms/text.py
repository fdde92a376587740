"""Plain-text and Markdown articles: decoding, typography, structure.

`parse_text` turns a seed's bytes into an `Article` whose text is the blocks
(headline, standfirst, key points, subheadings, paragraphs) joined by blank
lines, so paragraph breaks survive and every offset points into one string.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from transforms.decoding import DecodeError, decode_text, decode_text_repaired, repair_utf8  # noqa: F401 (re-exported)
from transforms.ids import to_article_id, to_content_hash
from transforms.models import Article, Block, Document, Extracted, Reject

BULLETS = "•◦▪▸►‣⁃·*-–"
KEY_POINT_HEADINGS = re.compile(
    r"^(the essentials in a nutshell|key points?|in brief|at a glance|highlights|the essentials|summary|"
    r"what you need to know|in short|tl;?dr)\s*:?$",
    re.IGNORECASE,
)
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BULLET_LINE = re.compile(rf"^\s*[{re.escape(BULLETS)}]\s+(?=\S)")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"[.!;:,…]['\"”’»)]*$")
CONTROL_RATIO_LIMIT = 0.02


# Control characters that are not layout: stripped from stored text (NUL, ESC, DEL, C1 ...).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """`text` without control characters other than line breaks and tabs (offsets are taken after)."""
    return _CONTROLS.sub("", text)


def check_is_text(text: str) -> None:
    """Raise DecodeError("binary") when decoded text is mostly control characters."""
    sample = text[:20000]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if sample and controls / len(sample) > CONTROL_RATIO_LIMIT:
        raise DecodeError("binary", f"{controls} control characters in the first {len(sample)}: binary, not text")


def normalise_line(line: str) -> str:
    """NFC, no zero-width characters, one space between words; typography kept."""
    line = unicodedata.normalize("NFC", line).translate(_ZERO_WIDTH)
    return _SPACES.sub(" ", line).strip()


def normalise_text(text: str) -> str:
    """Normalise every line and keep paragraph breaks as one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    paragraphs = []
    for chunk in re.split(r"\n\s*\n", text):
        lines = [normalise_line(line) for line in chunk.split("\n")]
        joined = "\n".join(line for line in lines if line)
        if joined:
            paragraphs.append(joined)
    return "\n\n".join(paragraphs)


@dataclass(frozen=True)
class Piece:
    """A block's kind and text, before the blocks are joined into an article's text."""

    kind: str
    text: str


def join_pieces(pieces: Sequence[Piece]) -> tuple[str, tuple[Block, ...]]:
    """The article text (blocks separated by one blank line) and each block's offsets in it."""
    parts: list[str] = []
    blocks: list[Block] = []
    offset = 0
    for piece in pieces:
        if parts:
            offset += 2
        blocks.append(Block(piece.kind, offset, offset + len(piece.text)))
        parts.append(piece.text)
        offset += len(piece.text)
    return "\n\n".join(parts), tuple(blocks)


def _is_subheading(chunk: str) -> bool:
    if "\n" in chunk or len(chunk) > 120 or len(chunk.split()) > 14:
        return False
    return not _SENTENCE_END.search(chunk)


def _paragraph_pieces(chunk: str, markdown: bool) -> list[Piece]:
    lines = chunk.split("\n")
    if all(_BULLET_LINE.match(line) for line in lines):
        return [Piece("key_point", _BULLET_LINE.sub("", line)) for line in lines]
    if markdown and (m := _MD_HEADING.match(lines[0])) and len(lines) == 1:
        return [Piece("subheading", m.group(2))]
    if any(_BULLET_LINE.match(line) for line in lines):
        pieces: list[Piece] = []
        for line in lines:
            if _BULLET_LINE.match(line):
                pieces.append(Piece("key_point", _BULLET_LINE.sub("", line)))
            elif KEY_POINT_HEADINGS.match(line) or _is_subheading(line):
                pieces.append(Piece("subheading", line))
            else:
                pieces.append(Piece("paragraph", line))
        return pieces
    # hard-wrapped lines in one paragraph are one paragraph
    return [Piece("paragraph", " ".join(lines))]


def _structure(text: str, markdown: bool) -> list[Piece]:
    chunks = text.split("\n\n")
    pieces: list[Piece] = []
    first = chunks[0]
    if markdown and (m := _MD_HEADING.match(first.split("\n")[0])):
        first = m.group(2) + ("\n" + first.split("\n", 1)[1] if "\n" in first else "")
    head, _, rest = first.partition("\n")
    pieces.append(Piece("headline", head))
    if rest:
        chunks = [rest, *chunks[1:]]
    else:
        chunks = chunks[1:]
    for chunk in chunks:
        if KEY_POINT_HEADINGS.match(chunk):
            pieces.append(Piece("subheading", chunk))
            continue
        new = _paragraph_pieces(chunk, markdown)
        if len(new) == 1 and new[0].kind == "paragraph" and _is_subheading(chunk):
            new = [Piece("subheading", chunk)]
        pieces.extend(new)
    # The standfirst is the first paragraph right after the headline.
    if len(pieces) > 2 and pieces[1].kind == "paragraph" and len(pieces[1].text) <= 400:
        pieces[1] = Piece("standfirst", pieces[1].text)
    return pieces


def parse_text(document: Document) -> Extracted:
    """Read a plain-text or Markdown article; a reject (never None) when unreadable."""
    article_id = to_article_id(f"seed:{document.uri}" if document.source == "seed" else document.uri)
    try:
        raw, repaired = decode_text_repaired(document.body, document.charset)
        check_is_text(raw)
        raw = strip_controls(raw)
    except DecodeError as err:
        return Extracted(reject=Reject(document.uri, "extract", err.reason, str(err), article_id, document.fetch_id))
    text = normalise_text(raw)
    if not text:
        return Extracted(reject=Reject(document.uri, "extract", "empty", "no text after normalising", article_id))
    markdown = document.media_type == "text/markdown"
    body, blocks = join_pieces(_structure(text, markdown))
    standfirst = next((body[b.start : b.end] for b in blocks if b.kind == "standfirst"), None)
    return Extracted(
        article=Article(
            article_id=article_id,
            content_hash=to_content_hash(body),
            uri=document.uri,
            source=document.source,
            text=body,
            title=body[blocks[0].start : blocks[0].end],
            standfirst=standfirst,
            url=document.url,
            blocks=blocks,
            provenance=(("title", "text"), ("standfirst", "text")) + ((("text", "decode_repaired"),) if repaired else ()),
            fetch_id=document.fetch_id,
        )
    )
