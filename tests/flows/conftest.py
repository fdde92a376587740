"""One Prefect test harness for the whole session: starting a server costs 10-25 s here."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


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


def etag_pages(pages: dict[str, Path], log: dict[str, list[int]]) -> Callable[[Request], Response]:
    """A handler serving `pages` with an ETag, answering 304 to a matching If-None-Match; `log` gets each path's statuses."""

    def page(request: Request) -> Response:
        etag = f'"{request.path}-v1"'
        status = 304 if request.headers.get("If-None-Match") == etag else 200
        log.setdefault(request.path, []).append(status)
        if status == 304:
            return Response(status=304)
        return Response(pages[request.path].read_bytes(), headers={"ETag": etag}, content_type="text/html; charset=utf-8")

    return page


@contextmanager
def cli_fetch_env(root: Path, fetch: dict[str, Any]) -> Iterator[None]:
    """`newsdesk run` from the tests: these fetch settings, and a raw store under `root`."""
    mp = pytest.MonkeyPatch()
    mp.setenv("NEWSDESK_FETCH", json.dumps(fetch))
    mp.setenv("NEWSDESK_RAW", str(root / "raw"))
    try:
        yield
    finally:
        mp.undo()
