"""The run history a report shows: the last runs, from the `runs` table."""

from __future__ import annotations

import duckdb

from transforms.models import RecentRun

RECENT_RUNS_SQL = """
SELECT run_id, strftime(started_at, '%Y-%m-%d %H:%M') AS started,
       coalesce(TRY_CAST(json_extract_string(counts, '$.articles') AS BIGINT), 0) AS articles,
       coalesce(TRY_CAST(json_extract_string(counts, '$.rejected') AS BIGINT), 0) AS rejected,
       epoch(finished_at) - epoch(started_at) AS seconds
FROM runs ORDER BY started_at DESC LIMIT ?
"""


def query_recent_runs(con: duckdb.DuckDBPyConnection, limit: int = 10) -> list[RecentRun]:
    """The last `limit` runs, newest first: articles, rejects and duration (None while a run is unfinished)."""
    rows = con.execute(RECENT_RUNS_SQL, [limit]).fetchall()
    return [RecentRun(r[0], r[1], int(r[2]), int(r[3]), None if r[4] is None else float(r[4])) for r in rows]
