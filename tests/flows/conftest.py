"""One Prefect test harness for the whole session: starting a server costs 10-25 s here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    """A real HTTP server on 127.0.0.1 for the fetcher and source tests (one per test module)."""
    http = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    http.start()
    yield http
    http.clear()
    http.stop()
