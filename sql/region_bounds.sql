-- region_bounds: each region's located ground images and the box around them.
--
-- Parameters: none (reads ground).
-- Output columns: region, images, isolated (how many are), west, south, east, north
--   (decimal degrees).
SELECT region, count(*) AS images, count(*) FILTER (WHERE isolated) AS isolated,
       min(lon) AS west, min(lat) AS south, max(lon) AS east, max(lat) AS north
FROM ground
WHERE lon IS NOT NULL AND lat IS NOT NULL
GROUP BY region
ORDER BY region
