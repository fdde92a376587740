"""WARC files as a source: listing them, and reading their records in batches from a byte offset.

A WARC (`.warc`, or `.warc.gz` compressed record by record, as Common Crawl and
web archives write them) is read with FastWARC, chosen by measurement
(`bench/warc.py`): it streams, so a file is never held in memory, and it
reports each record's byte offset, from which a later read starts again. A
batch is read from an offset until it holds `batch_size` records (or the file
ends) and says the offset of the next record: that is what a run checkpoints
per file, and where an interrupted run resumes. Local paths, globs, `s3://`
(any fsspec URL) and `https://` (httpx, with the fetch settings' time-outs and
private-address rule) are read the same way.

The WARC is the raw store: records are not copied into `warehouse/raw/`;
`read_warc_documents` reads them back by `warc:<file>#<offset>` for re-extraction.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flows.warc_streams import REMOTE, WarcError as WarcError, WarcOptions as WarcOptions, open_warc
from transforms.decoding import GZIP_MAGIC, inflate
from transforms.errors import Stage
from transforms.models import Document, Fetch, Reject, to_article_id
from transforms.warc import Record, RecordFilter, parse_warc_uri, to_document, to_warc_uri

log = logging.getLogger(__name__)

STAGE: Stage = "read"
MAX_LIST_BYTES = 50_000_000  # a WARC list file, decompressed
MAX_RECORD_BYTES = 50_000_000  # a record's block; larger ones are rejected without being read
SCAN_FACTOR = 20  # a batch ends after this many times batch_size records, documents or not (filters)


@dataclass(frozen=True)
class WarcFile:
    """One file of a WARC source, with the source's options."""

    location: str  # absolute local path, or a URL
    source_name: str
    filter: RecordFilter = RecordFilter()
    max_records: int | None = None  # the source's budget of records turned into documents or rejects
    languages: tuple[str, ...] = ()  # the source's language filter, applied once extraction has detected it


@dataclass
class WarcBatch:
    """Records read from one file from `start`: documents, their fetch rows, rejects, and where to go on."""

    location: str
    start: int
    next_offset: int | None = None  # None: the file is read to its end
    end: int = 0  # where reading stopped: next_offset, or the end of the file
    documents: list[Document] = field(default_factory=list)
    fetches: list[Fetch] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    revisits: int = 0
    filtered: int = 0
    broken: bool = False

    @property
    def taken(self) -> int:
        return len(self.documents) + len(self.rejects)

    @property
    def span(self) -> WarcSpan:
        return WarcSpan(self.location, self.start, self.next_offset, self.end, self.taken, self.broken)


@dataclass(frozen=True)
class WarcSpan:
    """Where one batch of a WARC file lies, for its checkpoint."""

    location: str
    start: int
    next_offset: int | None  # None: the batch reached the end of the file (or the file broke off)
    end: int
    taken: int  # records that became documents or rejects
    broken: bool = False  # the file could not be read on: the next run tries again from `start`


def list_warc_files(locations: Sequence[str], list_file: Path | None = None) -> tuple[list[str], list[Reject]]:
    """The WARC files named by paths, globs, URLs and a list file (one per line; `#` comments), in order, once each."""
    entries = list(locations)
    rejects: list[Reject] = []
    if list_file is not None:
        try:
            data = list_file.read_bytes()
            text = (inflate(data, MAX_LIST_BYTES, members=True, complete=True) if data[:2] == GZIP_MAGIC else data).decode("utf-8")
        except (OSError, ValueError, EOFError) as err:
            return [], [Reject(str(list_file), STAGE, "unreadable_file", f"WARC list {list_file}: {err}")]
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                remote = "://" in line
                entries.append(line if remote or Path(line).is_absolute() else str(list_file.parent / line))
    files: list[str] = []
    for entry in entries:
        found, reject = _expand(entry)
        if reject is not None:
            rejects.append(reject)
        files.extend(f for f in found if f not in files)
    return files, rejects


def _expand(entry: str) -> tuple[list[str], Reject | None]:
    if entry.startswith(REMOTE):
        return [entry], None
    if "://" in entry:
        import fsspec

        if not glob.has_magic(entry):
            return [entry], None
        fs, _ = fsspec.core.url_to_fs(entry)
        protocol = entry.split("://", 1)[0]
        return [f"{protocol}://{p}" for p in sorted(fs.glob(entry))], None
    paths = sorted(glob.glob(entry)) if glob.has_magic(entry) else [entry]
    found = [str(Path(p).resolve()) for p in paths if Path(p).is_file()]
    if not found:
        return [], Reject(entry, STAGE, "missing_warc", f"no WARC file at {entry}")
    return found, None


