-- How each entity is written: its surface forms and how often each is used.
SELECT e.name, e.type, x.alias, x.count
FROM entity_aliases x JOIN entities e USING (entity_id)
WHERE e.entity_id IN (SELECT entity_id FROM entity_aliases GROUP BY entity_id HAVING count(*) > 1)
ORDER BY e.name, x.count DESC, x.alias;
