"""The fetcher's options (`[fetch]` in newsdesk.toml), apart from the fetcher, so that settings need not import it."""

from __future__ import annotations

from dataclasses import dataclass

from flows.networks import parse_networks


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
