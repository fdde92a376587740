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
               count(*) AS quotes, count(DISTINCT q.article_id) AS articles,
               count(DISTINCT coalesce(st.story_id, q.article_id)) AS stories  -- a wire story's copies count once
        FROM current_quotes q JOIN entities e ON e.entity_id = q.speaker_entity_id
        LEFT JOIN stories st ON st.article_id = q.article_id
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
               e.entity_id, e.name, e.type, count(*) AS mentions, count(DISTINCT m.article_id) AS articles,
               count(DISTINCT coalesce(st.story_id, m.article_id)) AS stories  -- a wire story's copies count once
        FROM current_mentions m
        JOIN current_articles a USING (article_id, content_hash)
        JOIN entities e ON e.entity_id = m.entity_id
        LEFT JOIN stories st ON st.article_id = m.article_id
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
    # The outlet of each current article: its canonical URL's or URL's host, else its site name
    # (transforms/stories.py: to_site), its time (published, else loaded) and the wire agency it credits.
    "article_outlets": """
        SELECT article_id, content_hash, title,
               coalesce(nullif(regexp_extract(lower(coalesce(canonical_url, url, '')), '^[a-z][a-z0-9+.-]*://(www\\.)?([^/:?#@]+)', 2), ''),
                        nullif(lower(trim(site_name)), '')) AS outlet,
               coalesce(try_cast(published_at AS TIMESTAMPTZ), loaded_at) AS published_at,
               coalesce(nullif(regexp_extract(text, '\\((AP|AFP|Reuters|dpa|PA|ANSA|EFE|Bloomberg|UPI)\\)', 1), ''),
                        nullif(regexp_extract(array_to_string(authors, ' ') || ' ' || coalesce(site_name, ''),
                                              '(Associated Press|Reuters|AFP|Agence France-Presse|dpa|Bloomberg)', 1), ''),
                        nullif(regexp_extract(left(text, 300), '\\b(Associated Press|Reuters|AFP|dpa)\\b', 1), '')) AS credit
        FROM current_articles
    """,
    # Which outlets ran each story, when it first appeared and how far it spread in time.
    "story_outlets": """
        SELECT s.story_id, (list(o.title ORDER BY o.published_at NULLS LAST, o.article_id))[1] AS title,
               count(*) AS articles,
               count(DISTINCT o.outlet) AS outlets,
               list(DISTINCT o.outlet ORDER BY o.outlet) FILTER (WHERE o.outlet IS NOT NULL) AS outlet_names,
               min(o.published_at) AS first_published_at, max(o.published_at) AS last_published_at,
               round((epoch(max(o.published_at)) - epoch(min(o.published_at))) / 3600.0, 1) AS spread_hours
        FROM stories s JOIN article_outlets o USING (article_id)
        GROUP BY s.story_id ORDER BY outlets DESC, articles DESC, first_published_at, s.story_id
    """,
    # Syndicated copies: for each pair, the earlier publication is the original and the later the republisher;
    # `credit` is the wire agency either names ("(AP)", "Reuters").
    "syndication": """
        WITH pairs AS (
            SELECT d.jaccard, a.*, b.article_id AS b_id, b.outlet AS b_outlet, b.published_at AS b_at,
                   b.title AS b_title, b.credit AS b_credit
            FROM duplicates d
            JOIN article_outlets a ON a.article_id = d.article_id AND a.content_hash = d.content_hash
            JOIN article_outlets b ON b.article_id = d.other_article_id AND b.content_hash = d.other_content_hash
            WHERE d.kind = 'syndicated'
        ), oriented AS (
            SELECT jaccard, coalesce(credit, b_credit) AS credit,
                   CASE WHEN b_at <= published_at THEN true ELSE false END AS b_first, *
            FROM pairs
        )
        SELECT st.story_id, credit,
               CASE WHEN b_first THEN b_outlet ELSE outlet END AS original_outlet,
               CASE WHEN b_first THEN b_id ELSE article_id END AS original_article_id,
               CASE WHEN b_first THEN b_at ELSE published_at END AS original_published_at,
               CASE WHEN b_first THEN outlet ELSE b_outlet END AS republisher,
               CASE WHEN b_first THEN article_id ELSE b_id END AS republished_article_id,
               CASE WHEN b_first THEN title ELSE b_title END AS republished_title,
               CASE WHEN b_first THEN published_at ELSE b_at END AS republished_at,
               round(abs(epoch(published_at) - epoch(b_at)) / 3600.0, 1) AS delay_hours, round(jaccard, 3) AS jaccard
        FROM oriented LEFT JOIN stories st USING (article_id)
        ORDER BY original_published_at, story_id, republished_at
    """,
    "rejects_by_reason": """
        SELECT stage, reason, count(*) AS rejects, any_value(message) AS example
        FROM rejects GROUP BY ALL ORDER BY rejects DESC
    """,
}
