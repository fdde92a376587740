"""robots.txt (RFC 9309), read once per origin and fetch session, and obeyed.

A robots.txt that is missing (4xx) allows everything; one that cannot be fetched (5xx,
no answer) disallows everything, as the RFC says; redirects are followed a few hops (each
hop's address checked by the fetcher), then treated as no robots.txt. A `Crawl-delay`
raises the host's delay (capped by `fetch.max_crawl_delay_s`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from flows.responses import REDIRECT_CODES, describe
from transforms.errors import FetchError, fetch_error

ROBOTS_MAX_BYTES = 512_000
ROBOTS_MAX_REDIRECTS = 5
Rules = Protego | FetchError | None  # None: no robots.txt (all allowed); a failure: unreachable (all disallowed)


class Robots:
    """One session's robots.txt rules per origin; `request(url)` makes one polite GET, `slow_down(origin, s)` a delay."""

    def __init__(self, user_agent: str, timeout_s: float, max_crawl_delay_s: float,
                 request: Callable[[str], AbstractAsyncContextManager[httpx.Response]],
                 slow_down: Callable[[str, float], None]) -> None:
        self.user_agent, self.timeout_s, self.max_crawl_delay_s = user_agent, timeout_s, max_crawl_delay_s
        self._request, self._slow_down = request, slow_down
        self._rules: dict[str, Rules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def check(self, url: str) -> None:
        """Raise a FetchError when `url` may not be fetched (`robots_disallowed`, `robots_unreachable`)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._rules:
            async with self._locks.setdefault(origin, asyncio.Lock()):
                if origin not in self._rules:
                    self._rules[origin] = await self._fetch(origin)
        rules = self._rules[origin]
        if isinstance(rules, FetchError):
            raise fetch_error(rules.error_class, f"{url}: {rules}")
        if rules is not None and not rules.can_fetch(url, self.user_agent):
            raise fetch_error("robots_disallowed", f"{url}: disallowed by {origin}/robots.txt for {self.user_agent!r}")

    async def _fetch(self, origin: str) -> Rules:
        url = f"{origin}/robots.txt"
        try:
            async with asyncio.timeout(self.timeout_s):
                for _ in range(ROBOTS_MAX_REDIRECTS + 1):
                    async with self._request(url) as response:
                        location = response.headers.get("location")
                        if response.status_code in REDIRECT_CODES and location:
                            url = urljoin(url, location)
                            continue
                        if 400 <= response.status_code < 500:
                            return None
                        if response.status_code >= 500:
                            return fetch_error("robots_unreachable", f"{origin}/robots.txt answered HTTP {response.status_code}")
                        text = await _read(response)
                    rules = Protego.parse(text)
                    delay = rules.crawl_delay(self.user_agent)
                    if delay:
                        self._slow_down(origin, min(float(delay), self.max_crawl_delay_s))
                    return rules
        except FetchError as failure:
            return failure
        except (httpx.HTTPError, TimeoutError) as exc:
            return fetch_error("robots_unreachable", f"{origin}/robots.txt could not be fetched ({describe(exc, 'fetching it')})")
        return None  # too many redirects: treated as no robots.txt (RFC 9309 2.3.1.2)


async def _read(response: httpx.Response) -> str:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= ROBOTS_MAX_BYTES:
            break
    return bytes(data[:ROBOTS_MAX_BYTES]).decode("utf-8", errors="replace")
