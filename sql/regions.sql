-- regions: the regions of the located ground images, with their counts and centre.
--
-- Parameters: none (reads ground).
-- Output columns: region, images (with a position), lon (mean, decimal degrees), lat
--   (mean), isolated. Ground images without a position (pair-only datasets) are left out:
--   they belong to no metric frame.
SELECT region, count(*) AS images, avg(lon) AS lon, avg(lat) AS lat,
       count(*) FILTER (WHERE isolated) AS isolated
FROM ground
WHERE lon IS NOT NULL AND lat IS NOT NULL
GROUP BY region
ORDER BY region
