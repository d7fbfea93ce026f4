-- isolated_images: which ground images have no other ground image within $radius_m metres
-- (the paper's test set: Charleston, 737 of 6,756 images). Distances are WGS84 geodesics
-- (geodesic_m), so the answer is exact anywhere on Earth, whatever the regions: every
-- located ground image is compared with every other, in one region, in several or in none.
--
-- Parameters (geovec.geodesy.isolation_cells gives the last three for a radius):
--   $radius_m  isolation radius in metres
--   $cell_m    side of the bucketing cubes, metres: any two points in one cube are within
--              the radius (the cube's diagonal, stretched by the geodesic / chord bound, is it)
--   $cells     cubes to probe on each side of a point so that every point within the
--              radius is probed (2 for radii up to thousands of kilometres)
--   $slack     the largest geodesic / chord ratio of two probed points (> 1)
-- Output columns: id, isolated (BOOLEAN), nearest_m (geodesic metres to the nearest other
--   image, for images alone in their cube and when that image lies within the probed
--   cubes' reach; NULL for images that share a cube, which are within the radius of
--   another image by construction), ordered by id. Images without a position are absent.
--
-- Speed: points go into cubes of their Earth-centred coordinates (ecef_x/y/z). Images
-- sharing a cube are never isolated and need no distance. Only images alone in their cube
-- are compared with the points of the cubes around them (an equi-join on cube keys), and
-- only the candidates whose chord can be the nearest geodesic (chord <= the smallest chord
-- x $slack) get a geodesic: the work grows with the lonely images, not with the square of
-- the points nor with the number of close pairs.
WITH located AS (
    SELECT id, lon, lat, ecef_x(lon, lat) AS x, ecef_y(lon, lat) AS y, ecef_z(lon, lat) AS z
    FROM ground
    WHERE isfinite(lon) AND isfinite(lat)  -- pair-only images have no position (NULL)
), cubes AS MATERIALIZED (
    SELECT *, floor(x / $cell_m)::BIGINT AS cx, floor(y / $cell_m)::BIGINT AS cy,
           floor(z / $cell_m)::BIGINT AS cz
    FROM located
), crowded AS (
    SELECT cx, cy, cz FROM cubes GROUP BY ALL HAVING count(*) > 1
), lonely AS (
    SELECT * FROM cubes ANTI JOIN crowded USING (cx, cy, cz)
), probes AS (
    SELECT l.*, l.cx + dx AS px, l.cy + dy AS py, l.cz + dz AS pz
    FROM lonely AS l, range(-$cells, $cells + 1) AS ox(dx),
         range(-$cells, $cells + 1) AS oy(dy), range(-$cells, $cells + 1) AS oz(dz)
    WHERE dx <> 0 OR dy <> 0 OR dz <> 0
), chords AS MATERIALIZED (
    SELECT p.id, p.lon, p.lat, c.lon AS other_lon, c.lat AS other_lat,
           sqrt((p.x - c.x) ^ 2 + (p.y - c.y) ^ 2 + (p.z - c.z) ^ 2) AS chord_m
    FROM probes AS p
    JOIN cubes AS c ON p.px = c.cx AND p.py = c.cy AND p.pz = c.cz
), nearest_chord AS (
    SELECT id, min(chord_m) AS chord_m FROM chords GROUP BY id
), candidates AS (
    SELECT c.* FROM chords AS c JOIN nearest_chord AS n USING (id)
    WHERE c.chord_m <= n.chord_m * $slack
), nearest AS (
    SELECT id, min(geodesic_m(lon, lat, other_lon, other_lat)) AS nearest_m
    FROM candidates
    GROUP BY id
), final AS (
    SELECT c.id,
           l.id IS NOT NULL AND coalesce(n.nearest_m > $radius_m, true) AS isolated,
           -- exact when no unprobed point can be nearer: one is more than $cells cubes
           -- away along an axis, so its chord, and so its geodesic, is longer
           CASE WHEN n.nearest_m <= $cells * $cell_m THEN n.nearest_m END AS nearest_m
    FROM cubes AS c
    LEFT JOIN lonely AS l USING (id)
    LEFT JOIN nearest AS n USING (id)
)
SELECT * FROM final ORDER BY id
