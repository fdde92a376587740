"""What a run asks the warehouse about its own past: inputs to re-extract from the raw store."""

from __future__ import annotations

from typing import Any

import duckdb

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


def query_raw_inputs(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The newest good fetch of every URL that was extracted (or rejected at extraction), for `reextract`."""
    columns = ["url", "final_url", "content_hash", "content_type", "charset", "fetch_id", "source"]
    return [dict(zip(columns, row)) for row in run_sql(con, RAW_INPUTS)]
