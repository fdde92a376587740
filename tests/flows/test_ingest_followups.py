"""What a run leaves for the next one: URLs deferred when the fetch budget ran out are fetched first,
and pages already rejected at extraction are not extracted (nor rejected) again.

Two `newsdesk run`s over one feed on 127.0.0.1: a good article, two pages that extraction rejects
(served without validators, so they come back with 200 and the same bytes), and one page that
hangs past the first run's fetch budget and answers at once in the second run.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import count_rows
from tests.conftest import query_warehouse as _query
from tests.flows.conftest import cli_fetch_env

pytestmark = pytest.mark.slow

HTML = Path(__file__).resolve().parent.parent / "fixtures" / "html"
WEB = Path(__file__).resolve().parent.parent / "fixtures" / "web"
PAGES = {"/news/good": WEB / "thespacereview-3834.html", "/news/empty": HTML / "no_article_text.html",
         "/news/shell": HTML / "js_shell.html"}
BUDGET_S = 12.0
# One request at a time to the host: the second run's first request is then the deferred URL, whatever
# the thread timing (with two slots, the next URL in the list can reach the server a moment earlier).
FETCH = {"per_host_delay_s": 0, "per_host_concurrency": 1, "budget_s": BUDGET_S, "timeout_s": 60.0}


@pytest.fixture(scope="module")
def site(server: HTTPServer) -> Iterator[dict[str, Any]]:
    server.clear()
    order: list[str] = []
    release = threading.Event()

    def page(request: Request) -> Response:
        order.append(request.path)
        return Response(PAGES[request.path].read_bytes(), content_type="text/html; charset=utf-8")

    def later(request: Request) -> Response:
        order.append(request.path)
        if order.count(request.path) == 1:
            release.wait(BUDGET_S + 20)  # past the first run's budget
        return Response((WEB / "jpost-608399.html").read_bytes(), content_type="text/html; charset=utf-8")

    links = [*PAGES, "/news/later"]  # /news/later last in the feed: only its deferral puts it first
    items = "".join(f"<item><title>{p}</title><link>{server.url_for(p)}</link>"
                    f"<pubDate>Mon, 01 Jul 2024 {12 - i:02d}:00:00 GMT</pubDate></item>" for i, p in enumerate(links))
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n", content_type="text/plain")
    server.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    for path in PAGES:
        server.expect_request(path).respond_with_handler(page)
    server.expect_request("/news/later").respond_with_handler(later)
    yield {"server": server, "order": order}
    release.set()
    server.clear()


def _counts(warehouse: Path) -> dict[str, int]:
    return count_rows(warehouse, ("articles", "rejects", "fetches"))


@pytest.fixture(scope="module")
def runs(prefect_harness: None, site: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from flows.cli import main

    root = tmp_path_factory.mktemp("followups")
    warehouse = root / "w.duckdb"
    args = ["run", "--no-seeds", "--feed", site["server"].url_for("/feed.xml"), "--allow-network", "127.0.0.1/32",
            "--warehouse", str(warehouse), "--lake", str(root / "lake"), "--workers", "1"]
    # two of the first run's three pages are rejected on purpose: over the default max_reject_rate (0.5)
    # that run would end Failed (exit 3, tests/flows/test_states.py); here it must load the good one, exit 1
    with cli_fetch_env(root, FETCH), pytest.MonkeyPatch.context() as env:
        env.setenv("NEWSDESK_MAX_REJECT_RATE", "1.0")
        first = main(args)
        after_first = _counts(warehouse)
        requested_first = len(site["order"])
        second = main(args)
    run_counts = [json.loads(r[0]) for r in _query(warehouse, "SELECT counts FROM runs ORDER BY started_at")]
    return {"warehouse": warehouse, "codes": (first, second), "after_first": after_first,
            "after_second": _counts(warehouse), "counts": run_counts, "second_order": site["order"][requested_first:]}


def test_a_url_left_when_the_budget_ran_out_is_deferred_then_fetched_first(runs: dict[str, Any]) -> None:
    first, second = runs["counts"]
    assert first["deferred"] == 1 and second["deferred"] == 0
    rows = _query(runs["warehouse"], "SELECT error_class, error FROM fetches WHERE url LIKE '%/news/later' ORDER BY fetched_at")
    assert [r[0] for r in rows] == ["deferred", None]
    assert "budget" in rows[0][1]
    assert not _query(runs["warehouse"], "SELECT * FROM rejects WHERE uri LIKE '%/news/later'")  # deferred is no reject
    assert runs["second_order"][0] == "/news/later"  # first of the second run's pages, though last in the feed
    assert _query(runs["warehouse"], "SELECT count(*) FROM articles WHERE url LIKE '%/news/later'")[0][0] == 1


def test_pages_rejected_at_extraction_are_not_extracted_again(runs: dict[str, Any]) -> None:
    first, second = runs["counts"]
    assert first["rejected"] == 2 and first["articles"] == 1
    reasons = {r[0].rsplit("/", 1)[-1]: r[1] for r in _query(runs["warehouse"], "SELECT uri, reason FROM rejects")}
    assert reasons == {"empty": "no_article_text", "shell": "js_shell"}
    # second run: the two rejected bodies (same bytes, same extractor) and the good page are unchanged;
    # only the deferred page is extracted, and no reject row is added
    assert (second["documents"], second["unchanged"], second["rejected"]) == (1, 3, 0)
    assert runs["after_second"]["rejects"] == runs["after_first"]["rejects"]
    assert runs["codes"] == (1, 0)
