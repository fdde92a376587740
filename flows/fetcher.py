"""The polite async fetcher of one URL at a time: `Fetcher.fetch_url` gives its fetch records and body or reject.

One pooled `httpx.AsyncClient` per fetch session (the batches of one flow run
in one process; see `flows.fetch.fetch_batch` and `flows.fetch_loop`), HTTP/2 where the server offers it,
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

Error classes: the fetch reasons of `transforms.errors.Reason`; `deferred` is a fetch row
only, no reject.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import httpcore
import httpx

from flows.addresses import AddressBook, AddressRefused, Resolver, pinned_client
from flows.networks import parse_networks
from flows.fetch_options import FetchOptions
from flows.politeness import FIRST, RETRY, HostSlots, Lease
from flows.robots import Robots
from flows.responses import Body, Trace, accept_header, describe, phase, read_response
from transforms.decoding import HTML_TYPES
from transforms.errors import FetchError, Stage, TransientError, fetch_error
from transforms.ids import to_attempt_id
from transforms.models import Fetch, Reject, Validators

log = logging.getLogger(__name__)

STAGE: Stage = "fetch"
MAX_STALLED_PER_SLOT = 4  # stalled requests let go of their host slot, per slot


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
    return to_attempt_id(url, attempt, f"{time.time_ns()}\n{random.random()}")


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
        self.robots = Robots(options.user_agent, min(options.deadline_s, options.total_timeout_s), options.max_crawl_delay_s,
                             self._robots_request, self._slow_down)
        self.addresses = AddressBook(parse_networks(options.allowed_networks), options.allow_private, resolver)

    async def __aenter__(self) -> Fetcher:
        self._client = pinned_client(self.addresses, self._network, http2=self.options.http2,
                                     concurrency=self.options.concurrency, timeout_s=self.options.timeout_s,
                                     user_agent=self.options.user_agent)
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
            record = self._record(fetch_id, url, Trace(final_url=url), datetime.now(UTC), len(fetches) + 1,
                                  time.monotonic(), source_name, failure=cut)
            return Outcome((*fetches, record), deferred=True)

    async def _attempts(
        self, url: str, accept: frozenset[str], validators: Validators | None, source_name: str | None,
        fetches: list[Fetch], clock: _UrlClock,
    ) -> Outcome:
        not_before = 0.0  # loop time a retry may start
        for attempt in range(1, self.options.retries + 2):
            fetched_at = datetime.now(UTC)
            fetch_id = _fetch_id(url, attempt)
            trace = Trace(final_url=url)
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
                bug = fetch_error("internal", f"{url}: unexpected {describe(exc, 'fetching')} (please report this)")
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
        trace: Trace,
        fetched_at: datetime,
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
        self, url: str, accept: frozenset[str], validators: Validators | None, trace: Trace, clock: _UrlClock, priority: int,
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
                        trace.started_at = datetime.now(UTC)
                        if clock.deadline is None:  # the URL's clock starts with its first request
                            clock.deadline = loop.time() + self.options.deadline_s
                        trace.deadline = min(clock.deadline, loop.time() + self.options.total_timeout_s)
                    try:
                        async with asyncio.timeout_at(trace.deadline):
                            result = await self._hop(current, accept, validators if current == url else None, trace, lease)
                    except TimeoutError as exc:
                        limit = min(self.options.deadline_s, self.options.total_timeout_s)
                        raise fetch_error("timeout", f"{url}: no complete response within {limit:g}s "
                                                  f"({phase(trace)}); not retried in this run") from exc
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

    async def _hop(self, url: str, accept: frozenset[str], validators: Validators | None, trace: Trace, lease: Lease) -> Body | str:
        """One request: a Body, or the next URL of a redirect.

        Retried (transient) only when a retry can help: the connection could not be made, or it
        broke before the response began. A response that stalls is not asked again in this run.
        """
        assert self._client is not None
        headers = {"Accept": accept_header(accept)}
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
                return await read_response(url, response, accept, validators, trace, self.options, self.raw_root)
        except AddressRefused as refused:
            raise fetch_error(refused.error_class, f"{url}: {refused}") from refused
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise fetch_error("timeout", f"{url}: {describe(exc, 'connecting')} after {self.options.timeout_s:g}s", True) from exc
        except httpx.TimeoutException as exc:
            raise fetch_error("timeout", f"{url}: {describe(exc, phase(trace))} after {self.options.timeout_s:g}s; "
                                      "not retried in this run") from exc
        except httpx.ConnectError as exc:
            raise fetch_error("connection", f"{url}: cannot connect ({describe(exc, 'connecting')})", True) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            early = trace.status is None  # broke before the response began: worth another try
            raise fetch_error("connection", f"{url}: connection failed {'before the response' if early else 'mid-response'} "
                                         f"({describe(exc, phase(trace))})", early) from exc

    # --- checks: scheme, address, robots (flows/robots.py) -----------------------------------------

    async def _check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise fetch_error("unsupported_scheme", f"{url}: only http and https are fetched")
        host = parts.hostname
        if not host:
            raise fetch_error("invalid_url", f"{url}: no host")
        await self._check_address(url, host, parts.port or (443 if parts.scheme == "https" else 80))
        if self.options.respect_robots:
            await self.robots.check(url)

    async def _check_address(self, url: str, host: str, port: int) -> None:
        try:
            await self.addresses.check(host, port)
        except AddressRefused as refused:
            raise fetch_error(refused.error_class, f"{url}: {refused}") from refused

    @asynccontextmanager
    async def _robots_request(self, url: str) -> AsyncIterator[httpx.Response]:
        """One robots.txt request (a hop of it): the address checked, ahead of the pages waiting for the host."""
        assert self._client is not None
        parts = urlsplit(url)
        await self._check_address(url, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        lease = await self._host(url).acquire(RETRY)
        try:
            async with self._global, self._client.stream("GET", url, headers={"Accept": "text/plain"}) as response:
                lease.answered()
                yield response
        finally:
            lease.close()

    def _slow_down(self, origin: str, delay: float) -> None:
        host = self._host(origin)
        host.delay = max(host.delay, delay)

    def _host(self, url: str) -> HostSlots:
        key = urlsplit(url).netloc.lower()
        host = self._hosts.get(key)
        if host is None:
            concurrency = self.options.per_host_concurrency
            host = self._hosts[key] = HostSlots(concurrency, self.options.per_host_delay_s, self.options.slot_release_s,
                                                max_stalled=MAX_STALLED_PER_SLOT * concurrency)
        return host
