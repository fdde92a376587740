-- Every attributed quotation with its speaker entity, cue and article (newest versions only).
SELECT e.name AS speaker, q.kind, q.cue, left(q.text, 90) AS quote, a.title
FROM current_quotes q
JOIN entities e ON e.entity_id = q.speaker_entity_id
JOIN current_articles a USING (article_id, content_hash)
ORDER BY a.title, q.start;
