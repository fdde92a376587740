"""The pipeline benchmark's corpus and server, and a tiny run of the whole harness (slow)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.conftest import shared_data


@pytest.fixture(scope="module")
def pages() -> list[bytes]:
    from bench.corpus import read_source_pages

    return read_source_pages(shared_data("article-extraction-benchmark") / "html")


def test_copies_differ_in_raw_bytes_and_in_extracted_text(pages: list[bytes]) -> None:
    from bench.corpus import corpus_page, page_path
    from transforms.documents import extract_documents
    from transforms.ids import to_raw_hash
    from transforms.models import Document

    count = len(pages)
    numbers = [0, count, 2 * count]  # three copies of the same source page
    documents = [Document(f"http://127.0.0.1{page_path(n)}", "url", corpus_page(pages, n), "text/html",
                          url=f"http://127.0.0.1{page_path(n)}") for n in numbers]
    assert len({to_raw_hash(d.body) for d in documents}) == 3
    assert len({page_path(n) for n in numbers}) == 3
    articles, rejects = extract_documents(documents)
    assert not rejects and len(articles) == 3
    assert len({a.content_hash for a in articles}) == 3  # content-hash dedup must not collapse the copies
    assert len({a.article_id for a in articles}) == 3
    assert all(f"benchmark copy {n} " in a.text for n, a in zip(numbers, articles))


def test_corpus_is_reproducible(pages: list[bytes]) -> None:
    from bench.corpus import corpus_page

    assert corpus_page(pages, 7) == corpus_page(pages, 7)
    assert corpus_page(pages, 7) != corpus_page(pages, 8)


def test_server_serves_sitemap_pages_and_304s() -> None:
    from bench.corpus import serve_corpus

    source = shared_data("article-extraction-benchmark") / "html"
    with serve_corpus(12, source=source, lifetime_s=120) as server, httpx.Client(timeout=30) as client:
        root = ET.fromstring(client.get(server.sized_sitemap_url(5)).content)
        locs = [e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
        assert locs == server.urls[:5]
        assert len(server.urls) == 12 and len(set(server.urls)) == 12
        first = client.get(server.urls[3])
        assert first.status_code == 200 and b"benchmark copy 3 " in first.content
        again = client.get(server.urls[3], headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        since = client.get(server.urls[3], headers={"If-Modified-Since": first.headers["last-modified"]})
        assert since.status_code == 304
        assert client.get(server.urls[4], headers={"If-None-Match": first.headers["etag"]}).status_code == 200
        assert client.get(f"{server.base}/news/world/2020/01/story-999999.html").status_code == 404
        assert client.get(f"{server.base}/robots.txt").status_code == 200


@pytest.mark.slow
def test_harness_smoke_run_prints_one_table(capsys: pytest.CaptureFixture[str]) -> None:
    shared_data("article-extraction-benchmark")
    from bench.pipeline import main

    assert main(["--articles", "20", "--sample", "8", "--runs", "1"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("newsdesk pipeline benchmark: 20 articles")
    rows = {line.split("  ")[0]: line for line in table.splitlines()[3:]}
    for stage in ("fetch", "extract", "entities", "quotes", "load", "e2e 2 cores (wall)", "2 cores / 1 core (wall)",
                  "second run / first (wall)", "peak RSS, 2 workers"):
        assert stage in rows, table
        figure = r"\d+ MiB" if stage.startswith("peak RSS") else r"\d+\.\d+"
        assert re.search(figure, rows[stage]), f"no figure for {stage}:\n{table}"
    second = float(re.findall(r"\d+\.\d+", rows["second run / first (flow)"])[0])
    assert 0 < second < 1, table  # the unchanged corpus is re-fetched with 304s, not re-processed
