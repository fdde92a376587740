"""WARC records to documents: HTTP parsing, record kinds, reasons, filters (pure, no files)."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from transforms.warc import Record, RecordFilter, parse_http_response, parse_warc_uri, to_document, to_warc_uri

PAGE = b"<html><head><title>T</title></head><body><p>Hello</p></body></html>"


def _record(block: bytes, kind: str = "response", length: int | None = None, **headers: str) -> Record:
    base = {"WARC-Type": kind, "WARC-Target-URI": "https://example.org/a", "WARC-Date": "2024-05-01T10:00:00Z"}
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return Record("/data/x.warc.gz", 1234, base, block, len(block) if length is None else length)


def _http(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    return (f"HTTP/1.1 {status}\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode() + body


def test_a_response_becomes_the_document_the_fetcher_would_give() -> None:
    converted = to_document(_record(_http(PAGE, "Content-Type: text/html; charset=ISO-8859-1")), "cc")
    document, fetch = converted.document, converted.fetch
    assert document is not None and fetch is not None and converted.reject is None
    assert (document.uri, document.url, document.source) == ("warc:/data/x.warc.gz#1234", "https://example.org/a", "warc")
    assert document.body == PAGE and document.media_type == "text/html" and document.charset == "iso8859-1"
    assert document.fetched_at == datetime(2024, 5, 1, 10, tzinfo=UTC) == fetch.fetched_at
    assert fetch.content_hash is None and fetch.source_name == "cc" and fetch.fetch_id == document.fetch_id


def test_chunked_and_gzip_bodies_are_decoded() -> None:
    chunked = b"5\r\n<html\r\n" + hex(len(PAGE) - 5)[2:].encode() + b"\r\n" + PAGE[5:] + b"\r\n0\r\n\r\n"
    _, _, body = parse_http_response(_http(chunked, "Transfer-Encoding: chunked"), 10_000)
    assert body == PAGE
    _, _, body = parse_http_response(_http(gzip.compress(PAGE), "Content-Encoding: gzip"), 10_000)
    assert body == PAGE
    _, _, body = parse_http_response(_http(zlib.compress(PAGE), "Content-Encoding: deflate"), 10_000)
    assert body == PAGE
    # declared gzip but stored decoded (as Common Crawl does)
    assert parse_http_response(_http(PAGE, "Content-Encoding: gzip"), 10_000)[2] == PAGE


def test_bad_records_are_rejects_with_reasons() -> None:
    def reason(record: Record) -> str | None:
        converted = to_document(record)
        assert converted.document is None
        return converted.reject.reason if converted.reject else None

    ok = _http(PAGE, "Content-Type: text/html")
    assert reason(_record(ok, length=len(ok) + 10)) == "warc_truncated"
    assert reason(_record(ok, WARC_Truncated="length")) == "warc_truncated"
    assert reason(_record(_http(b"%PDF-1.4", "Content-Type: application/pdf"))) == "content_type"
    assert reason(_record(_http(PAGE, "Content-Type: text/html", status="404 Not Found"))) == "http_4xx"
    assert reason(_record(_http(PAGE, "Content-Type: text/html", status="301 Moved"))) == "http_3xx"
    assert reason(_record(b"garbage without headers")) == "warc_bad_http"
    assert reason(_record(_http(gzip.compress(b"x" * 5000), "Content-Encoding: gzip"), WARC_Target_URI="")) == "warc_no_target"
    bomb = _http(gzip.compress(b"<html>" + b" " * 200_000), "Content-Encoding: gzip", "Content-Type: text/html")
    assert to_document(_record(bomb), max_bytes=10_000).reject.reason == "warc_bad_http"  # type: ignore[union-attr]


def test_resources_load_revisits_and_others_are_skipped() -> None:
    resource = to_document(_record(PAGE, kind="resource", Content_Type="text/html"))
    assert resource.document is not None and resource.document.body == PAGE
    sniffed = to_document(_record(_http(PAGE, "Content-Type: application/octet-stream")))
    assert sniffed.document is not None  # sniffed as HTML, as the fetcher does
    revisit = to_document(_record(b"", kind="revisit"))
    assert revisit.revisit and revisit.document is None and revisit.reject is None
    for kind in ("request", "warcinfo", "metadata"):
        assert to_document(_record(b"GET / HTTP/1.1\r\n\r\n", kind=kind)) == type(revisit)()


def test_filters_by_url_and_date() -> None:
    since, until = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
    keep = RecordFilter(allow=(r"^https://[^/]*bbc\.co\.uk/",), deny=("/sport/",), since=since, until=until)
    assert keep.keeps("https://www.bbc.co.uk/news/x", datetime(2024, 5, 2, tzinfo=UTC))
    assert not keep.keeps("https://www.bbc.co.uk/sport/x", datetime(2024, 5, 2, tzinfo=UTC))
    assert not keep.keeps("https://example.org/news", datetime(2024, 5, 2, tzinfo=UTC))
    assert not keep.keeps("https://www.bbc.co.uk/news/x", datetime(2024, 6, 1, tzinfo=UTC))
    assert not keep.keeps("https://www.bbc.co.uk/news/x", datetime(2024, 4, 30, tzinfo=UTC))
    assert RecordFilter().keeps("anything", None)


@given(st.text(), st.integers(min_value=0, max_value=2**40))
def test_warc_uris_round_trip(file: str, offset: int) -> None:
    if file:
        assert parse_warc_uri(to_warc_uri(file, offset)) == (file, offset)
    assert parse_warc_uri("https://example.org/#1") is None


@given(st.binary(max_size=2000))
def test_any_block_gives_a_document_a_reject_or_a_skip_never_an_exception(block: bytes) -> None:
    converted = to_document(_record(block))
    assert (converted.document is None) != (converted.reject is None)
