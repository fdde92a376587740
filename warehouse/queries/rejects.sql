-- What could not be processed, and why.
SELECT stage, reason, rejects, example FROM rejects_by_reason;
