"""What one HTTP response becomes: a `Body`, the next URL of a redirect, or a `FetchError` saying why not.

The status decides first (redirect, 304 from the previous validators, 429 and 502/503/504
worth a retry, other failures), then the content type (sniffed where the server says
nothing useful), then the body, read within the wire and decompressed limits and the
minimum rate (`transforms.decoding.Inflater` undoes the Content-Encoding) and kept in
the raw store.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import httpx

from flows.fetch_options import FetchOptions
from transforms.decoding import HTML_TYPES, SNIFF_TYPES, Inflater, PayloadError, parse_content_type, sniff_charset, sniff_media_type
from transforms.errors import Reason, fetch_error
from transforms.ids import to_raw_hash
from transforms.models import Validators
from warehouse.raw import write_raw

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
RETRY_CODES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class Body:
    """A successful fetch: the decoded body and what the server said about it."""

    url: str
    final_url: str
    status: int
    body: bytes
    media_type: str
    charset: str | None
    content_hash: str | None
    not_modified: bool = False


@dataclass
class Trace:
    """What one attempt saw so far (kept when it fails half-way)."""

    final_url: str
    status: int | None = None
    wire_bytes: int = 0
    content_type: str | None = None
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    redirects: int = 0
    started: float | None = None
    started_at: datetime | None = None  # when the request went out (after any wait for a slot)
    deadline: float | None = None


def phase(trace: Trace) -> str:
    if trace.status is None:
        return "waiting for the response"
    return "reading the body" if trace.wire_bytes else "waiting for the body"


def describe(exc: BaseException, phase: str) -> str:
    """An exception as `Class: message`, never empty: `Class while <phase>` when it says nothing."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else f"{type(exc).__name__} while {phase}"


def accept_header(accept: frozenset[str]) -> str:
    return ", ".join(sorted(accept)) + ", */*;q=0.1"


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


async def read_response(
    url: str, response: httpx.Response, accept: frozenset[str], validators: Validators | None, trace: Trace,
    options: FetchOptions, raw_root: Path | None,
) -> Body | str:
    """The response as a Body, or the next URL of a redirect; a FetchError for every other outcome."""
    status = response.status_code
    if status in REDIRECT_CODES:
        location = response.headers.get("location")
        if not location:
            raise fetch_error("bad_redirect", f"{url}: HTTP {status} without a Location header")
        try:
            return str(urldefrag(urljoin(url, location.strip())).url)
        except ValueError as exc:
            raise fetch_error("bad_redirect", f"{url}: redirect to an invalid URL {location!r}") from exc
    if status == 304 and validators is not None:
        await response.aread()  # no body by definition: reading to its end keeps the connection reusable
        trace.etag = trace.etag or validators.etag
        trace.last_modified = trace.last_modified or validators.last_modified
        return Body(url, url, status, b"", "", None, validators.content_hash, not_modified=True)
    if status == 429 or status in RETRY_CODES:
        code: Reason = "http_429" if status == 429 else "http_5xx"
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        said = f" (Retry-After {retry_after:g}s)" if retry_after is not None else ""
        raise fetch_error(code, f"{url}: HTTP {status}{said}", True, retry_after)
    if 300 <= status < 400:
        raise fetch_error("http_3xx", f"{url}: HTTP {status} is neither a redirect with a Location nor a page")
    if status >= 400 or status < 200:
        code = "http_5xx" if status >= 500 else "http_4xx"
        raise fetch_error(code, f"{url}: HTTP {status} {response.reason_phrase}")
    media, charset = parse_content_type(trace.content_type)
    trace.charset = charset
    if media not in accept and media not in SNIFF_TYPES:
        raise fetch_error("content_type", f"{url}: content type {media!r} is not an article page or feed")
    body = await read_body(url, response, trace, options)
    if media not in accept:
        media = sniff_media_type(body)
        if media not in accept:
            raise fetch_error("content_type", f"{url}: served as {trace.content_type!r} and the body is not {'/'.join(sorted(accept))}")
    charset = sniff_charset(body, charset) if media in HTML_TYPES else charset
    if raw_root is not None:  # compression and file I/O off the event loop
        content_hash = await asyncio.to_thread(write_raw, raw_root, body)
    else:
        content_hash = to_raw_hash(body)
    return Body(url, url, status, body, media, charset, content_hash)

async def read_body(url: str, response: httpx.Response, trace: Trace, options: FetchOptions) -> bytes:
    """The body, enforcing the wire and decompressed limits while streaming."""
    limit, inflated_limit = options.max_bytes, options.max_decompressed_bytes
    length = response.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise fetch_error("too_large", f"{url}: Content-Length {length} is over the {limit}-byte limit")
    out = bytearray()
    began = time.monotonic()
    floor, grace = options.min_rate_bytes_s, options.min_rate_after_s
    try:
        decoder = Inflater(response.headers.get("content-encoding", ""), inflated_limit)
        async for chunk in response.aiter_raw():
            trace.wire_bytes += len(chunk)
            if trace.wire_bytes > limit:
                raise fetch_error("too_large", f"{url}: body is over the {limit}-byte limit")
            taken = time.monotonic() - began
            if taken >= grace and trace.wire_bytes < floor * taken:
                raise fetch_error("too_slow", f"{url}: body trickling at {trace.wire_bytes / taken:.0f} bytes/s after "
                                              f"{taken:.0f}s, under the {floor:g} bytes/s floor (fetch.min_rate_bytes_s); "
                                              "not retried in this run")
            out += decoder.feed(chunk)
        out += decoder.flush()
    except PayloadError as err:
        raise fetch_error(err.reason, f"{url}: {err}") from err
    return bytes(out)
