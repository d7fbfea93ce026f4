-- containing_tiles: for each ground image of a region, the map tile whose footprint
-- contains it (the "true tile" of cross-view localisation).
--
-- Parameters:
--   $region  region of the ground images and tiles
--   $crs     a metric CRS for the region (local azimuthal equidistant proj string)
-- Output columns: id (ground image), tile_id, offset_m (distance from the tile centre).
-- Footprints are squares size_m metres on a side around each tile centre, in $crs.
-- Where footprints overlap, the tile with the nearest centre wins. Ground images outside
-- every footprint are absent from the output.
WITH queries AS (
    SELECT id, ST_Transform(ST_Point(lon, lat), 'EPSG:4326', $crs, always_xy := true) AS p
    FROM ground
    WHERE region IS NOT DISTINCT FROM $region
), tiles AS (
    SELECT id AS tile_id,
           ST_Transform(ST_Point(lon, lat), 'EPSG:4326', $crs, always_xy := true) AS c,
           size_m
    FROM map
    WHERE region IS NOT DISTINCT FROM $region
), footprints AS (
    SELECT tile_id, c,
           ST_MakeEnvelope(ST_X(c) - size_m / 2, ST_Y(c) - size_m / 2,
                           ST_X(c) + size_m / 2, ST_Y(c) + size_m / 2) AS footprint
    FROM tiles
)
SELECT q.id, f.tile_id, ST_Distance(q.p, f.c) AS offset_m
FROM queries AS q
JOIN footprints AS f ON ST_Intersects(f.footprint, q.p)
QUALIFY row_number() OVER (PARTITION BY q.id ORDER BY ST_Distance(q.p, f.c), f.tile_id) = 1
ORDER BY q.id
