"""Reading WARC files: local, globbed, listed, over HTTP from 127.0.0.1 (with ranges), in batches from an offset."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bench.warc import Capture, write_warc
from flows.warc import CheckpointQueue, WarcFile, WarcOptions, WarcSpan, list_warc_files, read_warc_batch, read_warc_documents

PAGE = b"<html><head><title>Story %d</title></head><body><p>Text of story %d.</p></body></html>"


def _captures(n: int) -> list[Capture]:
    return [Capture(f"https://example.org/story-{i}", PAGE % (i, i)) for i in range(n)]


def _read_all(file: WarcFile, options: WarcOptions, batch: int = 3) -> tuple[list[str], list[int]]:
    urls, starts, offset = [], [], 0
    while True:
        got = read_warc_batch(file, offset, batch, options)
        starts.append(got.start)
        urls += [d.url or "" for d in got.documents]
        if got.next_offset is None:
            return urls, starts
        offset = got.next_offset


@pytest.mark.parametrize("name", ["a.warc.gz", "a.warc"])
def test_batches_from_offsets_read_every_record_once(tmp_path: Path, name: str) -> None:
    offsets = write_warc(tmp_path / name, _captures(10))
    urls, starts = _read_all(WarcFile(str(tmp_path / name), "t"), WarcOptions())
    assert urls == [f"https://example.org/story-{i}" for i in range(10)]
    assert starts == [offsets[0], offsets[3], offsets[6], offsets[9]]  # each batch starts at a record


def test_listing_paths_globs_and_list_files(tmp_path: Path) -> None:
    for name in ("b.warc.gz", "a.warc.gz", "c.warc"):
        write_warc(tmp_path / name, _captures(1))
    listed = tmp_path / "list.txt"
    listed.write_text("# CC-NEWS, one a line\nc.warc\n\nhttps://data.example.org/x.warc.gz\n")
    files, rejects = list_warc_files([str(tmp_path / "*.warc.gz"), str(tmp_path / "missing.warc.gz")], listed)
    assert files == [str(tmp_path / "a.warc.gz"), str(tmp_path / "b.warc.gz"), str(tmp_path / "c.warc"),
                     "https://data.example.org/x.warc.gz"]
    assert [r.reason for r in rejects] == ["missing_warc"]
    gz = tmp_path / "list.txt.gz"
    gz.write_bytes(gzip.compress(b"a.warc.gz\n"))
    assert list_warc_files([], gz)[0] == [str(tmp_path / "a.warc.gz")]


def _ranged(data: bytes):  # type: ignore[no-untyped-def]
    def handler(request: Request) -> Response:
        spec = request.headers.get("Range")
        if spec:
            start = int(spec.split("=")[1].rstrip("-"))
            return Response(data[start:], status=206, headers={"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        return Response(data)

    return handler


def test_https_and_http_warcs_stream_with_ranges_under_the_address_rule(tmp_path: Path, server: HTTPServer) -> None:
    write_warc(tmp_path / "r.warc.gz", _captures(7))
    server.expect_request("/r.warc.gz").respond_with_handler(_ranged((tmp_path / "r.warc.gz").read_bytes()))
    url = server.url_for("/r.warc.gz")
    local = _read_all(WarcFile(str(tmp_path / "r.warc.gz"), "t"), WarcOptions())
    remote = _read_all(WarcFile(url, "t"), WarcOptions(allowed_networks=("127.0.0.1/32",)))
    assert remote == local
    refused = read_warc_batch(WarcFile(url, "t"), 0, 3, WarcOptions())
    assert refused.documents == [] and refused.next_offset is None and refused.span.broken  # retried next run
    assert [r.reason for r in refused.rejects] == ["warc_unreadable"]
    assert "non-public address" in refused.rejects[0].message


def test_records_are_read_back_by_their_address(tmp_path: Path) -> None:
    offsets = write_warc(tmp_path / "x.warc.gz", _captures(5))
    where = str(tmp_path / "x.warc.gz")
    documents, rejects = read_warc_documents([f"warc:{where}#{offsets[3]}", f"warc:{where}#{offsets[1] + 1}"],
                                             WarcOptions())
    assert [d.url for d in documents] == ["https://example.org/story-3"]
    assert [r.reason for r in rejects] == ["warc_unreadable"]  # no record starts there


def test_a_files_batches_load_in_read_order() -> None:
    queue = CheckpointQueue()
    for part, start in ((1, 0), (2, 10), (3, 20)):
        queue.claim(part, WarcSpan("f", start, start + 10, start + 10, 1))
    queue.claim(4, WarcSpan("g", 0, None, 5, 1))
    assert queue.finish(2) == []  # waits for part 1
    assert [p for p, _ in queue.finish(4)] == [4]  # another file: independent
    assert [p for p, _ in queue.finish(1)] == [1, 2]
    assert [p for p, _ in queue.finish(3)] == [3]
    assert queue.finish(9) == [] and queue.loaded == {1, 2, 3, 4}