def read_warc_batch(file: WarcFile, start: int, batch_size: int, options: WarcOptions,
                    budget: int | None = None) -> WarcBatch:
    """Up to `batch_size` records of `file` from byte `start` (at most `budget` of them), and the next offset.

    A file that cannot be opened, or breaks off (a corrupt gzip member), gives a
    reject at the offset where it failed and ends there.
    """
    batch = WarcBatch(file.location, start)
    limit = batch_size if budget is None else max(0, min(batch_size, budget))
    scanned = 0
    try:
        with open_warc(file.location, start, options) as stream:
            for offset, record in _records(stream):
                if batch.taken >= limit or scanned >= batch_size * SCAN_FACTOR:
                    batch.next_offset = batch.end = offset
                    return batch
                scanned += 1
                _take(batch, file, offset, record)
            batch.end = stream.tell()
    except WarcError as err:
        batch.broken = True
        batch.next_offset = None
        batch.rejects.append(Reject(to_warc_uri(file.location, start), STAGE, "warc_unreadable", str(err)))
    return batch


def _take(batch: WarcBatch, file: WarcFile, offset: int, record: Any) -> None:
    headers = record.headers.asdict()
    kind = str(headers.get("WARC-Type", "")).lower()
    if kind in ("response", "resource"):
        from transforms.feeds import parse_datetime

        url = str(headers.get("WARC-Target-URI", "")).strip("<>")
        if not file.filter.keeps(url, parse_datetime(headers.get("WARC-Date"))):
            batch.filtered += 1
            return
        if record.content_length > MAX_RECORD_BYTES:
            uri = to_warc_uri(file.location, offset)
            batch.rejects.append(Reject(uri, STAGE, "too_large", f"{url} ({uri}): the record is {record.content_length} "
                                        f"bytes, over the {MAX_RECORD_BYTES}-byte limit", to_article_id(url or uri)))
            return
    elif kind != "revisit":
        return  # warcinfo, request, metadata: nothing to read
    block = record.reader.read() if kind != "revisit" else b""
    converted = to_document(Record(file.location, offset, headers, block, record.content_length), file.source_name,
                            MAX_RECORD_BYTES)
    batch.revisits += converted.revisit
    if converted.document is not None:
        batch.documents.append(converted.document)
    if converted.fetch is not None:
        batch.fetches.append(converted.fetch)
    if converted.reject is not None:
        batch.rejects.append(converted.reject)


def _records(stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    from fastwarc.warc import ArchiveIterator

    try:
        for record in ArchiveIterator(stream, parse_http=False, fsspec_args=False):
            yield int(record.stream_pos), record
    except (OSError, ValueError) as err:
        raise WarcError(f"the WARC breaks off: {err}") from None


def read_warc_documents(uris: Sequence[str], options: WarcOptions) -> tuple[list[Document], list[Reject]]:
    """The documents at these `warc:<file>#<offset>` addresses, read back from their WARCs (re-extraction)."""
    documents: list[Document] = []
    rejects: list[Reject] = []
    for uri in uris:
        place = parse_warc_uri(uri)
        if place is None:
            rejects.append(Reject(uri, STAGE, "warc_missing", f"{uri} is not a warc:<file>#<offset> address"))
            continue
        batch = read_warc_batch(WarcFile(place[0], "reextract"), place[1], 1, options)
        found = [d for d in batch.documents if d.uri == uri]
        documents.extend(found)
        rejects.extend(r for r in batch.rejects if r.uri == uri)
        if not found and not any(r.uri == uri for r in batch.rejects):
            rejects.append(Reject(uri, STAGE, "warc_missing", f"no document record at {uri}: the WARC changed or moved"))
    return documents, rejects


def warc_files(sources: Sequence[Any]) -> tuple[list[WarcFile], list[Reject]]:
    """The files of the `kind = "warc"` sources (a `SourceConfig` each), with each source's filters."""
    files: list[WarcFile] = []
    rejects: list[Reject] = []
    seen: set[str] = set()
    for source in sources:
        found, lost = list_warc_files(source.locations, source.file)
        rejects.extend(lost)
        keep = RecordFilter(tuple(source.allow), tuple(source.deny), source.since, source.until)
        for location in found:
            if location not in seen:
                seen.add(location)
                files.append(WarcFile(location, source.name, keep, source.max_records or source.max_items,
                                      tuple(source.languages)))
    return files, rejects


class CheckpointQueue:
    """Which WARC batches may load now: a file's batches load in the order they were read, each once.

    Batches finish out of order (they vary tenfold in work); a batch loads when it
    and every earlier batch of its file have finished, so a file's checkpoint only
    ever moves over records that are all in the warehouse.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, list[int]] = {}  # file -> its parts not loaded yet, in read order
        self._spans: dict[int, WarcSpan] = {}
        self._finished: set[int] = set()
        self.loaded: set[int] = set()

    def claim(self, part: int, span: WarcSpan) -> None:
        self._waiting.setdefault(span.location, []).append(part)
        self._spans[part] = span

    def finish(self, part: int) -> list[tuple[int, WarcSpan]]:
        """Mark `part` finished; the parts that may load now, in order."""
        span = self._spans.get(part)
        if span is None:
            return []
        self._finished.add(part)
        queue = self._waiting[span.location]
        ready = []
        while queue and queue[0] in self._finished:
            head = queue.pop(0)
            ready.append((head, self._spans[head]))
            self.loaded.add(head)
        return ready
