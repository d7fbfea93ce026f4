-- isolated_images: which ground images have no other ground image within $radius_m metres
-- (the paper's test set: Charleston, 737 of 6,756 images).
--
-- Parameters:
--   $radius_m  isolation radius in metres
--   $crs       a metric CRS for the region (geovec passes a local azimuthal equidistant
--              proj string centred on the region's images)
--   $region    only ground images of this region (those without a position are left out)
-- Output columns: id, isolated (BOOLEAN), nearest_m (distance to the nearest other image
--   when it was measured: for images alone in their grid cell; NULL for images that share
--   a cell, which are closer than the radius to another image by construction).
--
-- Speed: points are bucketed into square cells $radius_m / sqrt(2) wide, whose diagonal is
-- the radius, so two images in one cell are never isolated and need no distance. Only
-- images alone in their cell are compared, with the points of the 5 x 5 cells around
-- them (an equi-join on cell keys): the work grows with the number of lonely images, not
-- with the square of the points nor with the number of close pairs.
WITH metric AS (
    SELECT id,
           ST_Transform(ST_Point(lon, lat), 'EPSG:4326', $crs, always_xy := true) AS p
    FROM ground
    WHERE region IS NOT DISTINCT FROM $region
      AND lon IS NOT NULL AND lat IS NOT NULL  -- pair-only images have no position
), cells AS MATERIALIZED (
    SELECT id, ST_X(p) AS x, ST_Y(p) AS y,
           floor(ST_X(p) / ($radius_m / sqrt(2)))::BIGINT AS cx,
           floor(ST_Y(p) / ($radius_m / sqrt(2)))::BIGINT AS cy
    FROM metric
), occupancy AS (
    SELECT *, count(*) OVER (PARTITION BY cx, cy) AS in_cell FROM cells
), lonely AS (
    SELECT id, x, y, cx, cy FROM occupancy WHERE in_cell = 1
), probes AS (
    SELECT l.id, l.x, l.y, l.cx + dx AS cx, l.cy + dy AS cy
    FROM lonely AS l, range(-2, 3) AS ox(dx), range(-2, 3) AS oy(dy)
    WHERE dx <> 0 OR dy <> 0
), nearest AS (
    SELECT p.id, min(sqrt((p.x - c.x) ^ 2 + (p.y - c.y) ^ 2)) AS nearest_m
    FROM probes AS p
    JOIN cells AS c ON p.cx = c.cx AND p.cy = c.cy
    GROUP BY p.id
)
SELECT o.id,
       o.in_cell = 1 AND coalesce(n.nearest_m > $radius_m, true) AS isolated,
       CASE WHEN o.in_cell = 1 THEN n.nearest_m END AS nearest_m
FROM occupancy AS o
LEFT JOIN nearest AS n USING (id)
ORDER BY o.id
