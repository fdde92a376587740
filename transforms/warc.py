"""WARC records to documents: pure parsing of a record's headers and block.

The reader (flows/warc.py, FastWARC) hands over each record's WARC headers and
its block bytes; `to_document` turns a `response` record (an HTTP message) or a
`resource` record (the bytes themselves) into a `Document` shaped exactly like
one the fetcher returns for the same URL, or into a `Reject` saying why not.
Filters (URL/host regexes, a date window) are decided from the headers alone,
before the block is read.

A record's address is `warc:<file>#<offset>` (the byte offset of the record in
the file, compressed offset for `.warc.gz`): the document's `uri`, its
provenance, and how `newsdesk reextract` finds it again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from transforms.decoding import HTML_TYPES, SNIFF_TYPES, PayloadError, inflate, parse_content_type, sniff_charset, sniff_media_type
from transforms.errors import Reason, Stage
from transforms.feeds import parse_datetime
from transforms.ids import to_article_id, to_warc_fetch_id
from transforms.models import Document, Fetch, Reject

STAGE: Stage = "read"
SOURCE = "warc"
_HTTP_REASONS: dict[int, Reason] = {1: "http_1xx", 3: "http_3xx", 4: "http_4xx", 5: "http_5xx"}  # by status class
# Records that carry a document; the others (warcinfo, request, metadata, revisit, ...) are skipped
# without a reject (a revisit is counted as unchanged).
DOCUMENT_TYPES = frozenset({"response", "resource"})
_CHUNK_SIZE = re.compile(rb"^([0-9a-fA-F]+)")


@dataclass(frozen=True)
class RecordFilter:
    """Which records of a WARC become documents: URL regexes and a WARC-Date window."""

    allow: tuple[str, ...] = ()  # regexes searched in the target URI; when given, one must match
    deny: tuple[str, ...] = ()  # any match drops the record
    since: datetime | None = None  # WARC-Date at or after
    until: datetime | None = None  # WARC-Date before

    def keeps(self, url: str, date: datetime | None) -> bool:
        if self.allow and not any(re.search(p, url) for p in self.allow):
            return False
        if any(re.search(p, url) for p in self.deny):
            return False
        if date is not None and self.since is not None and date < self.since:
            return False
        return not (date is not None and self.until is not None and date >= self.until)


@dataclass(frozen=True)
class Record:
    """What the reader knows of one record: its place, its WARC headers, its block."""

    file: str
    offset: int
    headers: Mapping[str, str]  # WARC headers, names as written (looked up case-insensitively)
    block: bytes
    declared_length: int  # the WARC Content-Length

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class Converted:
    """A record's outcome: a document (with its fetch row), a reject, or neither (a skipped record)."""

    document: Document | None = None
    fetch: Fetch | None = None
    reject: Reject | None = None
    revisit: bool = False


def to_warc_uri(file: str, offset: int) -> str:
    return f"warc:{file}#{offset}"


def parse_warc_uri(uri: str) -> tuple[str, int] | None:
    """(file, offset) from `warc:<file>#<offset>`; None for any other uri."""
    if not uri.startswith("warc:"):
        return None
    file, sep, offset = uri[len("warc:"):].rpartition("#")
    return (file, int(offset)) if sep and file and offset.isdigit() else None


