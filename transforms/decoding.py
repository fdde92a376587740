"""Payload decoding, one home: content types, charsets, bytes to text, and size-limited gzip/deflate.

Every body newsdesk reads (a fetched page or feed, a seed file, a WARC record) goes
through these functions, so that a charset is detected one way and a gzip bomb is
stopped one way wherever the bytes came from:

- `parse_content_type`, `sniff_media_type`, `sniff_charset`: what an HTTP payload is;
- `decode_html` (pages) and `decode_text` (plain-text seeds): bytes to `str`, or an
  `InputError` with the reject reason (`empty`, `binary`, `not_html`, `undecodable`);
- `Inflater` (streaming, for the fetcher) and `inflate` (one shot): Content-Encoding
  undone with a ceiling on the output, or a `PayloadError` (`decompression_bomb`,
  `content_encoding`, `truncated`) that the caller words for its input.

Pure: bytes in, values out.
"""

from __future__ import annotations

import codecs
import re
import zlib

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

from transforms.errors import InputError, Reason

GZIP_MAGIC = b"\x1f\x8b"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
SNIFF_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "text/plain", "application/unknown"})
ENCODINGS = frozenset({"", "identity", "gzip", "x-gzip", "deflate"})
# A <meta> charset: the first `charset=` of the tag, with every character an IANA charset name may hold
# (`+` included). The HTML decoder had its own, greedy (the tag's last `charset=`) and without `+`; it now uses this.
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_:.+-]+)["']""")
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)\b", re.IGNORECASE | re.DOTALL)
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8", b"PK\x03\x04")
# Well-formed UTF-8 (RFC 3629), one run of characters at a time: what lies between runs is not UTF-8.
_UTF8_RUN = re.compile(
    rb"(?:[\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})+"
)
_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


class DecodeError(InputError):
    """Bytes that are not text; `reason` is the reject reason code."""

    STAGE = "extract"


class PageError(InputError):
    """A page that yields no article; `reason` is the reject reason code."""

    STAGE = "extract"


class PayloadError(InputError):
    """A compressed body that cannot be undone within its limit; `detail` is zlib's own words, if any."""

    def __init__(self, reason: Reason, message: str, detail: str = "") -> None:
        super().__init__(reason, message)
        self.detail = detail


# --- what the payload is ---------------------------------------------------------------


def parse_content_type(value: str | None) -> tuple[str, str | None]:
    """("text/html", "utf-8") from 'text/html; charset="UTF-8"'; ("", None) when absent."""
    if not value:
        return "", None
    media, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = known_charset(val.strip().strip("\"'"))
    return media.strip().lower(), charset


def known_charset(name: str) -> str | None:
    """Python's name for charset `name`, or None when it has none."""
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def _bom_charset(body: bytes) -> str | None:
    if body.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def meta_charset(body: bytes) -> str | None:
    """The charset a page's <meta> declares in its first 4 KB, as written (None when none)."""
    declared = _META_CHARSET.search(body[:4096])
    return declared.group(1).decode("ascii", errors="ignore") if declared else None


def sniff_charset(body: bytes, declared: str | None = None) -> str | None:
    """The charset of an HTML or XML body: BOM, HTTP header, <meta>/XML declaration, UTF-8, detection."""
    bom = _bom_charset(body)
    if bom is not None:
        return bom
    if declared:
        return known_charset(declared)
    head = body[:4096]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    if match:
        name = known_charset(match.group(1).decode("ascii", errors="ignore"))
        if name is not None:
            return "utf-8" if name.startswith("utf-16") else name  # HTML: a <meta> can't declare UTF-16
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        best = from_bytes(body[:65536]).best()
        return known_charset(best.encoding) if best is not None else None


