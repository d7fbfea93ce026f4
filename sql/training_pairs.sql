-- training_pairs: the ground/overhead pairs a learned cross-view head may train on, and
-- why every other ground image is left out, so that a head never learns from what it is
-- evaluated on (the isolation rule of the paper, Section 4.3, applied to training).
--
-- Parameters:
--   $split     the training split (e.g. 'train'): rows of another split are left out.
--              NULL: every row that is not a test image.
--   $radius_m  metres: a pair whose position lies within this geodesic distance (WGS84,
--              geodesic_m) of a test image is left out (the isolation radius, 250 m by
--              default)
-- Test images: ground images marked isolated (the map protocol's queries) or of split
-- 'test'. A pair's position is its ground image's lon/lat, else its overhead image's.
-- Output columns: ground_id, overhead_id, excluded (NULL for a training pair; otherwise
--   why: 'isolated', 'test split', 'other split', 'no overhead image', 'near a test
--   image'), lon, lat (the pair's position, decimal degrees; NULL: none), ordered by
--   ground_id.
--
-- Speed: positions go into cubes $radius_m wide of their Earth-centred coordinates
-- (ecef_x/y/z); a pair is compared with the test images of the 27 cubes around it only (a
-- chord is never longer than the geodesic, so none within the radius is missed), and the
-- geodesic decides. The work grows with the pairs, not with pairs times test images.
WITH pairs AS (
    SELECT g.id AS ground_id, o.id AS overhead_id, g.isolated, g.split,
           coalesce(g.lon, o.lon) AS lon, coalesce(g.lat, o.lat) AS lat
    FROM ground AS g
    LEFT JOIN overhead AS o ON o.id = g.pair  -- the one link: ground.pair names its aerial
), reasons AS (
    SELECT *,
           CASE WHEN isolated THEN 'isolated'
                WHEN split = 'test' THEN 'test split'
                WHEN $split IS NOT NULL AND split IS DISTINCT FROM $split THEN 'other split'
                WHEN overhead_id IS NULL THEN 'no overhead image'
           END AS reason,
           coalesce(isolated, false) OR split = 'test' AS is_test
    FROM pairs
), cubes AS MATERIALIZED (
    SELECT ground_id, is_test, reason, lon, lat,
           ecef_x(lon, lat) AS x, ecef_y(lon, lat) AS y, ecef_z(lon, lat) AS z,
           floor(ecef_x(lon, lat) / $radius_m)::BIGINT AS cx,
           floor(ecef_y(lon, lat) / $radius_m)::BIGINT AS cy,
           floor(ecef_z(lon, lat) / $radius_m)::BIGINT AS cz
    FROM reasons
    WHERE isfinite(lon) AND isfinite(lat)
), tests AS (
    SELECT * FROM cubes WHERE is_test
), probes AS (
    SELECT c.ground_id, c.lon, c.lat, c.x, c.y, c.z,
           c.cx + dx AS cx, c.cy + dy AS cy, c.cz + dz AS cz
    FROM cubes AS c, range(-1, 2) AS ox(dx), range(-1, 2) AS oy(dy), range(-1, 2) AS oz(dz)
    WHERE c.reason IS NULL
), near_test AS (
    SELECT DISTINCT p.ground_id
    FROM probes AS p
    JOIN tests AS t ON p.cx = t.cx AND p.cy = t.cy AND p.cz = t.cz
    WHERE sqrt((p.x - t.x) ^ 2 + (p.y - t.y) ^ 2 + (p.z - t.z) ^ 2) <= $radius_m
      AND geodesic_m(p.lon, p.lat, t.lon, t.lat) <= $radius_m
)
SELECT r.ground_id, r.overhead_id,
       coalesce(r.reason, CASE WHEN n.ground_id IS NOT NULL THEN 'near a test image' END)
           AS excluded,
       r.lon, r.lat
FROM reasons AS r
LEFT JOIN near_test AS n USING (ground_id)
ORDER BY r.ground_id
