"""The raw store keeps bodies once, compressed, and returns them unchanged."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse.raw import RawStoreError, has_raw, raw_path, read_raw, write_raw

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "web"


def test_round_trip_of_a_real_page_is_compressed_and_content_addressed(tmp_path: Path) -> None:
    body = (FIXTURES / "jpost-608399.html").read_bytes()
    content_hash = write_raw(tmp_path, body)
    assert content_hash == hashlib.sha256(body).hexdigest()
    path = raw_path(tmp_path, content_hash)
    assert path is not None
    assert path.parent.name == content_hash[:2] and path.name.startswith(content_hash[2:])
    assert path.stat().st_size < len(body) / 2
    assert read_raw(tmp_path, content_hash) == body


def test_the_same_body_is_stored_once(tmp_path: Path) -> None:
    first = write_raw(tmp_path, b"<html>same</html>")
    second = write_raw(tmp_path, b"<html>same</html>")
    assert first == second
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert not any(p.name.startswith(".tmp-") for p in files)


def test_missing_and_corrupt_bodies_raise_a_store_error(tmp_path: Path) -> None:
    missing = hashlib.sha256(b"never written").hexdigest()
    assert not has_raw(tmp_path, missing)
    with pytest.raises(RawStoreError, match="fetch the URL again"):
        read_raw(tmp_path, missing)
    content_hash = write_raw(tmp_path, b"<p>original</p>")
    path = raw_path(tmp_path, content_hash)
    assert path is not None
    path.write_bytes(b"not compressed at all")
    with pytest.raises(RawStoreError, match="corrupt"):
        read_raw(tmp_path, content_hash)
    with pytest.raises(RawStoreError, match="not a content hash"):
        read_raw(tmp_path, "../../etc/passwd")


def test_gzip_bodies_written_without_zstandard_are_readable(tmp_path: Path) -> None:
    body = b"<html><body>kept by an install without zstandard</body></html>"
    content_hash = hashlib.sha256(body).hexdigest()
    folder = tmp_path / content_hash[:2]
    folder.mkdir()
    (folder / f"{content_hash[2:]}.gz").write_bytes(gzip.compress(body))
    assert read_raw(tmp_path, content_hash) == body


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=4096))
def test_any_body_round_trips(tmp_path_factory: pytest.TempPathFactory, body: bytes) -> None:
    root = tmp_path_factory.mktemp("raw")
    assert read_raw(root, write_raw(root, body)) == body