def sniff_media_type(body: bytes) -> str:
    """"text/html", "application/xml", "application/json", "application/gzip" or "" from the first bytes."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:2] == GZIP_MAGIC:
        return "application/gzip"
    if _HTML_START.match(head):
        return "text/html"
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        return "application/xml"
    if head.startswith(b"{"):
        return "application/json"
    return ""


# --- bytes to text ---------------------------------------------------------------------


def decode_html(body: bytes, charset: str | None = None) -> str:
    """Decode a page: BOM, the bytes when they are valid UTF-8, HTTP charset, <meta charset>, then detection."""
    if not body.strip():
        raise PageError("empty", "the page is empty")
    if _bom_charset(body) == "utf-8":
        return body[3:].decode("utf-8", errors="replace")
    if _bom_charset(body) == "utf-16":
        return body.decode("utf-16", errors="replace")
    if b"\x00" in body[:4096] or body.startswith(_BINARY_MAGIC):
        raise PageError("not_html", "binary content (PDF, image or archive), not an HTML page")
    if not body.isascii():
        try:  # bytes that are valid UTF-8 are UTF-8, whatever the page declares (pages saved as UTF-8 keep
            return body.decode("utf-8")  # their old <meta charset>; legacy text is almost never valid UTF-8)
        except UnicodeDecodeError:
            pass
    for name in (charset, meta_charset(body), "utf-8"):
        if name:
            try:
                return body.decode(name)
            except (UnicodeDecodeError, LookupError):
                continue
    best = from_bytes(body[:200_000]).best()
    encoding = best.encoding if best is not None and best.encoding else "cp1252"
    return body.decode("cp1252" if encoding in {"latin_1", "iso8859_1"} else encoding, errors="replace")


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
    if _bom_charset(body) == "utf-16":
        try:
            return body.decode("utf-16"), False
        except UnicodeDecodeError:
            return body.decode("utf-16", errors="replace"), True
    if b"\x00" in body[:8192]:
        raise DecodeError("binary", "the file contains NUL bytes: it is binary, not text")
    if _bom_charset(body) == "utf-8":
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


# --- Content-Encoding, with a ceiling ----------------------------------------------------


class Inflater:
    """Content-Encoding decoding (gzip, deflate, identity) that stops at `limit` output bytes (gzip bombs).

    Fed chunk by chunk (`feed`, then `flush`). "gzip" also takes a zlib stream (servers mix
    them up); "deflate" is zlib-wrapped or raw, depending on the server, told by its first bytes.
    """

    def __init__(self, encoding: str, limit: int) -> None:
        encoding = encoding.strip().lower()
        if encoding not in ENCODINGS:
            raise PayloadError("content_encoding", f"unsupported Content-Encoding {encoding!r}")
        self.limit, self.size = limit, 0
        identity = encoding in ("", "identity")
        self._inflater = None if identity else zlib.decompressobj(47 if encoding in ("gzip", "x-gzip") else 15)
        self._deflate = encoding == "deflate"
        self._started = False

    @property
    def eof(self) -> bool:
        """The compressed stream has ended (always true for identity)."""
        return self._inflater is None or self._inflater.eof

    @property
    def unused_data(self) -> bytes:
        """What followed the end of the compressed stream (another gzip member, padding)."""
        return self._inflater.unused_data if self._inflater is not None else b""

    def feed(self, chunk: bytes) -> bytes:
        if self._inflater is None:
            return self._count(chunk)
        first = self._deflate and not self._started and bool(chunk)
        if first:  # a zlib stream starts with a header byte whose low nibble is 8 (RFC 1950)
            self._started = True
            if (chunk[0] & 0x0F) != 8:
                self._inflater = zlib.decompressobj(-15)
        try:
            return self._inflate(chunk)
        except zlib.error as exc:
            if first and not self.size and self._inflater.unused_data == b"":  # not zlib after all: raw deflate
                self._inflater = zlib.decompressobj(-15)
                try:
                    return self._inflate(chunk)
                except zlib.error as raw:
                    exc = raw
            raise PayloadError("content_encoding", f"corrupt compressed body ({exc})", str(exc)) from exc

    def _inflate(self, chunk: bytes) -> bytes:
        assert self._inflater is not None
        out = bytearray()
        data = chunk
        while data:
            out += self._count(self._inflater.decompress(data, self.limit + 1 - self.size))
            data = self._inflater.unconsumed_tail
        return bytes(out)

    def flush(self) -> bytes:
        return self._count(self._inflater.flush()) if self._inflater is not None else b""

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise PayloadError("decompression_bomb", f"body expands beyond {self.limit} bytes")
        return data


def inflate(data: bytes, limit: int, encoding: str = "gzip", *, members: bool = False, complete: bool = False) -> bytes:
    """`data` with its Content-Encoding undone, never holding more than `limit` bytes of output.

    `members`: every gzip member in turn (NUL padding may end the file), not only the first;
    `complete`: a stream that stops before its end raises PayloadError("truncated").
    """
    out = bytearray()
    rest = data
    while rest:
        inflater = Inflater(encoding, limit - len(out))
        out += inflater.feed(rest)
        out += inflater.flush()
        if complete and not inflater.eof:
            raise PayloadError("truncated", f"the {encoding} stream ends early (after {len(out)} bytes of output)")
        if not members:
            break
        rest = inflater.unused_data.lstrip(b"\x00")
    return bytes(out)
