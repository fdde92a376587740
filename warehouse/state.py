"""What a run asks the warehouse about its own past: inputs to re-extract from the raw store, URLs whose
fetch was deferred, and bodies already rejected at extraction (not worth extracting again)."""

from __future__ import annotations

import json

import duckdb

from transforms.models import RawInput
from warehouse.schema import run_sql

RAW_INPUTS = """
    SELECT f.url, f.final_url, f.content_hash, f.content_type, f.charset, f.fetch_id,
           coalesce(a.source, 'url') AS source
    FROM (
        SELECT *, row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC, fetch_id) AS rn
        FROM fetches WHERE status = 200 AND content_hash IS NOT NULL AND NOT coalesce(not_modified, false)
    ) f
    LEFT JOIN (SELECT DISTINCT fetch_id, source FROM articles) a USING (fetch_id)
    WHERE f.rn = 1
      -- feeds and sitemaps were fetched to discover articles, not to be extracted
      AND NOT EXISTS (SELECT 1 FROM rejects r WHERE r.fetch_id = f.fetch_id AND r.stage = 'discover')
      AND (a.source IS NOT NULL OR EXISTS (SELECT 1 FROM rejects r WHERE r.fetch_id = f.fetch_id))
    ORDER BY f.url
"""


def query_raw_inputs(con: duckdb.DuckDBPyConnection) -> list[RawInput]:
    """The newest good fetch of every URL that was extracted (or rejected at extraction), for `reextract`."""
    return [RawInput(*row) for row in run_sql(con, RAW_INPUTS)]


DEFERRED = """
    SELECT url, source_name FROM (
        SELECT url, source_name, error_class,
               row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC, attempt DESC) AS rn
        FROM fetches)
    WHERE rn = 1 AND error_class = 'deferred'
    ORDER BY url
"""

REJECTED_AT_EXTRACTION = """
    SELECT DISTINCT f.url, f.content_hash, u.versions
    FROM rejects r
    JOIN fetches f ON f.fetch_id = r.fetch_id
    JOIN runs u ON u.run_id = r.run_id
    WHERE r.stage = 'extract' AND f.content_hash IS NOT NULL
"""


def query_deferred(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """url -> source name of every URL whose newest fetch row says `deferred` (the fetch budget ran out)."""
    return {url: source for url, source in run_sql(con, DEFERRED)}


def query_rejected_bodies(con: duckdb.DuckDBPyConnection, versions: dict[str, str]) -> dict[str, list[str]]:
    """url -> raw hashes of bodies rejected at extraction by these extractor `versions`
    (a subset of the runs' `versions` JSON): extracting them again would give the same reject."""
    out: dict[str, list[str]] = {}
    for url, content_hash, recorded in run_sql(con, REJECTED_AT_EXTRACTION):
        try:
            used = json.loads(recorded or "{}")
        except ValueError:
            continue
        if all(used.get(name) == version for name, version in versions.items()):
            out.setdefault(url, []).append(content_hash)
    return out
