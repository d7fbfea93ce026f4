-- containing_tiles: for each given point of a region, the map tile whose footprint
-- contains it (the "true tile" of cross-view localisation). Serves both the evaluation
-- (every ground image of a region) and the localisation of one photo.
--
-- Parameters:
--   $region  region of the tiles
--   $crs     a metric CRS for the region (local azimuthal equidistant proj string)
--   $ids     point identifiers (list of text)
--   $lons    their longitudes, decimal degrees (list, same order)
--   $lats    their latitudes, decimal degrees (list, same order)
-- Output columns: id (point), tile_id, offset_m (metres from the tile centre).
-- Footprints are squares size_m metres on a side around each tile centre, in $crs.
-- Where footprints overlap, the tile with the nearest centre wins. Points outside
-- every footprint are absent from the output.
WITH points AS (
    SELECT unnest($ids) AS id, unnest($lons) AS lon, unnest($lats) AS lat
), queries AS (
    SELECT id, ST_Transform(ST_Point(lon, lat), 'EPSG:4326', $crs, always_xy := true) AS p
    FROM points
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
