-- regions: the regions of a view's images, with their counts and centre.
--
-- Parameters: none (reads ground).
-- Output columns: region, images, lon (mean, decimal degrees), lat (mean), isolated.
SELECT region, count(*) AS images, avg(lon) AS lon, avg(lat) AS lat,
       count(*) FILTER (WHERE isolated) AS isolated
FROM ground
GROUP BY region
ORDER BY region
