"""The raw store: every fetched body, compressed and content-addressed.

A body is kept once, under `<root>/<hash[:2]>/<hash[2:]>.zst` (zstd when the
`zstandard` package is installed, else `.gz`), where the hash is the sha256 of
the uncompressed body. Extraction can then be re-run without fetching again.
Writes are atomic (temporary file, then rename), so a crash never leaves a
half-written body under its final name.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from transforms.ids import to_raw_hash
from transforms.errors import PermanentError
from transforms.models import Document, RawInput, Reject

try:
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None  # type: ignore[assignment]

_ZSTD_ERROR: type[Exception] = zstandard.ZstdError if zstandard is not None else OSError
SUFFIXES = (".zst", ".gz")
ZSTD_LEVEL = 3
GZIP_LEVEL = 6


class RawStoreError(PermanentError):
    """A body that is missing or corrupt in the raw store."""

    STAGE, REASON = "read", "raw_missing"


def raw_path(root: Path, content_hash: str) -> Path | None:
    """The file holding `content_hash`, or None when it is not stored."""
    base = _base(root, content_hash)
    for suffix in SUFFIXES:
        path = base.with_name(base.name + suffix)
        if path.exists():
            return path
    return None


def has_raw(root: Path, content_hash: str) -> bool:
    return raw_path(root, content_hash) is not None


def write_raw(root: Path, body: bytes) -> str:
    """Store `body` (once) and return its content hash."""
    content_hash = to_raw_hash(body)
    if raw_path(root, content_hash) is not None:
        return content_hash
    base = _base(root, content_hash)
    base.parent.mkdir(parents=True, exist_ok=True)
    if zstandard is not None:
        data, suffix = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body), ".zst"
    else:  # pragma: no cover - depends on the environment
        data, suffix = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0), ".gz"
    fd, tmp = tempfile.mkstemp(dir=base.parent, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, base.with_name(base.name + suffix))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return content_hash


def read_raw(root: Path, content_hash: str) -> bytes:
    """The body stored under `content_hash`; RawStoreError when missing or corrupt."""
    path = raw_path(root, content_hash)
    if path is None:
        raise RawStoreError(f"raw body {content_hash} is not in {root}: fetch the URL again")
    data = path.read_bytes()
    try:
        if path.suffix == ".zst":
            if zstandard is None:  # pragma: no cover - depends on the environment
                raise RawStoreError(f"{path} is zstd-compressed: install the zstandard package to read it")
            body = zstandard.ZstdDecompressor().decompressobj().decompress(data)
        else:
            body = gzip.decompress(data)
    except (_ZSTD_ERROR, OSError, EOFError) as exc:
        raise RawStoreError(f"raw body {path} is corrupt ({exc}): delete it and fetch the URL again") from exc
    if to_raw_hash(body) != content_hash:
        raise RawStoreError(f"raw body {path} does not match its hash: delete it and fetch the URL again")
    return body


def _base(root: Path, content_hash: str) -> Path:
    if len(content_hash) < 8 or any(c not in "0123456789abcdef" for c in content_hash):
        raise RawStoreError(f"{content_hash!r} is not a content hash (lowercase sha256 hex)")
    return Path(root) / content_hash[:2] / content_hash[2:]


def read_raw_documents(root: Path, fetched: Sequence[RawInput]) -> tuple[list[Document], list[Reject]]:
    """Documents rebuilt from the raw store for re-extraction (no network), from `warehouse.state.query_raw_inputs`."""
    documents: list[Document] = []
    rejects: list[Reject] = []
    for raw in fetched:
        try:
            body = read_raw(root, raw.content_hash)
        except RawStoreError as err:
            rejects.append(Reject(raw.url, "read", "raw_missing", str(err), None, raw.fetch_id))
            continue
        media_type = (raw.content_type or "text/html").split(";")[0].strip() or "text/html"
        documents.append(Document(uri=raw.url, source=raw.source or "url", body=body, media_type=media_type,
                                  charset=raw.charset, url=raw.final_url or raw.url, fetch_id=raw.fetch_id))
    return documents, rejects