def to_document(record: Record, source_name: str | None = None, max_bytes: int = 50_000_000) -> Converted:
    """The record as a Document (plus its `fetches` row), a Reject with a reason, or a skip."""
    kind = (record.header("WARC-Type") or "").strip().lower()
    if kind == "revisit":
        return Converted(revisit=True)
    if kind not in DOCUMENT_TYPES:
        return Converted()
    url = (record.header("WARC-Target-URI") or "").strip().strip("<>")
    uri = to_warc_uri(record.file, record.offset)
    article_id = to_article_id(url or uri)
    fetch_id = to_warc_fetch_id(uri)

    def reject(reason: Reason, message: str) -> Converted:
        return Converted(reject=Reject(uri, STAGE, reason, f"{url or 'record'} ({uri}): {message}", article_id, fetch_id))

    if not url:
        return reject("warc_no_target", "a record without a WARC-Target-URI cannot become an article")
    if len(record.block) < record.declared_length:
        return reject("warc_truncated", f"the file ends after {len(record.block)} of the record's "
                                        f"{record.declared_length} bytes")
    if record.header("WARC-Truncated"):
        return reject("warc_truncated", f"the crawler cut the payload ({record.header('WARC-Truncated')}); "
                                        f"the article would be incomplete")
    if kind == "response":
        try:
            status, http_headers, body = parse_http_response(record.block, max_bytes)
        except ValueError as err:
            return reject("warc_bad_http", str(err))
        content_type = http_headers.get("content-type")
    else:
        status, body, content_type = 200, record.block, record.header("Content-Type")
    if not 200 <= status < 300:
        return reject(_HTTP_REASONS.get(status // 100, "http_4xx"), f"the archived response is HTTP {status}")
    media, charset = parse_content_type(content_type)
    if media not in HTML_TYPES:
        sniffed = sniff_media_type(body) if media in SNIFF_TYPES else media
        if sniffed not in HTML_TYPES:
            return reject("content_type", f"content type {content_type or 'none'!r} is not an article page")
    fetched_at = parse_datetime(record.header("WARC-Date"))
    charset = sniff_charset(body, charset)
    fetch = None if fetched_at is None else Fetch(
        fetch_id=fetch_id, url=url, final_url=url, status=status, bytes=len(body), elapsed_ms=0.0,
        content_hash=None,  # not in the raw store: the WARC is the raw store
        content_type=content_type, charset=charset, etag=None, last_modified=None, error_class=None,
        error=None, attempt=1, fetched_at=fetched_at.astimezone(UTC), source_name=source_name)
    document = Document(uri=uri, source=SOURCE, body=body, media_type="text/html", charset=charset, url=url,
                        fetch_id=fetch_id, fetched_at=None if fetched_at is None else fetched_at.astimezone(UTC))
    return Converted(document=document, fetch=fetch)


def parse_http_response(block: bytes, max_bytes: int) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-cased names) and decoded body of an archived HTTP response.

    Chunked transfer coding and gzip/deflate content coding are undone (crawlers
    store the message as received; Common Crawl stores it decoded); the decoded
    body may not exceed `max_bytes`. ValueError says what is wrong.
    """
    head, sep, body = block.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = block.partition(b"\n\n")
    if not sep:
        raise ValueError("no end of the HTTP headers")
    lines = head.decode("iso-8859-1").splitlines()
    status_line = lines[0].split(None, 2) if lines else []
    if len(status_line) < 2 or not status_line[0].upper().startswith("HTTP/") or not status_line[1].isdigit():
        raise ValueError(f"not an HTTP status line: {lines[0][:80] if lines else ''!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        body = _inflate(body, max_bytes, gzip=encoding != "deflate")
    elif encoding not in ("", "identity"):
        raise ValueError(f"content encoding {encoding!r} is not supported")
    if len(body) > max_bytes:
        raise ValueError(f"the body is {len(body)} bytes, over the {max_bytes}-byte limit")
    return int(status_line[1]), headers, body


def _dechunk(data: bytes) -> bytes:
    out: list[bytes] = []
    at = 0
    while at < len(data):
        end = data.find(b"\n", at)
        match = _CHUNK_SIZE.match(data[at:end if end >= 0 else len(data)].strip())
        if end < 0 or match is None:
            raise ValueError("malformed chunked transfer coding")
        size = int(match.group(1), 16)
        if size == 0:
            break
        out.append(data[end + 1:end + 1 + size])
        at = end + 1 + size
        at += 2 if data[at:at + 2] == b"\r\n" else 1 if data[at:at + 1] == b"\n" else 0
    return b"".join(out)


def _inflate(data: bytes, limit: int, gzip: bool) -> bytes:
    if gzip and not data.startswith(b"\x1f\x8b"):
        return data  # the header says gzip, the crawler stored it decoded
    try:
        return inflate(data, limit, "gzip" if gzip else "deflate")
    except PayloadError as err:
        if err.reason == "decompression_bomb":
            raise ValueError(f"the body decompresses to more than {limit} bytes") from None
        raise ValueError(f"the {'gzip' if gzip else 'deflate'} body does not decompress ({err.detail})") from None
