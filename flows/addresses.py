"""Which addresses the fetcher may connect to, and connecting only to the address that was checked.

Public addresses are allowed. Loopback and private ranges are allowed only when listed in
`fetch.allowed_networks` (`--allow-network 127.0.0.1/32`) or with `allow_private`. Link-local
addresses and the cloud metadata services (169.254.169.254 and friends) are refused unless a
listed network inside their own range names them: `allow_private` and wide networks such as
0.0.0.0/0 never let them through.

A host name is resolved once per fetch session; the connection goes to the address that was
checked (the transport's network backend asks `PinnedBackend`, which never resolves again), so
a DNS answer that changes between the check and the connection (DNS rebinding) cannot send a
request to a refused address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import httpcore
import httpx

from flows.networks import Address, Network, is_allowed
from transforms.errors import FetchFailed

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class AddressRefused(FetchFailed):
    """A host that must not be connected to (or cannot be resolved); `error_class` says which."""


async def resolve_system(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class AddressBook:
    """A session's checked addresses: each host resolved once, refused if any of its addresses is."""

    def __init__(self, allowed: Sequence[Network], allow_private: bool, resolver: Resolver | None = None) -> None:
        self.allowed = list(allowed)
        self.allow_private = allow_private
        self.resolver = resolver or resolve_system
        self.lookups = 0
        self._known: dict[str, tuple[Address, ...] | AddressRefused] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def check(self, host: str, port: int) -> tuple[Address, ...]:
        """The host's addresses, all allowed; raises AddressRefused."""
        known = self._known.get(host)
        if known is None:
            async with self._locks.setdefault(host, asyncio.Lock()):
                known = self._known.get(host)
                if known is None:
                    known = self._known[host] = await self._resolve(host, port)
        if isinstance(known, AddressRefused):
            raise AddressRefused(known.error_class, str(known))
        return known

    async def _resolve(self, host: str, port: int) -> tuple[Address, ...] | AddressRefused:
        try:
            addresses: list[Address] = [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            self.lookups += 1
            try:
                answers = await self.resolver(host, port)
            except (OSError, UnicodeError) as exc:
                return AddressRefused("dns", f"cannot resolve {host} ({type(exc).__name__}: {exc or 'no answer'})")
            try:
                addresses = [ipaddress.ip_address(a.split("%")[0]) for a in answers]
            except ValueError as exc:
                return AddressRefused("dns", f"cannot resolve {host} ({exc})")
            if not addresses:
                return AddressRefused("dns", f"cannot resolve {host} (no address)")
        for address in addresses:
            if not is_allowed(address, self.allowed, self.allow_private):
                return AddressRefused("private_address", f"{host} resolves to the non-public address {address}: refused "
                                      f"(allow it with --allow-network {address}/{address.max_prefixlen})")
        return tuple(addresses)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting to the addresses `book` checked instead of resolving again."""

    def __init__(self, book: AddressBook, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.book = book
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        addresses = await self.book.check(host, port)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@lru_cache(maxsize=2)
def _tls_context(http2: bool) -> ssl.SSLContext:
    """One TLS context per process (per HTTP/2 setting, which the connection pool writes into it):
    building one loads the CA bundle, tens of milliseconds that every batch would pay again."""
    return httpx.create_ssl_context()


def pinned_client(book: AddressBook, network: httpcore.AsyncNetworkBackend | None, *, http2: bool, concurrency: int,
                  timeout_s: float, user_agent: str) -> httpx.AsyncClient:
    """A pooled client whose connections go to the addresses checked by `book`, never to a second DNS answer."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport = httpx.AsyncHTTPTransport(http2=http2, verify=_tls_context(http2), limits=limits)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=_tls_context(http2),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=http2,
        network_backend=PinnedBackend(book, network),
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
    )
