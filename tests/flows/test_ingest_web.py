"""A feed ingested end to end into DuckDB from a real HTTP server on 127.0.0.1, then re-run conditionally."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import count_rows
from tests.conftest import query_warehouse as _query
from tests.flows.conftest import cli_fetch_env, etag_pages

WEB = Path(__file__).resolve().parent.parent / "fixtures" / "web"
PAGES = {"/news/space-review": WEB / "thespacereview-3834.html", "/news/jpost": WEB / "jpost-608399.html"}
FAST = {"per_host_delay_s": 0, "timeout_s": 1.0, "total_timeout_s": 5.0, "retries": 1, "backoff_s": 0.01,
        "max_retry_after_s": 0.1}


def _rss(server: HTTPServer) -> str:
    items = "".join(
        f"<item><title>{path}</title><link>{server.url_for(path)}</link>"
        f"<pubDate>Mon, 01 Jul 2024 10:00:00 GMT</pubDate></item>"
        for path in [*PAGES, "/news/broken", "/news/report.pdf"]
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test</title>{items}</channel></rss>'


@pytest.fixture(scope="module")
def site(server: HTTPServer) -> dict[str, Any]:
    log: dict[str, list[int]] = {}
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n", content_type="text/plain")
    server.expect_request("/feed.xml").respond_with_data(_rss(server), content_type="application/rss+xml")
    handler = etag_pages(PAGES, log)
    for path in PAGES:
        server.expect_request(path).respond_with_handler(handler)
    server.expect_request("/news/broken").respond_with_data("down", status=503)
    server.expect_request("/news/report.pdf").respond_with_data(b"%PDF-1.4 fake", content_type="application/pdf")
    return {"server": server, "log": log}


@pytest.fixture(scope="module")
def runs(prefect_harness: None, site: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from flows.cli import main

    root = tmp_path_factory.mktemp("web")
    warehouse = root / "w.duckdb"
    args = ["run", "--no-seeds", "--feed", site["server"].url_for("/feed.xml"), "--allow-private",
            "--warehouse", str(warehouse), "--lake", str(root / "lake"), "--workers", "1"]
    with cli_fetch_env(root, FAST):
        codes = (main(args), main(args))
        before = _counts(warehouse)
        requests = len(site["server"].log)
        (root / "no-seeds").mkdir()
        reextract_code = main(["reextract", "--warehouse", str(warehouse), "--lake", str(root / "lake"),
                               "--seeds", str(root / "no-seeds"), "--workers", "1"])
        after = _counts(warehouse)
        requests_during_reextract = len(site["server"].log) - requests
    return {"warehouse": warehouse, "codes": codes, "raw": root / "raw", "reextract": (reextract_code, before, after,
                                                                                     requests_during_reextract)}


def _counts(warehouse: Path) -> dict[str, int]:
    return count_rows(warehouse, ("articles", "mentions", "entities", "quotes", "rejects", "fetches"))


def test_feed_articles_loaded(runs: dict[str, Any]) -> None:
    rows = _query(runs["warehouse"], "SELECT url, title, source FROM articles ORDER BY url")
    assert len(rows) == 2
    assert all(r[1] and r[2] == "feed" for r in rows)
    mentions = _query(runs["warehouse"], "SELECT count(*) FROM mentions")[0][0]
    assert mentions > 0


def test_failures_recorded_while_the_rest_loads(runs: dict[str, Any]) -> None:
    reasons = {r[0].rsplit("/", 1)[-1]: r[1] for r in _query(runs["warehouse"], "SELECT uri, reason FROM rejects")}
    assert reasons["broken"] == "http_5xx"
    assert reasons["report.pdf"] == "content_type"
    assert runs["codes"] == (1, 1)
    errors = {r[0] for r in _query(runs["warehouse"], "SELECT error_class FROM fetches WHERE error_class IS NOT NULL")}
    assert {"http_5xx", "content_type"} <= errors


def test_second_run_is_conditional_and_extracts_nothing(runs: dict[str, Any], site: dict[str, Any]) -> None:
    for path in PAGES:
        assert site["log"][path] == [200, 304], path
    second = _query(runs["warehouse"], "SELECT counts FROM runs ORDER BY started_at LIMIT 1 OFFSET 1")[0][0]
    counts = json.loads(second)
    assert counts["documents"] == 0 and counts["articles"] == 0
    assert counts["not_modified"] == 2
    not_modified = _query(runs["warehouse"], "SELECT count(*) FROM fetches WHERE not_modified")[0][0]
    assert not_modified == 2
    assert _query(runs["warehouse"], "SELECT count(*) FROM articles")[0][0] == 2


def test_raw_bodies_kept_for_reextraction(runs: dict[str, Any]) -> None:
    hashes = [r[0] for r in _query(runs["warehouse"], "SELECT content_hash FROM fetches WHERE status = 200 AND content_hash IS NOT NULL")]
    from warehouse.raw import read_raw

    assert hashes and all(read_raw(runs["raw"], h) for h in hashes)


def test_reextract_rebuilds_from_the_raw_store_without_network(runs: dict[str, Any]) -> None:
    code, before, after, requests = runs["reextract"]
    assert requests == 0
    assert before == after  # same extraction code: nothing new, nothing lost
    last = json.loads(_query(runs["warehouse"], "SELECT counts FROM runs ORDER BY started_at DESC LIMIT 1")[0][0])
    assert last["documents"] == 2 and last["articles"] == 2  # both pages re-extracted from raw bodies
