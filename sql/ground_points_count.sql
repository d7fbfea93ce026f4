-- ground_points_count: how many located ground images lie inside a lon/lat box (the
-- explorer's points layer pages through them).
--
-- Parameters: $west, $south, $east, $north (decimal degrees; the box, edges included).
-- Output columns: images.
SELECT count(*) AS images
FROM ground
WHERE lon BETWEEN $west AND $east AND lat BETWEEN $south AND $north
