"""Analysis views: the common questions, answered in SQL over the contract tables."""

from __future__ import annotations

VIEWS: dict[str, str] = {
    # The newest version of each article (a changed page keeps its older versions in `articles`).
    "current_articles": """
        SELECT * EXCLUDE (rn) FROM (
            SELECT a.*, row_number() OVER (PARTITION BY article_id ORDER BY loaded_at DESC, content_hash) AS rn
            FROM articles a
        ) WHERE rn = 1
    """,
    "current_mentions": """
        SELECT m.* FROM mentions m JOIN current_articles a USING (article_id, content_hash)
    """,
    "current_quotes": """
        SELECT q.* FROM quotes q JOIN current_articles a USING (article_id, content_hash)
    """,
    # Who is quoted, how often, in how many articles.
    "most_quoted_speakers": """
        SELECT e.entity_id, e.name AS speaker, e.type,
               count(*) AS quotes, count(DISTINCT q.article_id) AS articles
        FROM current_quotes q JOIN entities e ON e.entity_id = q.speaker_entity_id
        GROUP BY ALL ORDER BY quotes DESC, speaker
    """,
    # Who quotes about whom: the entities mentioned inside each attributed quote.
    "quotes_about": """
        SELECT s.name AS speaker, e.name AS about, e.type AS about_type,
               count(DISTINCT q.quote_id) AS quotes, q.speaker_entity_id, m.entity_id AS about_entity_id
        FROM current_quotes q
        JOIN entities s ON s.entity_id = q.speaker_entity_id
        JOIN current_mentions m ON m.article_id = q.article_id AND m.content_hash = q.content_hash
             AND m.start >= q.start AND m."end" <= q."end"
        JOIN entities e ON e.entity_id = m.entity_id
        WHERE m.entity_id <> q.speaker_entity_id
        GROUP BY ALL ORDER BY quotes DESC, speaker, about
    """,
    # Entities named in the same article.
    "entity_cooccurrence": """
        WITH pairs AS (
            SELECT DISTINCT article_id, entity_id FROM current_mentions
        )
        SELECT a.entity_id AS entity_a, ea.name AS name_a, b.entity_id AS entity_b, eb.name AS name_b,
               count(*) AS articles
        FROM pairs a JOIN pairs b ON a.article_id = b.article_id AND a.entity_id < b.entity_id
        JOIN entities ea ON ea.entity_id = a.entity_id
        JOIN entities eb ON eb.entity_id = b.entity_id
        GROUP BY ALL ORDER BY articles DESC, name_a, name_b
    """,
    # Mentions per entity per day (publication day where known, else load day).
    "mentions_per_day": """
        SELECT coalesce(try_cast(substr(a.published_at, 1, 10) AS DATE), CAST(a.loaded_at AS DATE)) AS day,
               e.entity_id, e.name, e.type, count(*) AS mentions, count(DISTINCT m.article_id) AS articles
        FROM current_mentions m
        JOIN current_articles a USING (article_id, content_hash)
        JOIN entities e ON e.entity_id = m.entity_id
        GROUP BY ALL ORDER BY day, mentions DESC
    """,
    # Per source: articles loaded, rejects, and the reject rate.
    "source_stats": """
        WITH loaded AS (
            SELECT coalesce(f.source_name, a.source) AS source, count(*) AS articles
            FROM current_articles a LEFT JOIN fetches f USING (fetch_id) GROUP BY 1
        ), rejected AS (
            SELECT coalesce(f.source_name, CASE WHEN rj.fetch_id IS NULL THEN 'seed' ELSE 'web' END) AS source,
                   count(*) AS rejects
            FROM rejects rj LEFT JOIN fetches f USING (fetch_id)
            GROUP BY 1
        )
        SELECT coalesce(l.source, r.source) AS source, coalesce(articles, 0) AS articles,
               coalesce(rejects, 0) AS rejects,
               round(coalesce(rejects, 0) / (coalesce(articles, 0) + coalesce(rejects, 0)), 3) AS reject_rate
        FROM loaded l FULL OUTER JOIN rejected r ON l.source = r.source
        ORDER BY source
    """,
    "rejects_by_reason": """
        SELECT stage, reason, count(*) AS rejects, any_value(message) AS example
        FROM rejects GROUP BY ALL ORDER BY rejects DESC
    """,
}
