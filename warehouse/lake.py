"""The Parquet lake: one file set per run and table, written atomically.

Layout: `<lake>/<table>/run_id=<run_id>/part-0.parquet`. The lake may be a
local folder or an fsspec URL (`s3://bucket/prefix`); files are written under a
temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.documents import to_raw_hash
from transforms.models import Article, Document, Entity, Mention, Quote, Reject
from warehouse.schema import TABLES

COMPRESSION = "zstd"


def lake_filesystem(lake: str, storage_options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """An fsspec filesystem and the root path inside it."""
    fs, root = fsspec.core.url_to_fs(lake, **(storage_options or {}))
    return fs, root.rstrip("/")


def run_folder(root: str, table: str, run_id: str) -> str:
    return f"{root}/{table}/run_id={run_id}"


def part_path(root: str, table: str, run_id: str, part: int) -> str:
    return f"{run_folder(root, table, run_id)}/part-{part:05d}.parquet"


def to_arrow(table: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Rows (dicts keyed by column) to an Arrow table with the table's explicit schema."""
    schema = TABLES[table].arrow_schema
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)


def write_table(fs: Any, root: str, table: str, run_id: str, part: int, data: pa.Table) -> str:
    """Write one table's rows for a batch of a run: temporary name, then rename."""
    final = part_path(root, table, run_id, part)
    folder = run_folder(root, table, run_id)
    fs.makedirs(folder, exist_ok=True)
    temporary = f"{folder}/.part-{part:05d}.{uuid.uuid4().hex}.tmp"
    with fs.open(temporary, "wb") as handle:
        pq.write_table(data, handle, compression=COMPRESSION)
    if _is_local(fs):
        os.replace(temporary, final)
    else:
        fs.mv(temporary, final)
    return final


def _is_local(fs: Any) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocol or "local" in protocol


def read_table(fs: Any, root: str, table: str, run_id: str) -> pa.Table:
    """All parts of one table for a run (temporary files of an interrupted write are ignored)."""
    schema = TABLES[table].arrow_schema
    folder = run_folder(root, table, run_id)
    if not fs.exists(folder):
        return schema.empty_table()
    parts = sorted(p for p in fs.ls(folder, detail=False) if p.rsplit("/", 1)[-1].startswith("part-"))
    tables = []
    for path in parts:
        with fs.open(path, "rb") as handle:
            tables.append(pq.read_table(handle, schema=schema))
    return pa.concat_tables(tables) if tables else schema.empty_table()


def remove_runs(fs: Any, root: str, keep: Iterable[str]) -> list[str]:
    """Delete lake folders of runs that never reached the warehouse (crashed runs)."""
    keep = set(keep)
    removed = []
    for table in TABLES:
        base = f"{root}/{table}"
        if not fs.exists(base):
            continue
        for entry in fs.ls(base, detail=False):
            name = entry.rstrip("/").rsplit("/", 1)[-1]
            if name.startswith("run_id=") and name[len("run_id=") :] not in keep:
                fs.rm(entry, recursive=True)
                removed.append(entry)
    return removed


def article_rows(articles: Sequence[Article], raw_hashes: dict[str, str], run_id: str, at: datetime) -> list[dict[str, Any]]:
    rows = []
    for a in articles:
        row = asdict(a)
        row["authors"] = list(a.authors)
        row["blocks"] = [{"kind": b.kind, "start": b.start, "end": b.end} for b in a.blocks]
        row["provenance"] = [{"field": f, "source": s} for f, s in a.provenance]
        row["raw_hash"] = raw_hashes.get(a.uri)
        row["run_id"] = run_id
        row["loaded_at"] = at
        rows.append(row)
    return rows


def mention_rows(mentions: Sequence[Mention], hashes: dict[str, str], run_id: str) -> list[dict[str, Any]]:
    return [{**asdict(m), "content_hash": hashes[m.article_id], "run_id": run_id} for m in mentions]


def entity_rows(entities: Sequence[Entity], run_id: str) -> list[dict[str, Any]]:
    return [{**asdict(e), "run_id": run_id} for e in entities]


def quote_rows(quotes: Sequence[Quote], hashes: dict[str, str], run_id: str) -> list[dict[str, Any]]:
    return [
        {**asdict(q), "quote_id": q.quote_id, "content_hash": hashes[q.article_id], "run_id": run_id}
        for q in quotes
    ]


def reject_rows(rejects: Sequence[Reject], run_id: str, at: datetime) -> list[dict[str, Any]]:
    rows = []
    for r in rejects:
        key = json.dumps([r.uri, r.stage, r.reason, r.article_id, r.fetch_id])
        reject_id = hashlib.sha256(key.encode()).hexdigest()[:16]
        rows.append({**asdict(r), "reject_id": reject_id, "run_id": run_id, "rejected_at": at})
    return rows


def run_tables(run_id: str, at: datetime, articles: Sequence[Article], raw_hashes: dict[str, str],
               analysis: Any, rejects: Sequence[Reject], fetches: Sequence[Any] = ()) -> dict[str, pa.Table]:
    """The Arrow tables a run writes, from its records."""
    hashes = {a.article_id: a.content_hash for a in articles}
    tables = {
        "articles": to_arrow("articles", article_rows(articles, raw_hashes, run_id, at)),
        "mentions": to_arrow("mentions", mention_rows(analysis.mentions, hashes, run_id)),
        "entities": to_arrow("entities", entity_rows(analysis.entities, run_id)),
        "quotes": to_arrow("quotes", quote_rows(analysis.quotes, hashes, run_id)),
        "rejects": to_arrow("rejects", reject_rows(rejects, run_id, at)),
    }
    tables["fetches"] = to_arrow("fetches", [
        {**asdict(f), "fetched_at": datetime.fromisoformat(f.fetched_at) if f.fetched_at else None, "run_id": run_id}
        for f in fetches
    ])
    return tables


def write_part(fs: Any, root: str, run_id: str, part: int, tables: dict[str, pa.Table]) -> dict[str, str]:
    return {name: write_table(fs, root, name, run_id, part, data) for name, data in tables.items() if data.num_rows}


def raw_hashes(documents: Sequence[Document]) -> dict[str, str]:
    """uri -> hash of the raw bytes each article was extracted from."""
    return {d.uri: to_raw_hash(d.body) for d in documents}


def read_run(fs: Any, root: str, run_id: str) -> dict[str, pa.Table]:
    return {name: read_table(fs, root, name, run_id) for name in TABLES if name != "runs"}
