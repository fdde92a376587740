"""WARC sources end to end: the same pages over HTTP (127.0.0.1) and from a WARC give the same rows.

The WARC is written at test time with FastWARC's writer (bench/warc.py) from the HTML
fixtures, pages in odd encodings, and records that must not load: a crawler-truncated
payload, a PDF, a 404, a revisit, a request and a cut-off last record.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from bench.warc import Capture, record_bytes, write_warc
from tests.conftest import FIXTURES, count_rows
from tests.conftest import query_warehouse as _query
from tests.flows.conftest import cli_fetch_env

FAST = {"per_host_delay_s": 0, "timeout_s": 2.0, "total_timeout_s": 10.0, "retries": 0, "respect_robots": False}
LATIN1 = ("<html><head><title>Genève vote à nouveau sur le budget</title></head><body><article>"
          "<h1>Genève vote à nouveau sur le budget</h1>"
          + "".join(f"<p>Le Conseil d'État a présenté jeudi un budget révisé, le {n}e de l'année. « Nous avons "
                    f"écouté les électeurs », a déclaré François Longchamp devant la presse à Genève. Les "
                    f"élus débattront du texte en séance plénière la semaine prochaine.</p>" for n in range(1, 5))
          + "</article></body></html>").encode("iso-8859-1")


def _pages() -> dict[str, tuple[bytes, str]]:
    html, web = FIXTURES / "html", FIXTURES / "web"
    return {
        "/news/bbc": (gzip.decompress((html / "bbc_newsbeat_50470672.html.gz").read_bytes()), "text/html; charset=utf-8"),
        "/news/nypost": (gzip.decompress((html / "nypost_bubonic_plague.html.gz").read_bytes()), "text/html; charset=utf-8"),
        "/news/space-review": ((web / "thespacereview-3834.html").read_bytes(), "text/html; charset=utf-8"),
        "/news/jpost": ((web / "jpost-608399.html").read_bytes(), "text/html"),
        "/news/cp1251": ((web / "cp1251-meta-only.html").read_bytes(), "text/html"),  # charset in <meta> only
        "/news/geneve": (LATIN1, "text/html; charset=ISO-8859-1"),  # charset in the HTTP header only
        "/news/index": ((html / "index_page.html").read_bytes(), "text/html; charset=utf-8"),
        "/news/consent": ((html / "consent_wall.html").read_bytes(), "text/html; charset=utf-8"),
    }


def _captures(base: str) -> list[Capture]:
    pages = _pages()
    good = [Capture(base + path, body, content_type) for path, (body, content_type) in pages.items()]
    return [
        Capture(base + "/", kind="warcinfo", content_type="application/warc-fields", body=b"software: tests\r\n"),
        Capture(base + "/news/bbc", kind="request"),
        *good[:3],
        Capture(base + "/files/report.pdf", (FIXTURES / "html" / "not_html.pdf").read_bytes(), "application/pdf"),
        Capture(base + "/news/cut", pages["/news/jpost"][0][:3000], "text/html",
                headers=(("WARC-Truncated", "length"),)),
        Capture(base + "/news/gone", b"<html>not found</html>", "text/html", status=404),
        Capture(base + "/news/bbc", kind="revisit"),
        *good[3:],
    ]


@pytest.fixture(scope="module")
def built(server: HTTPServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    for path, (body, content_type) in _pages().items():
        server.expect_request(path).respond_with_response(Response(body, content_type=content_type))
    root = tmp_path_factory.mktemp("warc")
    base = server.url_for("").rstrip("/")
    warc = root / "news.warc.gz"
    offsets = write_warc(warc, _captures(base))
    # The last record is cut short: the file ends in the middle of it (an interrupted download).
    last = record_bytes(Capture(base + "/news/tail", _pages()["/news/nypost"][0]), gzip=False)
    plain = root / "plain.warc"
    write_warc(plain, [Capture(base + "/news/geneve", LATIN1, "text/html; charset=ISO-8859-1")])
    with plain.open("ab") as out:
        out.write(last[: len(last) // 2])
    urls = root / "urls.txt"
    urls.write_text("\n".join(server.url_for(p) for p in _pages()) + "\n")
    return {"root": root, "warc": warc, "plain": plain, "offsets": offsets, "urls": urls, "base": base}


@pytest.fixture(scope="module")
def runs(prefect_harness: None, built: dict[str, Any]) -> dict[str, Any]:
    from flows.cli import main

    root: Path = built["root"]
    common = ["--no-seeds", "--workers", "1"]
    http_wh, warc_wh = root / "http.duckdb", root / "warc.duckdb"
    with cli_fetch_env(root / "http", FAST):
        http_code = main(["run", *common, "--urls-file", str(built["urls"]), "--allow-private",
                          "--warehouse", str(http_wh), "--lake", str(root / "http-lake")])
    with cli_fetch_env(root / "warc-side", FAST):
        warc_args = ["run", *common, "--warc", str(built["warc"]), "--warc", str(built["plain"]),
                     "--warehouse", str(warc_wh), "--lake", str(root / "warc-lake")]
        warc_code = main(warc_args)
        first = _counts(warc_wh)
        again_code = main(warc_args)
        again = _counts(warc_wh)
        (root / "no-seeds").mkdir()
        reextract_code = main(["reextract", "--warehouse", str(warc_wh), "--lake", str(root / "warc-lake"),
                               "--seeds", str(root / "no-seeds"), "--workers", "1"])
    return {"http": http_wh, "warc": warc_wh, "codes": (http_code, warc_code, again_code, reextract_code),
            "first": first, "again": again, "after_reextract": _counts(warc_wh), "raw": root / "warc-side" / "raw"}


def _counts(warehouse: Path) -> dict[str, int]:
    return count_rows(warehouse, ("articles", "mentions", "entities", "quotes", "rejects", "fetches"))


PROVENANCE = {"articles": "uri, source, fetch_id, run_id, loaded_at", "mentions": "run_id", "entities": "run_id",
              "quotes": "run_id"}


@pytest.mark.parametrize("table", sorted(PROVENANCE))
def test_warc_and_http_give_the_same_rows(runs: dict[str, Any], table: str) -> None:
    sql = f"SELECT * EXCLUDE ({PROVENANCE[table]}) FROM {table} ORDER BY ALL"
    over_http, from_warc = _query(runs["http"], sql), _query(runs["warc"], sql)
    assert from_warc == over_http
    assert len(from_warc) >= (5 if table == "articles" else 1)


def test_odd_encodings_decode_the_same_way(runs: dict[str, Any]) -> None:
    titles = {r[0].rsplit("/", 1)[-1]: r[1] for r in _query(runs["warc"], "SELECT url, title FROM articles")}
    assert titles["geneve"] == "Genève vote à nouveau sur le budget"
    assert "Екатеринбург" in titles["cp1251"] or titles["cp1251"].isascii() is False


def test_bad_records_are_rejects_with_reasons_and_the_rest_loads(runs: dict[str, Any], built: dict[str, Any]) -> None:
    rows = _query(runs["warc"], "SELECT uri, stage, reason, message FROM rejects WHERE stage = 'read'")
    by_url = {r[3].split(" ", 1)[0]: r[2] for r in rows}
    base = built["base"]
    assert by_url[base + "/files/report.pdf"] == "content_type"
    assert by_url[base + "/news/cut"] == "warc_truncated"
    assert by_url[base + "/news/gone"] == "http_4xx"
    assert by_url[base + "/news/tail"] == "warc_truncated"
    assert all(r[0].startswith("warc:") for r in rows)
    extract = {r[0] for r in _query(runs["warc"], "SELECT reason FROM rejects WHERE stage = 'extract'")}
    assert extract == {r[0] for r in _query(runs["http"], "SELECT reason FROM rejects WHERE stage = 'extract'")}
    assert runs["codes"][1] == 1  # loaded, with rejects


def test_provenance_points_at_the_record(runs: dict[str, Any], built: dict[str, Any]) -> None:
    rows = _query(runs["warc"], "SELECT a.uri, a.url, f.fetched_at, f.content_type, f.charset FROM articles a "
                                "JOIN fetches f USING (fetch_id) ORDER BY a.url")
    offsets = set(built["offsets"])
    warc = str(built["warc"].resolve())
    for uri, url, fetched_at, content_type, charset in rows:
        file, offset = uri[len("warc:"):].rsplit("#", 1)
        assert file in (warc, str(built["plain"].resolve()))
        assert file != warc or int(offset) in offsets
        assert fetched_at.isoformat().startswith("2024-05-01T10:00:00")
        assert content_type.startswith("text/html") and charset
    geneve = [r for r in rows if r[1].endswith("/news/geneve")]
    assert geneve and geneve[0][4] == "iso8859-1"


def test_a_loaded_file_is_skipped_and_nothing_is_copied_to_the_raw_store(runs: dict[str, Any]) -> None:
    assert runs["again"] == runs["first"]
    checkpoints = _query(runs["warc"], "SELECT file, done, records FROM warc_checkpoints ORDER BY file")
    assert len(checkpoints) == 2 and all(done for _, done, _ in checkpoints)
    counts = _query(runs["warc"], "SELECT counts FROM runs ORDER BY started_at")
    assert '"documents": 0' in counts[1][0]  # the second run read nothing
    assert not any(runs["raw"].rglob("*.zst")) and not any(runs["raw"].rglob("*.gz"))
    statuses = {r[0] for r in _query(runs["warc"], "SELECT status FROM runs")}
    assert statuses == {"completed"}


def test_reextract_reads_the_records_back_by_offset(runs: dict[str, Any]) -> None:
    assert runs["codes"][3] in (0, 1)
    assert runs["after_reextract"] == runs["first"]  # same output: no new versions, no new rows
    counts = _query(runs["warc"], "SELECT counts FROM runs ORDER BY started_at")[-1][0]
    articles = runs["first"]["articles"]
    assert f'"articles": {articles}' in counts


def test_a_language_filter_keeps_only_its_languages(runs: dict[str, Any], built: dict[str, Any],
                                                    tmp_path: Path) -> None:
    """`languages = ["fr"]` on a WARC source: the French articles load, the others are counted as filtered."""
    from flows.ingest import ingest_news

    french = _query(runs["warc"], "SELECT count(*) FROM articles WHERE language = 'fr'")[0][0]
    others = _query(runs["warc"], "SELECT count(*) FROM articles WHERE language IS DISTINCT FROM 'fr'")[0][0]
    assert french >= 1 and others >= 1  # the archive holds both, so the filter has something to do
    warehouse = tmp_path / "fr.duckdb"
    state = ingest_news(seeds="", warehouse=str(warehouse), lake_url=str(tmp_path / "lake"), raw=str(tmp_path / "raw"),
                        workers=1, max_reject_rate=1.0, return_state=True,
                        sources=[{"name": "fr-only", "kind": "warc", "urls": [str(built["warc"]), str(built["plain"])],
                                  "languages": ["French"]}])
    assert not state.is_failed(), state.message
    assert _query(warehouse, "SELECT DISTINCT language FROM articles") == [("fr",)]
    assert _query(warehouse, "SELECT count(*) FROM articles")[0][0] == french
    counts = _query(warehouse, "SELECT counts FROM runs")[0][0]
    assert f'"filtered": {others}' in counts


def test_a_record_budget_holds_across_files_read_side_by_side(built: dict[str, Any], prefect_harness: None,
                                                               tmp_path: Path) -> None:
    """Files are read several at a time, except a source with a budget: its files one after another, so
    `max_records` is exact; a second run goes on where the first stopped, in the file it stopped in."""
    from flows.ingest import ingest_news

    warehouse = tmp_path / "budget.duckdb"
    source = {"name": "budget", "kind": "warc", "urls": [str(built["warc"]), str(built["plain"])], "max_records": 3}
    for _ in range(2):
        state = ingest_news(seeds="", warehouse=str(warehouse), lake_url=str(tmp_path / "lake"),
                            raw=str(tmp_path / "raw"), workers=1, batch_size=2, max_reject_rate=1.0,
                            return_state=True, sources=[source])
        assert not state.is_failed(), state.message
    records = _query(warehouse, "SELECT file, records, done FROM warc_checkpoints ORDER BY file")
    assert sum(n for _, n, _ in records) == 6, records  # 3 per run, whatever the files and batches
    assert [Path(f).name for f, _, _ in records] == ["news.warc.gz"]  # the first file still had records left
