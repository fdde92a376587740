"""A sitemap re-run: a URL whose <lastmod> predates our fetch is not requested, the others are asked conditionally."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import query_warehouse as _query
from tests.flows.conftest import cli_fetch_env, etag_pages

WEB = Path(__file__).resolve().parent.parent / "fixtures" / "web"
# /news/old was last modified long before any fetch; /news/moving says it changes in the future, so it is always re-asked.
PAGES = {"/news/old": (WEB / "thespacereview-3834.html", "2020-01-01"),
         "/news/moving": (WEB / "jpost-608399.html", "2999-01-01T00:00:00Z")}
FAST = {"per_host_delay_s": 0, "timeout_s": 1.0, "total_timeout_s": 5.0, "retries": 1, "backoff_s": 0.01}


@pytest.fixture(scope="module")
def site(server: HTTPServer) -> dict[str, Any]:
    log: dict[str, list[int]] = {}
    entries = "".join(f"<url><loc>{server.url_for(p)}</loc><lastmod>{lastmod}</lastmod></url>" for p, (_, lastmod) in PAGES.items())
    sitemap = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n", content_type="text/plain")
    server.expect_request("/sitemap.xml").respond_with_data(sitemap, content_type="application/xml")
    handler = etag_pages({path: page for path, (page, _) in PAGES.items()}, log)
    for path in PAGES:
        server.expect_request(path).respond_with_handler(handler)
    return {"server": server, "log": log}


@pytest.fixture(scope="module")
def runs(prefect_harness: None, site: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from flows.cli import main

    root = tmp_path_factory.mktemp("sitemap")
    args = ["run", "--no-seeds", "--sitemap", site["server"].url_for("/sitemap.xml"), "--allow-private",
            "--warehouse", str(root / "w.duckdb"), "--lake", str(root / "lake"), "--workers", "1"]
    with cli_fetch_env(root, FAST):
        codes = (main(args), main(args), main([*args, "--force"]))
    return {"warehouse": root / "w.duckdb", "codes": codes}


def test_second_run_requests_only_what_may_have_changed(runs: dict[str, Any], site: dict[str, Any]) -> None:
    assert runs["codes"] == (0, 0, 0)
    first, second, forced = [json.loads(r[0]) for r in _query(runs["warehouse"], "SELECT counts FROM runs ORDER BY started_at")]
    assert first["articles"] == 2 and first.get("not_requested", 0) == 0
    assert second["documents"] == 0 and second["unchanged"] == 2
    assert second["not_requested"] == 1 and second["not_modified"] == 1
    assert forced["not_requested"] == forced["not_modified"] == 0 and forced["documents"] == 2  # --force: every body again
    assert site["log"]["/news/old"] == [200, 200]  # not asked on the second run
    assert site["log"]["/news/moving"] == [200, 304, 200]
