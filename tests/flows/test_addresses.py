"""Which addresses the fetcher connects to: refused before any connection, and never a second DNS answer.

DNS answers come from a resolver hook, never the real DNS; the only address actually connected
to is the test server's 127.0.0.1. Where a test needs to see the connection to another
address, the socket layer is a recorder that refuses to connect, so nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpcore
import pytest
from pytest_httpserver import HTTPServer

from flows.networks import is_allowed, parse_networks
from flows.cli import main
from flows.fetch import Fetcher, FetchOptions, Outcome

LOOPBACK_ONLY = FetchOptions(user_agent="newsdesk-test/1.0", timeout_s=2.0, deadline_s=5.0, retries=0, per_host_delay_s=0.0,
                             allowed_networks=("127.0.0.1/32",))


class Answers:
    """A resolver hook: the n-th lookup of a host gets the n-th answer (the last one repeats)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        given = self.answers[host]
        return given[min(self.calls.count(host), len(given)) - 1]


class Recorder(httpcore.AsyncNetworkBackend):
    """The socket layer for addresses that must not be reached: records the address, connects nowhere."""

    def __init__(self) -> None:
        self.connected: list[str] = []

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        self.connected.append(host)
        raise httpcore.ConnectError(f"test: not connecting to {host}")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def fetch(urls: list[str], resolver: Answers | None = None, network: Recorder | None = None,
          options: FetchOptions = LOOPBACK_ONLY) -> list[Outcome]:
    async def go() -> list[Outcome]:
        async with Fetcher(options, resolver=resolver, network=network) as fetcher:
            return list(await asyncio.gather(*(fetcher.fetch_url(u) for u in urls)))

    return asyncio.run(go())


def test_private_metadata_and_rebinding_hosts_are_refused_before_connecting() -> None:
    recorder = Recorder()
    answers = Answers({"mixed.example": [["93.184.216.34", "10.0.0.1"]], "meta.example": [["169.254.169.254"]]})
    urls = ["http://10.0.0.1/admin", "http://169.254.169.254/latest/meta-data/", "http://mixed.example/",
            "http://meta.example/", "http://[fd00:ec2::254]/latest/"]
    outcomes = fetch(urls, answers, recorder, LOOPBACK_ONLY)
    for url, outcome in zip(urls, outcomes, strict=True):
        assert outcome.reject is not None and outcome.reject.reason == "private_address", url
        assert [f.status for f in outcome.fetches] == [None]
        assert "refused" in outcome.reject.message and "--allow-network" in outcome.reject.message
    assert recorder.connected == []  # nothing was even attempted


def test_a_host_is_resolved_once_and_the_checked_address_is_the_one_connected_to(server: HTTPServer) -> None:
    server.clear()
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    server.expect_request("/page").respond_with_data("<html><p>hello</p></html>", content_type="text/html")
    # first answer loopback (allowed), every later one private: a second lookup would be refused or misdirected
    answers = Answers({"rebind.example": [["127.0.0.1"], ["10.0.0.1"]]})
    url = f"http://rebind.example:{server.port}/page"
    first, second = fetch([url, url + "?again"], answers)
    assert first.body is not None and second.body is not None, (first.reject, second.reject)
    assert answers.calls == ["rebind.example"]
    assert [r.path for r, _ in server.log] == ["/robots.txt", "/page", "/page"]
    assert all(r.headers["Host"] == f"rebind.example:{server.port}" for r, _ in server.log)


def test_public_then_private_answers_connect_only_to_the_first() -> None:
    recorder = Recorder()
    answers = Answers({"flip.example": [["93.184.216.34"], ["10.0.0.1"]]})
    options = FetchOptions(timeout_s=2.0, deadline_s=5.0, retries=2, backoff_s=0.01, respect_robots=False,
                           allowed_networks=("127.0.0.1/32",))
    [outcome] = fetch(["http://flip.example/story"], answers, recorder, options)
    assert answers.calls == ["flip.example"]
    assert recorder.connected == ["93.184.216.34"] * 3  # every retry to the checked address, never 10.0.0.1
    assert outcome.reject is not None and outcome.reject.reason == "connection"


@pytest.mark.parametrize(("address", "allowed", "allow_private", "expected"), [
    ("93.184.216.34", [], False, True),
    ("127.0.0.1", [], False, False),
    ("127.0.0.1", ["127.0.0.1/32"], False, True),
    ("10.0.0.1", ["127.0.0.1/32"], False, False),
    ("10.0.0.1", [], True, True),
    ("169.254.169.254", [], True, False),  # --allow-private never covers cloud metadata
    ("169.254.169.254", ["0.0.0.0/0"], False, False),  # nor does a catch-all
    ("169.254.169.254", ["169.254.169.254/32"], False, True),  # only naming it
    ("fe80::1", ["::/0"], True, False),
    ("fd00:ec2::254", [], True, False),
    ("::ffff:10.0.0.1", [], False, False),
    ("224.0.0.1", [], False, False),
])
def test_allowance(address: str, allowed: list[str], allow_private: bool, expected: bool) -> None:
    assert is_allowed(ipaddress.ip_address(address), parse_networks(allowed), allow_private) is expected


def test_a_bad_network_is_a_configuration_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--no-seeds", "--url", "http://127.0.0.1:9/x", "--allow-network", "not-a-cidr"]) == 2
    assert "not a network address" in capsys.readouterr().err
