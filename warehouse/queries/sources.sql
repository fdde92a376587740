-- Articles, rejects and reject rate per source.
SELECT * FROM source_stats;
