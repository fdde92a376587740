"""The polite async fetcher: work items in, fetch records and documents out.

One pooled `httpx.AsyncClient` per fetch session (the batches of one flow run
in one process; see `fetch_batch`), HTTP/2 where the server offers it,
a global and a per-host concurrency limit, a per-host delay (raised to the
robots.txt `Crawl-delay`) with fair slots (`flows/politeness.py`: a response that
hangs gives its slot to the host's next URL), robots.txt obeyed and cached per
origin, conditional GET from the previous validators, and limits on wire size,
decompressed size, time and redirects (followed here, so each hop is checked:
scheme, address, robots). Connections go only to checked addresses
(`flows/addresses.py`).

Each URL has one deadline (`deadline_s`) for all its attempts. Retried, with
exponential backoff and jitter, only where a retry can help: a connection that
could not be made or broke before the response, 429 and 502/503/504 (waiting
exactly a capped `Retry-After`, ahead of the host's other URLs). A response that
stalls or trickles past the deadline is not asked again in this run. The run's
fetch budget (`budget_s`) ends the stage: URLs not done by then are `deferred`.

Every attempt becomes a `Fetch` record; a URL that fails for good also becomes a
`Reject(uri, "fetch", error_class, message)`. A failed URL never fails the batch.

Error classes: timeout, connection, dns, http_429, http_5xx, http_4xx,
too_large, decompression_bomb, content_encoding, content_type, redirect_loop,
too_many_redirects, bad_redirect, http_3xx, too_slow, private_address, unsupported_scheme,
invalid_url, robots_disallowed, robots_unreachable, internal; and `deferred` (a
fetch row only, no reject).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import ssl
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urldefrag, urljoin, urlsplit

import httpcore
import httpx
from protego import Protego

from transforms.decoding import HTML_TYPES, SNIFF_TYPES, Inflater, PayloadError, parse_content_type, sniff_charset, sniff_media_type
from transforms.errors import FetchError, Reason, TransientError, fetch_error
from transforms.models import Document, Fetch, Reject, Validators, WorkItem, iso_utc
from flows.addresses import AddressBook, AddressRefused, PinnedBackend, Resolver, parse_networks
from flows.politeness import FIRST, RETRY, HostSlots, Lease
from warehouse.raw import write_raw

log = logging.getLogger(__name__)

STAGE = "fetch"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
RETRY_CODES = frozenset({502, 503, 504})
ROBOTS_MAX_BYTES = 512_000
ROBOTS_MAX_REDIRECTS = 5
MAX_STALLED_PER_SLOT = 4  # stalled requests let go of their host slot, per slot
DOCUMENT_SOURCE = {"urls": "url", "url": "url", "feed": "feed", "sitemap": "sitemap"}
T = TypeVar("T")


@dataclass(frozen=True)
class FetchOptions:
    user_agent: str = "newsdesk/0.1 (+https://github.com/newsdesk/newsdesk)"
    timeout_s: float = 20.0  # connect / read / write / pool, each
    total_timeout_s: float = 60.0  # one attempt, all redirect hops and the whole body
    deadline_s: float = 45.0  # one URL, all its attempts and waits; a URL still unfinished then fails for this run
    budget_s: float = 1800.0  # the run's fetch stage; URLs left when it runs out are `deferred` to the next run
    slot_release_s: float = 2.0  # a response without headers by then gives its per-host slot to the next URL
    min_rate_bytes_s: float = 512.0  # a body arriving slower than this on average, once ...
    min_rate_after_s: float = 10.0  # ... this long after its headers, is cut (`too_slow`) and not retried in this run
    max_bytes: int = 10_000_000  # on the wire
    max_decompressed_bytes: int = 50_000_000
    max_redirects: int = 5
    concurrency: int = 16
    per_host_concurrency: int = 2
    per_host_delay_s: float = 1.0
    retries: int = 2  # extra attempts after the first
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    max_retry_after_s: float = 120.0
    max_crawl_delay_s: float = 30.0
    allow_private: bool = False  # loopback and private ranges (never link-local nor cloud metadata)
    allowed_networks: tuple[str, ...] = ()  # CIDRs fetched even when not public, e.g. ("127.0.0.1/32",)
    respect_robots: bool = True
    http2: bool = True

    def __post_init__(self) -> None:
        parse_networks(self.allowed_networks)  # a CIDR that is not one is a configuration error, said at once
        object.__setattr__(self, "allowed_networks", tuple(self.allowed_networks))  # hashable after a JSON round trip


@dataclass
class FetchBatch:
    fetches: list[Fetch] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


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


@dataclass(frozen=True)
class Outcome:
    fetches: tuple[Fetch, ...]
    body: Body | None = None
    reject: Reject | None = None
    deferred: bool = False  # the run's fetch budget ran out first


@dataclass
class _UrlClock:
    deadline: float | None = None  # loop time; set by the URL's first request


def _fetch_id(url: str, attempt: int) -> str:
    return hashlib.sha256(f"{url}\n{attempt}\n{time.time_ns()}\n{random.random()}".encode()).hexdigest()[:32]


def _phase(trace: _Trace) -> str:
    if trace.status is None:
        return "waiting for the response"
    return "reading the body" if trace.wire_bytes else "waiting for the body"


def _describe(exc: BaseException, phase: str) -> str:
    """An exception as `Class: message`, never empty: `Class while <phase>` when it says nothing."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else f"{type(exc).__name__} while {phase}"


