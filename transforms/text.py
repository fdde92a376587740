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

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

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


class DecodeError(ValueError):
    """Bytes that are not text; `reason` is the reject reason code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# Well-formed UTF-8 (RFC 3629), one run of characters at a time: what lies between runs is not UTF-8.
_UTF8_RUN = re.compile(
    rb"(?:[\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})+"
)
_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
# Control characters that are not layout: stripped from stored text (NUL, ESC, DEL, C1 ...).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def repair_utf8(body: bytes) -> str | None:
    """`body` as UTF-8 when it is UTF-8 but for a few local faults, else None.

    Mostly-UTF-8 bytes (more well-formed multibyte characters than faulty bytes)
    keep their UTF-8 text; each faulty stretch is read as Windows-1252 (the usual
    culprit of a pasted paragraph), or U+FFFD where that fails too.
    """
    runs = list(_UTF8_RUN.finditer(body))
    faulty = len(body) - sum(m.end() - m.start() for m in runs)
    if not faulty or len(_MULTIBYTE.findall(body)) < faulty:
        return None
    out: list[str] = []
    pos = 0
    for match in runs:
        if match.start() > pos:
            out.append(body[pos : match.start()].decode("cp1252", errors="replace"))
        out.append(match.group().decode("utf-8"))
        pos = match.end()
    out.append(body[pos:].decode("cp1252", errors="replace"))
    return "".join(out)


def decode_text(body: bytes, charset: str | None = None) -> str:
    """Decode bytes to str: BOM, declared charset, UTF-8, then detection.

    Raises DecodeError("empty" | "binary" | "undecodable") for bytes that are
    not text.
    """
    return decode_text_repaired(body, charset)[0]


def decode_text_repaired(body: bytes, charset: str | None = None) -> tuple[str, bool]:
    """`decode_text`, and whether a UTF-8 text with local faults was repaired (see `repair_utf8`)."""
    if not body.strip():
        raise DecodeError("empty", "the file is empty or only whitespace")
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return body.decode("utf-16"), False
        except UnicodeDecodeError:
            return body.decode("utf-16", errors="replace"), True
    if b"\x00" in body[:8192]:
        raise DecodeError("binary", "the file contains NUL bytes: it is binary, not text")
    if body.startswith(b"\xef\xbb\xbf"):
        text = body[3:].decode("utf-8", errors="replace")
        return text, "\ufffd" in text and b"\xef\xbf\xbd" not in body
    for name in (charset, "utf-8"):
        if name:
            try:
                return body.decode(name), False
            except (UnicodeDecodeError, LookupError):
                continue
    repaired = repair_utf8(body)
    if repaired is not None:
        return repaired, True
    best = from_bytes(body).best()
    if best is None or best.encoding is None:
        raise DecodeError("undecodable", "no text encoding fits these bytes: is it a binary file?")
    guess = str(best)
    # Short Western texts fit several single-byte code pages equally well; Windows-1252
    # (a superset of Latin-1 for text) is by far the most common, so it wins a tie.
    try:
        western = body.decode("cp1252")
    except UnicodeDecodeError:
        return guess, False
    return (western if mess_ratio(western, 1.0) <= mess_ratio(guess, 1.0) + 0.01 else guess), False


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
