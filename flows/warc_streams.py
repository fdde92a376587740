"""Where a WARC's bytes come from: a local file, an fsspec URL (s3://...) or HTTP(S) with byte ranges.

`open_warc` gives a binary stream positioned at an offset, so that a run resumes a file
where the last one stopped; over HTTP the host must pass the fetcher's address policy
(`flows/addresses.py`) and the server must honour range requests.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from flows.networks import is_allowed, parse_networks
from transforms.errors import PermanentError

REMOTE = ("http://", "https://")


class WarcError(PermanentError):
    """A WARC file that cannot be opened or read at all (the run goes on without it)."""

    STAGE, REASON = "read", "warc_unreadable"


@dataclass(frozen=True)
class WarcOptions:
    """How remote WARCs are opened (from the fetch settings)."""

    user_agent: str = "newsdesk"
    timeout_s: float = 20.0
    allow_private: bool = False
    allowed_networks: tuple[str, ...] = ()
    storage_options: tuple[tuple[str, Any], ...] = ()  # fsspec options for s3:// and the like


@contextmanager
def open_warc(location: str, offset: int, options: WarcOptions) -> Iterator[IO[bytes]]:
    """A binary stream of the WARC at `location`, positioned at byte `offset`; WarcError when it cannot be."""
    try:
        if location.startswith(REMOTE):
            with _open_http(location, offset, options) as stream:
                yield stream
            return
        if "://" in location:
            import fsspec

            with fsspec.open(location, "rb", **dict(options.storage_options)) as handle:
                handle.seek(offset)
                yield handle
            return
        with open(location, "rb") as local:
            local.seek(offset)
            yield local
    except WarcError:
        raise
    except (OSError, ValueError) as err:
        raise WarcError(f"cannot read {location}: {err}") from None


@contextmanager
def _open_http(url: str, offset: int, options: WarcOptions) -> Iterator[IO[bytes]]:
    import httpx

    host = urlsplit(url).hostname or ""
    _check_address(host, options)
    headers = {"User-Agent": options.user_agent}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with httpx.Client(timeout=options.timeout_s, follow_redirects=False) as client:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code not in (200, 206):
                raise WarcError(f"cannot read {url}: HTTP {response.status_code}")
            if offset and response.status_code != 206:
                raise WarcError(f"cannot resume {url} at byte {offset}: the server ignores range requests")
            yield _HttpStream(response, offset)  # type: ignore[misc]


def _check_address(host: str, options: WarcOptions) -> None:
    """The fetcher's address policy (flows/addresses.py) for a WARC read over HTTP."""
    if options.allow_private:
        return
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in socket.getaddrinfo(host, None)]
        except (socket.gaierror, UnicodeError) as err:
            raise WarcError(f"cannot resolve {host} ({err})") from None
    allowed = parse_networks(options.allowed_networks)
    for address in addresses:
        if not is_allowed(address, allowed):
            mapped = getattr(address, "ipv4_mapped", None) or address
            raise WarcError(f"{host} resolves to the non-public address {mapped}: refused "
                            f"(--allow-private or fetch.allowed_networks to allow it)")


class _HttpStream:
    """A streamed HTTP body as a read-only file object that knows its offset in the whole file."""

    def __init__(self, response: Any, offset: int) -> None:
        self._chunks = response.iter_bytes(1 << 16)
        self._buffer = b""
        self._position = offset

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        data, self._buffer = (self._buffer, b"") if size < 0 else (self._buffer[:size], self._buffer[size:])
        self._position += len(data)
        return data

    def tell(self) -> int:
        return self._position

    def readable(self) -> bool:
        return True
