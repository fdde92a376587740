"""Records to Arrow tables: the rows each table gets from a batch's articles, analysis, rejects and fetches.

Every table's columns come from its declaration in warehouse/schema.py, so a record field
the schema does not name is dropped and a column no record fills is null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pyarrow as pa

from transforms.fingerprints import to_fingerprints
from transforms.ids import to_reject_id
from transforms.models import Analysis, Article, Document, Entity, Fetch, Mention, Quote, Reject
from warehouse.schema import TABLES


def to_arrow(table: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Rows (dicts keyed by column) to an Arrow table with the table's explicit schema."""
    schema = TABLES[table].arrow_schema
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)


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
        {**asdict(q), "quote_id": to_quote_id(q, hashes[q.article_id]), "content_hash": hashes[q.article_id],
         "run_id": run_id}
        for q in quotes
    ]


def to_quote_id(quote: Quote, content_hash: str) -> str:
    """The key of a quote row: article, offsets and the article version they point into.

    Without the version, the same offsets in a changed article would collide with
    the older version's quote and the new version would load without its quotes.
    """
    return f"{quote.quote_id}@{content_hash}"


def reject_rows(rejects: Sequence[Reject], run_id: str, at: datetime) -> list[dict[str, Any]]:
    rows = []
    for r in rejects:
        reject_id = to_reject_id(r.uri, r.stage, r.reason, r.article_id, r.fetch_id)
        rows.append({**asdict(r), "reject_id": reject_id, "run_id": run_id, "rejected_at": at})
    return rows


def run_tables(run_id: str, at: datetime, articles: Sequence[Article], raw_hashes: dict[str, str],
               analysis: Analysis, rejects: Sequence[Reject], fetches: Sequence[Fetch] = ()) -> dict[str, pa.Table]:
    """The Arrow tables a run writes, from its records."""
    hashes = {a.article_id: a.content_hash for a in articles}
    tables = {
        "articles": to_arrow("articles", article_rows(articles, raw_hashes, run_id, at)),
        "mentions": to_arrow("mentions", mention_rows(analysis.mentions, hashes, run_id)),
        "entities": to_arrow("entities", entity_rows(analysis.entities, run_id)),
        "quotes": to_arrow("quotes", quote_rows(analysis.quotes, hashes, run_id)),
        "rejects": to_arrow("rejects", reject_rows(rejects, run_id, at)),
        "article_fingerprints": to_arrow("article_fingerprints", [
            {**asdict(f), "signature": list(f.signature), "bands": list(f.bands), "run_id": run_id}
            for f in to_fingerprints(articles)]),
    }
    tables["fetches"] = to_arrow("fetches", [
        {**asdict(f), "run_id": run_id}
        for f in fetches
    ])
    return tables


def raw_hashes(documents: Sequence[Document]) -> dict[str, str]:
    """uri -> hash of the raw bytes each article was extracted from."""
    return {d.uri: d.raw_hash for d in documents}
