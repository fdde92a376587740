-- The run log: when, what it did, and whether the data checks passed.
SELECT run_id, started_at, finished_at, status, counts, checks
FROM runs ORDER BY started_at DESC LIMIT 10;
