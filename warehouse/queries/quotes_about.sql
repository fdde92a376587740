-- Who quotes about whom: each speaker and the entities named inside their quotes.
SELECT speaker, about, about_type, quotes
FROM quotes_about
ORDER BY quotes DESC, speaker, about
LIMIT 20;
