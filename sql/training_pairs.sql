-- training_pairs: the ground/overhead pairs a learned cross-view head may train on, and
-- why every other ground image is left out, so that a head never learns from what it is
-- evaluated on (the isolation rule of the paper, Section 4.3, applied to training).
--
-- Parameters:
--   $split     the training split (e.g. 'train'): rows of another split are left out.
--              NULL: every row that is not a test image.
--   $radius_m  metres: a pair whose position lies within this great-circle distance of
--              a test image is left out (the isolation radius, 250 m by default)
-- Test images: ground images marked isolated (the map protocol's queries) or of split
-- 'test'. A pair's position is its ground image's lon/lat, else its overhead image's.
-- Output columns: ground_id, overhead_id, excluded (NULL for a training pair; otherwise
--   why: 'isolated', 'test split', 'other split', 'no overhead image', 'near a test
--   image'), ordered by ground_id.
--
-- Speed: positions go onto the sphere (x, y, z in metres, R = 6,371,008.8 m) and into
-- cubes $radius_m wide; a pair is compared with the test images of the 27 cubes around
-- it only (a chord is never longer than its arc, so none within the radius is missed),
-- and the great-circle distance decides. The work grows with the pairs, not with pairs
-- times test images.
WITH pairs AS (
    SELECT g.id AS ground_id, o.id AS overhead_id, g.isolated, g.split,
           coalesce(g.lon, o.lon) AS lon, coalesce(g.lat, o.lat) AS lat
    FROM ground AS g
    LEFT JOIN overhead AS o ON o.id = coalesce(g.pair, g.id)
), reasons AS (
    SELECT *,
           CASE WHEN isolated THEN 'isolated'
                WHEN split = 'test' THEN 'test split'
                WHEN $split IS NOT NULL AND split IS DISTINCT FROM $split THEN 'other split'
                WHEN overhead_id IS NULL THEN 'no overhead image'
           END AS reason,
           coalesce(isolated, false) OR split = 'test' AS is_test
    FROM pairs
), sphere AS (
    SELECT ground_id, is_test, reason,
           6371008.8 * cos(radians(lat)) * cos(radians(lon)) AS x,
           6371008.8 * cos(radians(lat)) * sin(radians(lon)) AS y,
           6371008.8 * sin(radians(lat)) AS z
    FROM reasons
    WHERE lon IS NOT NULL AND lat IS NOT NULL
), cubes AS MATERIALIZED (
    SELECT *, floor(x / $radius_m)::BIGINT AS cx, floor(y / $radius_m)::BIGINT AS cy,
           floor(z / $radius_m)::BIGINT AS cz
    FROM sphere
), tests AS (
    SELECT * FROM cubes WHERE is_test
), probes AS (
    SELECT c.ground_id, c.x, c.y, c.z, c.cx + dx AS cx, c.cy + dy AS cy, c.cz + dz AS cz
    FROM cubes AS c, range(-1, 2) AS ox(dx), range(-1, 2) AS oy(dy), range(-1, 2) AS oz(dz)
    WHERE c.reason IS NULL
), near_test AS (
    SELECT DISTINCT p.ground_id
    FROM probes AS p
    JOIN tests AS t ON p.cx = t.cx AND p.cy = t.cy AND p.cz = t.cz
    WHERE 2 * 6371008.8 * asin(least(1.0, sqrt((p.x - t.x) ^ 2 + (p.y - t.y) ^ 2
                                                + (p.z - t.z) ^ 2) / (2 * 6371008.8)))
          <= $radius_m
)
SELECT r.ground_id, r.overhead_id,
       coalesce(r.reason, CASE WHEN n.ground_id IS NOT NULL THEN 'near a test image' END)
           AS excluded
FROM reasons AS r
LEFT JOIN near_test AS n USING (ground_id)
ORDER BY r.ground_id
