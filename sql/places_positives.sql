-- places_positives: for each ground image of the queries' split, the ground images of the
-- database split within $radius_m metres of it: the positives of visual place recognition
-- (a query is a hit at N when one of its N nearest database images by feature is one).
-- Distances are WGS84 geodesics (geodesic_m), exact anywhere on Earth; the VPR benchmark
-- code measures Euclidean metres in UTM, within centimetres of the geodesic at 25 m.
--
-- Parameters:
--   $query_split     split of the queries (text; VPR: 'queries')
--   $database_split  split of the database images (text; VPR: 'database')
--   $radius_m        the threshold, metres (> 0; VPR: 25)
-- Output columns: query_id, database_id, distance_m (geodesic metres, <= $radius_m),
--   ordered by query_id, distance_m, database_id. Queries without a positive are absent;
--   images without a position are neither queries nor positives.
--
-- Speed: database images go into cubes of their Earth-centred coordinates (ecef_x/y/z)
-- as wide as the radius (and a millimetre, against rounding). A chord is never longer
-- than the geodesic, so every database image within the radius of a query lies in the
-- 27 cubes around it, at a chord of at most the radius: an equi-join on cube keys, and a
-- geodesic only for those, whatever the number of images.
WITH reach AS (
    SELECT $radius_m + 0.001 AS cell_m
), db AS MATERIALIZED (
    SELECT g.id, g.lon, g.lat,
           ecef_x(g.lon, g.lat) AS x, ecef_y(g.lon, g.lat) AS y, ecef_z(g.lon, g.lat) AS z,
           reach.cell_m
    FROM ground AS g, reach
    WHERE g.split = $database_split AND g.lon IS NOT NULL AND g.lat IS NOT NULL
), db_cubes AS (
    SELECT *, floor(x / cell_m)::BIGINT AS cx, floor(y / cell_m)::BIGINT AS cy,
           floor(z / cell_m)::BIGINT AS cz
    FROM db
), queries AS (
    SELECT g.id, g.lon, g.lat,
           ecef_x(g.lon, g.lat) AS x, ecef_y(g.lon, g.lat) AS y, ecef_z(g.lon, g.lat) AS z,
           reach.cell_m
    FROM ground AS g, reach
    WHERE g.split = $query_split AND g.lon IS NOT NULL AND g.lat IS NOT NULL
), probes AS (
    SELECT q.*, floor(q.x / cell_m)::BIGINT + dx AS cx, floor(q.y / cell_m)::BIGINT + dy AS cy,
           floor(q.z / cell_m)::BIGINT + dz AS cz
    FROM queries AS q, range(-1, 2) AS ox(dx), range(-1, 2) AS oy(dy), range(-1, 2) AS oz(dz)
), candidates AS (
    SELECT p.id AS query_id, p.lon, p.lat, d.id AS database_id, d.lon AS db_lon,
           d.lat AS db_lat
    FROM probes AS p
    JOIN db_cubes AS d USING (cx, cy, cz)
    WHERE sqrt((p.x - d.x) ^ 2 + (p.y - d.y) ^ 2 + (p.z - d.z) ^ 2) <= p.cell_m
), measured AS (
    SELECT query_id, database_id, geodesic_m(lon, lat, db_lon, db_lat) AS distance_m
    FROM candidates
)
SELECT * FROM measured WHERE distance_m <= $radius_m ORDER BY query_id, distance_m, database_id
