-- Who is quoted, how often, and in how many articles.
SELECT speaker, type, quotes, articles
FROM most_quoted_speakers
ORDER BY quotes DESC, speaker
LIMIT 20;