@dataclass
class _Trace:
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
    started_at: str | None = None  # ISO UTC: when the request went out (after any wait for a slot)
    deadline: float | None = None


@lru_cache(maxsize=2)
def _tls_context(http2: bool) -> ssl.SSLContext:
    """One TLS context per process (per HTTP/2 setting, which the connection pool writes into it):
    building one loads the CA bundle, tens of milliseconds that every batch would pay again."""
    return httpx.create_ssl_context()


class Fetcher:
    """One batch's (or one session's) HTTP machinery; use as `async with Fetcher(options, raw_root) as fetcher`."""

    def __init__(self, options: FetchOptions, raw_root: Path | None = None, resolver: Resolver | None = None,
                 network: httpcore.AsyncNetworkBackend | None = None) -> None:
        """`resolver` (host, port -> addresses) and `network` (the socket layer) replace the system's, for tests."""
        self.options = options
        self._network = network
        self.raw_root = raw_root
        self._client: httpx.AsyncClient | None = None
        self._global = asyncio.Semaphore(options.concurrency)
        self._hosts: dict[str, HostSlots] = {}
        self._robots: dict[str, Protego | FetchError | None] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self.addresses = AddressBook(parse_networks(options.allowed_networks), options.allow_private, resolver)

    async def __aenter__(self) -> Fetcher:
        limits = httpx.Limits(max_connections=self.options.concurrency, max_keepalive_connections=self.options.concurrency)
        transport = httpx.AsyncHTTPTransport(http2=self.options.http2, verify=_tls_context(self.options.http2), limits=limits)
        # Connections go to the addresses checked by `self.addresses`, never to a second DNS answer.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=_tls_context(self.options.http2),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=self.options.http2,
            network_backend=PinnedBackend(self.addresses, self._network),
        )
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(self.options.timeout_s),
            follow_redirects=False,
            headers={"User-Agent": self.options.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._client is not None:
            await self._client.aclose()

    # --- one URL, with retries -------------------------------------------------

    async def fetch_url(
        self,
        url: str,
        *,
        accept: frozenset[str] = HTML_TYPES,
        validators: Validators | None = None,
        source_name: str | None = None,
        budget_until: float | None = None,
    ) -> Outcome:
        """Fetch one URL (retrying where a retry can help, within its deadline); never raises for a known failure.

        `budget_until` (epoch seconds) is the end of the run's fetch budget: a URL not done by then
        ends as one `deferred` fetch row, no reject, to be fetched first next run.
        """
        fetches: list[Fetch] = []
        clock = _UrlClock()
        loop = asyncio.get_running_loop()
        budget_at = None if budget_until is None else loop.time() + (budget_until - time.time())
        budget = asyncio.timeout_at(budget_at)
        try:
            async with budget:
                return await self._attempts(url, accept, validators, source_name, fetches, clock)
        except TimeoutError:
            if not budget.expired():
                raise
            fetch_id = _fetch_id(url, len(fetches) + 1)
            cut = fetch_error("deferred", f"{url}: not fetched before the run's fetch budget ran out "
                                       f"(fetch.budget_s = {self.options.budget_s:g}); it is fetched first next run")
            record = self._record(fetch_id, url, _Trace(final_url=url), iso_utc(datetime.now(UTC)), len(fetches) + 1,
                                  time.monotonic(), source_name, failure=cut)
            return Outcome((*fetches, record), deferred=True)

    async def _attempts(
        self, url: str, accept: frozenset[str], validators: Validators | None, source_name: str | None,
        fetches: list[Fetch], clock: _UrlClock,
    ) -> Outcome:
        not_before = 0.0  # loop time a retry may start
        for attempt in range(1, self.options.retries + 2):
            fetched_at = iso_utc(datetime.now(UTC))
            fetch_id = _fetch_id(url, attempt)
            trace = _Trace(final_url=url)
            started = time.monotonic()
            try:
                body = await self._attempt(url, accept, validators, trace, clock,
                                           RETRY if attempt > 1 else FIRST, not_before)
            except FetchError as failure:
                if url not in str(failure):
                    failure = fetch_error(failure.error_class, f"{url} (redirected): {failure}", isinstance(failure, TransientError),
                                          failure.retry_after)
                fetches.append(self._record(fetch_id, url, trace, fetched_at, attempt, started, source_name, failure=failure))
                retry_at = self._retry_at(url, attempt, failure, clock)
                if retry_at is None:
                    return Outcome(tuple(fetches), reject=Reject(url, STAGE, failure.error_class, str(failure), fetch_id=fetch_id))
                not_before = retry_at  # waited in the host's queue, ahead of first attempts
                continue
            except Exception as exc:  # a bug must not fail the batch: record it and go on
                log.exception("unexpected error fetching %s", url)
                bug = fetch_error("internal", f"{url}: unexpected {_describe(exc, 'fetching')} (please report this)")
                fetches.append(self._record(fetch_id, url, trace, fetched_at, attempt, started, source_name, failure=bug))
                return Outcome(tuple(fetches), reject=Reject(url, STAGE, "internal", str(bug), fetch_id=fetch_id))
            fetches.append(self._record(fetch_id, url, trace, fetched_at, attempt, started, source_name, body=body))
            return Outcome(tuple(fetches), body=body)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_at(self, url: str, attempt: int, failure: FetchError, clock: _UrlClock) -> float | None:
        """When (loop time) the next attempt may start, or None when there is none (not worth it, or no time left)."""
        if not isinstance(failure, TransientError) or attempt > self.options.retries:
            return None
        now = asyncio.get_running_loop().time()
        if failure.retry_after is not None:
            at = now + min(failure.retry_after, self.options.max_retry_after_s)  # what the server said, no jitter
        else:
            at = now + min(self.options.backoff_s * 2 ** (attempt - 1), self.options.max_backoff_s) * random.uniform(0.5, 1.5)
        if clock.deadline is not None and at >= clock.deadline:
            return None  # the retry could not finish within the URL's deadline
        if failure.retry_after is not None:
            self._host(url).hold_off(at)  # the whole host waits, and this URL goes first when it is over
        return at

    def _record(
        self,
        fetch_id: str,
        url: str,
        trace: _Trace,
        fetched_at: str,
        attempt: int,
        clock: float,
        source_name: str | None,
        *,
        body: Body | None = None,
        failure: FetchError | None = None,
    ) -> Fetch:
        started = trace.started if trace.started is not None else clock
        return Fetch(
            fetch_id=fetch_id,
            url=url,
            final_url=trace.final_url,
            status=trace.status,
            bytes=trace.wire_bytes,
            elapsed_ms=round((time.monotonic() - started) * 1000, 3),
            content_hash=body.content_hash if body else None,
            content_type=trace.content_type,
            charset=body.charset if body else trace.charset,
            etag=trace.etag,
            last_modified=trace.last_modified,
            error_class=failure.error_class if failure else None,
            error=str(failure) if failure else None,
            attempt=attempt,
            fetched_at=trace.started_at or fetched_at,
            not_modified=body.not_modified if body else False,
            source_name=source_name,
            redirects=trace.redirects,
        )

    # --- one attempt: redirect hops ----------------------------------------------

    async def _attempt(
        self, url: str, accept: frozenset[str], validators: Validators | None, trace: _Trace, clock: _UrlClock, priority: int,
        not_before: float = 0.0,
    ) -> Body:
        current, seen = url, {url}
        loop = asyncio.get_running_loop()
        while True:
            await self._check(current)
            # a redirect hop goes ahead of the URLs not yet started: a URL under way is finished first
            lease = await (self._host(current).acquire(priority, not_before) if current == url else self._host(current).acquire(RETRY))
            try:
                async with self._global:
                    if trace.started is None:
                        trace.started = time.monotonic()
                        trace.started_at = iso_utc(datetime.now(UTC))
                        if clock.deadline is None:  # the URL's clock starts with its first request
                            clock.deadline = loop.time() + self.options.deadline_s
                        trace.deadline = min(clock.deadline, loop.time() + self.options.total_timeout_s)
                    try:
                        async with asyncio.timeout_at(trace.deadline):
                            result = await self._hop(current, accept, validators if current == url else None, trace, lease)
                    except TimeoutError as exc:
                        limit = min(self.options.deadline_s, self.options.total_timeout_s)
                        raise fetch_error("timeout", f"{url}: no complete response within {limit:g}s "
                                                  f"({_phase(trace)}); not retried in this run") from exc
            finally:
                lease.close()
            if isinstance(result, Body):
                return result
            target = result
            if target in seen:
                raise fetch_error("redirect_loop", f"{url}: redirect loop at {target}")
            trace.redirects += 1
            if trace.redirects > self.options.max_redirects:
                raise fetch_error("too_many_redirects", f"{url}: more than {self.options.max_redirects} redirects")
            seen.add(target)
            current = target

    async def _hop(self, url: str, accept: frozenset[str], validators: Validators | None, trace: _Trace, lease: Lease) -> Body | str:
        """One request: a Body, or the next URL of a redirect.

        Retried (transient) only when a retry can help: the connection could not be made, or it
        broke before the response began. A response that stalls is not asked again in this run.
        """
        assert self._client is not None
        headers = {"Accept": _accept_header(accept)}
        if validators is not None and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators is not None and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        trace.final_url = url
        try:
            async with self._client.stream("GET", url, headers=headers) as response:
                lease.answered()
                trace.status = response.status_code
                trace.content_type = response.headers.get("content-type")
                trace.etag = response.headers.get("etag")
                trace.last_modified = response.headers.get("last-modified")
                return await self._response(url, response, accept, validators, trace)
        except AddressRefused as refused:
            raise fetch_error(refused.error_class, f"{url}: {refused}") from refused
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise fetch_error("timeout", f"{url}: {_describe(exc, 'connecting')} after {self.options.timeout_s:g}s", True) from exc
        except httpx.TimeoutException as exc:
            raise fetch_error("timeout", f"{url}: {_describe(exc, _phase(trace))} after {self.options.timeout_s:g}s; "
                                      "not retried in this run") from exc
        except httpx.ConnectError as exc:
            raise fetch_error("connection", f"{url}: cannot connect ({_describe(exc, 'connecting')})", True) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            early = trace.status is None  # broke before the response began: worth another try
            raise fetch_error("connection", f"{url}: connection failed {'before the response' if early else 'mid-response'} "
                                         f"({_describe(exc, _phase(trace))})", early) from exc

    async def _response(
        self, url: str, response: httpx.Response, accept: frozenset[str], validators: Validators | None, trace: _Trace
    ) -> Body | str:
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
            retry_after = _retry_after(response.headers.get("retry-after"))
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
        body = await self._read(url, response, trace)
        if media not in accept:
            media = sniff_media_type(body)
            if media not in accept:
                raise fetch_error("content_type", f"{url}: served as {trace.content_type!r} and the body is not {'/'.join(sorted(accept))}")
        charset = sniff_charset(body, charset) if media in HTML_TYPES else charset
        if self.raw_root is not None:  # compression and file I/O off the event loop
            content_hash = await asyncio.to_thread(write_raw, self.raw_root, body)
        else:
            content_hash = hashlib.sha256(body).hexdigest()
        return Body(url, url, status, body, media, charset, content_hash)

    async def _read(self, url: str, response: httpx.Response, trace: _Trace) -> bytes:
        """The body, enforcing the wire and decompressed limits while streaming."""
        limit, inflated_limit = self.options.max_bytes, self.options.max_decompressed_bytes
        length = response.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit:
            raise fetch_error("too_large", f"{url}: Content-Length {length} is over the {limit}-byte limit")
        out = bytearray()
        began = time.monotonic()
        floor, grace = self.options.min_rate_bytes_s, self.options.min_rate_after_s
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

    # --- checks: scheme, address, robots -----------------------------------------

    async def _check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise fetch_error("unsupported_scheme", f"{url}: only http and https are fetched")
        host = parts.hostname
        if not host:
            raise fetch_error("invalid_url", f"{url}: no host")
        await self._check_address(url, host, parts.port or (443 if parts.scheme == "https" else 80))
        if self.options.respect_robots:
            await self._check_robots(url)

    async def _check_address(self, url: str, host: str, port: int) -> None:
        try:
            await self.addresses.check(host, port)
        except AddressRefused as refused:
            raise fetch_error(refused.error_class, f"{url}: {refused}") from refused

    async def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            async with self._robots_locks.setdefault(origin, asyncio.Lock()):
                if origin not in self._robots:
                    self._robots[origin] = await self._fetch_robots(origin)
        rules = self._robots[origin]
        if isinstance(rules, FetchError):
            raise fetch_error(rules.error_class, f"{url}: {rules}")
        if rules is not None and not rules.can_fetch(url, self.options.user_agent):
            raise fetch_error("robots_disallowed", f"{url}: disallowed by {origin}/robots.txt for {self.options.user_agent!r}")

    async def _fetch_robots(self, origin: str) -> Protego | FetchError | None:
        """The origin's rules; None = no robots.txt (all allowed); a failure = unreachable (all disallowed, RFC 9309)."""
        assert self._client is not None
        url = f"{origin}/robots.txt"
        try:
            async with asyncio.timeout(min(self.options.deadline_s, self.options.total_timeout_s)):
                for _ in range(ROBOTS_MAX_REDIRECTS + 1):
                    parts = urlsplit(url)
                    await self._check_address(url, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
                    lease = await self._host(url).acquire(RETRY)  # ahead of the pages waiting for it
                    try:
                        async with self._global, self._client.stream("GET", url, headers={"Accept": "text/plain"}) as response:
                            lease.answered()
                            location = response.headers.get("location")
                            if response.status_code in REDIRECT_CODES and location:
                                url = urljoin(url, location)
                                continue
                            if 400 <= response.status_code < 500:
                                return None
                            if response.status_code >= 500:
                                return fetch_error("robots_unreachable", f"{origin}/robots.txt answered HTTP {response.status_code}")
                            text = await self._read_robots(response)
                    finally:
                        lease.close()
                    rules = Protego.parse(text)
                    delay = rules.crawl_delay(self.options.user_agent)
                    if delay:
                        host = self._host(origin)
                        host.delay = max(host.delay, min(float(delay), self.options.max_crawl_delay_s))
                    return rules
        except FetchError as failure:
            return failure
        except (httpx.HTTPError, TimeoutError) as exc:
            return fetch_error("robots_unreachable", f"{origin}/robots.txt could not be fetched ({_describe(exc, 'fetching it')})")
        return None  # too many redirects: treated as no robots.txt (RFC 9309 2.3.1.2)

    async def _read_robots(self, response: httpx.Response) -> str:
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) >= ROBOTS_MAX_BYTES:
                break
        return bytes(data[:ROBOTS_MAX_BYTES]).decode("utf-8", errors="replace")

    def _host(self, url: str) -> HostSlots:
        key = urlsplit(url).netloc.lower()
        host = self._hosts.get(key)
        if host is None:
            concurrency = self.options.per_host_concurrency
            host = self._hosts[key] = HostSlots(concurrency, self.options.per_host_delay_s, self.options.slot_release_s,
                                                max_stalled=MAX_STALLED_PER_SLOT * concurrency)
        return host


def _accept_header(accept: frozenset[str]) -> str:
    return ", ".join(sorted(accept)) + ", */*;q=0.1"


def _retry_after(value: str | None) -> float | None:
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


# --- the batch entry point -----------------------------------------------------


async def fetch_batch_async(
    items: Sequence[WorkItem],
    options: FetchOptions,
    raw_root: Path,
    previous: Mapping[str, Validators] | None = None,
    session: str | None = None,
    budget_until: float | None = None,
) -> FetchBatch:
    previous = previous or {}
    unique = list({item.url: item for item in reversed(items)}.values())[::-1]
    batch = FetchBatch()
    async with session_fetcher(session, options, raw_root) as fetcher:
        outcomes = await asyncio.gather(*(
            fetcher.fetch_url(item.url, validators=previous.get(item.url), source_name=item.source_name, budget_until=budget_until)
            for item in unique
        ))
    for item, outcome in zip(unique, outcomes, strict=True):
        batch.fetches.extend(outcome.fetches)
        if outcome.reject is not None:
            batch.rejects.append(outcome.reject)
        body = outcome.body
        if body is not None and not body.not_modified:
            last = outcome.fetches[-1]
            batch.documents.append(
                Document(
                    uri=item.url,
                    source=DOCUMENT_SOURCE.get(item.source_kind, item.source_kind),
                    body=body.body,
                    media_type="text/html",
                    charset=body.charset,
                    url=body.final_url,
                    fetch_id=last.fetch_id,
                    fetched_at=last.fetched_at,
                )
            )
    return batch


def fetch_batch(
    items: Sequence[WorkItem],
    options: FetchOptions,
    raw_root: Path,
    previous: Mapping[str, Validators] | None = None,
    session: str | None = None,
    budget_until: float | None = None,
) -> FetchBatch:
    """Fetch every item's URL; failures become Fetch rows with an error_class and Rejects.

    URLs not done by `budget_until` (epoch seconds: the end of the run's fetch budget) end as a
    `deferred` fetch row each, without a reject.

    Batches given the same `session` (a flow run passes its run id) share one `Fetcher` in
    this process: one connection pool, one robots.txt per origin, and one global and per-host
    limit, so batches fetched side by side are together as polite as the options say.
    Without a session the batch has a fetcher of its own.
    """
    return run_sync(fetch_batch_async(items, options, raw_root, previous, session, budget_until))


# --- fetchers shared by the batches of a session ---------------------------------

SESSION_IDLE_S = 30.0  # a session's fetcher is closed once no batch has used it for this long


@dataclass
class _Session:
    fetcher: Fetcher
    users: int = 0
    closer: asyncio.TimerHandle | None = None


# Only ever touched from the fetch loop, so no lock.
_SESSIONS: dict[tuple[str, FetchOptions, str], _Session] = {}


@asynccontextmanager
async def session_fetcher(session: str | None, options: FetchOptions, raw_root: Path | None) -> AsyncIterator[Fetcher]:
    """The session's shared fetcher (a new one for no session); on the fetch loop (`run_sync`)."""
    if session is None:
        async with Fetcher(options, raw_root) as fetcher:
            yield fetcher
        return
    key = (session, options, str(raw_root))
    shared = _SESSIONS.get(key)
    if shared is None:
        fetcher = await Fetcher(options, raw_root).__aenter__()
        shared = _SESSIONS.setdefault(key, _Session(fetcher))
        if shared.fetcher is not fetcher:  # another batch got there first
            await fetcher.__aexit__(None, None, None)
    if shared.closer is not None:
        shared.closer.cancel()
        shared.closer = None
    shared.users += 1
    try:
        yield shared.fetcher
    finally:
        shared.users -= 1
        if not shared.users:
            loop = asyncio.get_running_loop()
            shared.closer = loop.call_later(SESSION_IDLE_S, _schedule_close, key, shared)


_CLOSING: set[asyncio.Task[None]] = set()  # strong references: the loop keeps only weak ones


def _schedule_close(key: tuple[str, FetchOptions, str], shared: _Session) -> None:
    closing = asyncio.get_running_loop().create_task(_close_session(key, shared))
    _CLOSING.add(closing)
    closing.add_done_callback(_CLOSING.discard)


async def _close_session(key: tuple[str, FetchOptions, str], shared: _Session) -> None:
    if shared.users or _SESSIONS.get(key) is not shared:
        return
    del _SESSIONS[key]
    await shared.fetcher.__aexit__(None, None, None)


_LOOP_LOCK = threading.Lock()
_LOOP: tuple[int, asyncio.AbstractEventLoop] | None = None


def _fetch_loop() -> asyncio.AbstractEventLoop:
    """This process's fetch event loop, running in a daemon thread (started on first use).

    Every batch's fetching runs on it, whichever thread submitted the batch: batch tasks
    running side by side in a thread pool would otherwise each run an event loop of their
    own and fight over the GIL (three batches of conditional GETs took 1.4-1.6 times as long
    in three loops as in one).
    """
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None or _LOOP[0] != os.getpid():  # a forked child inherits no threads
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="newsdesk-fetch-loop", daemon=True).start()
            _SESSIONS.clear()  # a parent's fetchers belong to the parent's loop
            _LOOP = (os.getpid(), loop)
        return _LOOP[1]


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on the process's fetch loop and wait for its result (from any thread but that loop's)."""
    loop = _fetch_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coroutine.close()
        raise RuntimeError("run_sync() called on the fetch loop itself; await the coroutine instead")
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result()
