-- Entities named together in the most articles.
SELECT name_a, name_b, articles
FROM entity_cooccurrence
ORDER BY articles DESC, name_a, name_b
LIMIT 20;
