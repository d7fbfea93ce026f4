-- isolated_images: which ground images have no other ground image within $radius_m metres
-- (the paper's test set: Charleston, 737 of 6,756 images).
--
-- Parameters:
--   $radius_m  isolation radius in metres
--   $crs       a metric CRS for the region (geovec passes a local azimuthal equidistant
--              proj string centred on the region's images)
--   $region    only ground images of this region
-- Output columns: id, isolated (BOOLEAN), neighbours (images within the radius),
--   nearest_m (distance to the nearest one within the radius, NULL when none).
--
-- Speed: points are bucketed into square cells $radius_m wide and each is compared only
-- with the points of its own and the 8 surrounding cells (an equi-join on cell keys), so
-- the work grows with the number of close pairs, not with the square of the points.
WITH metric AS (
    SELECT id,
           ST_Transform(ST_Point(lon, lat), 'EPSG:4326', $crs, always_xy := true) AS p
    FROM ground
    WHERE region IS NOT DISTINCT FROM $region
), cells AS (
    SELECT id, ST_X(p) AS x, ST_Y(p) AS y,
           floor(ST_X(p) / $radius_m)::BIGINT AS cx,
           floor(ST_Y(p) / $radius_m)::BIGINT AS cy
    FROM metric
), probes AS (
    SELECT c.id, c.x, c.y, c.cx + dx AS cx, c.cy + dy AS cy
    FROM cells AS c, range(-1, 2) AS ox(dx), range(-1, 2) AS oy(dy)
), close_pairs AS (
    SELECT p.id, sqrt((p.x - c.x) ^ 2 + (p.y - c.y) ^ 2) AS d
    FROM probes AS p
    JOIN cells AS c ON p.cx = c.cx AND p.cy = c.cy AND p.id <> c.id
    WHERE abs(p.x - c.x) <= $radius_m AND abs(p.y - c.y) <= $radius_m
)
SELECT cells.id,
       count(d) FILTER (WHERE d <= $radius_m) = 0 AS isolated,
       count(d) FILTER (WHERE d <= $radius_m) AS neighbours,
       min(d) FILTER (WHERE d <= $radius_m) AS nearest_m
FROM cells
LEFT JOIN close_pairs USING (id)
GROUP BY cells.id
ORDER BY cells.id
