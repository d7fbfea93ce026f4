-- ground_points: one page of the located ground images inside a lon/lat box, by id (the
-- explorer's points layer).
--
-- Parameters: $west, $south, $east, $north (decimal degrees; the box, edges included),
--   $limit (rows in the page), $offset (rows before it).
-- Output columns: id, lon, lat (decimal degrees), region, split, isolated, source.
SELECT id, lon, lat, region, split, isolated, source
FROM ground
WHERE lon BETWEEN $west AND $east AND lat BETWEEN $south AND $north
ORDER BY id
LIMIT $limit OFFSET $offset
