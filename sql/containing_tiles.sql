-- containing_tiles: for each given point, the map tile whose footprint contains it (the
-- "true tile" of cross-view localisation). Serves the evaluation (every isolated ground
-- image of a region), the localisation of one photo and the explorer's click on the map.
--
-- A footprint is the north-up square of size_m metres around the tile's centre in that
-- tile's own azimuthal equidistant frame, the frame `geovec aerial` cuts it in
-- (in_footprint, geovec.geodesy): exact anywhere on Earth, whatever the region's extent.
-- Where footprints overlap, the tile with the nearest centre (geodesic) wins, then the
-- smallest tile id. Points outside every footprint are absent from the output.
--
-- Parameters:
--   $region       region of the tiles (NULL: tiles without a region)
--   $all_regions  true: tiles of every region (then $region is not used)
--   $ids          point identifiers (list of text)
--   $lons         their longitudes, decimal degrees (list, same order)
--   $lats         their latitudes, decimal degrees (list, same order)
-- Output columns: id (point), tile_id, offset_m (geodesic metres from the tile centre),
--   ordered by id.
--
-- Speed: tile centres and points go into cubes of their Earth-centred coordinates, as wide
-- as the largest half-diagonal of a tile; a point is tested only against the tiles of the
-- 27 cubes around it whose chord is within that tile's half-diagonal (a chord is never
-- longer than the geodesic).
WITH points AS (
    SELECT unnest($ids) AS id, unnest($lons) AS lon, unnest($lats) AS lat
), tiles AS MATERIALIZED (
    SELECT id AS tile_id, lon, lat, size_m,
           ecef_x(lon, lat) AS x, ecef_y(lon, lat) AS y, ecef_z(lon, lat) AS z
    FROM map
    WHERE ($all_regions OR region IS NOT DISTINCT FROM $region)
      AND isfinite(lon) AND isfinite(lat)  -- NULL and NaN too (DuckDB orders NaN highest)
      AND isfinite(size_m) AND size_m > 0
), cube AS (
    SELECT max(size_m) / sqrt(2) AS cell_m FROM tiles
), tile_cubes AS (
    SELECT t.*, floor(x / cell_m)::BIGINT AS cx, floor(y / cell_m)::BIGINT AS cy,
           floor(z / cell_m)::BIGINT AS cz
    FROM tiles AS t, cube
), queries AS (
    SELECT p.id, p.lon, p.lat,
           ecef_x(p.lon, p.lat) AS x, ecef_y(p.lon, p.lat) AS y, ecef_z(p.lon, p.lat) AS z,
           cube.cell_m
    FROM points AS p, cube
    WHERE isfinite(p.lon) AND isfinite(p.lat)
), probes AS (
    SELECT q.*, floor(q.x / cell_m)::BIGINT + dx AS cx, floor(q.y / cell_m)::BIGINT + dy AS cy,
           floor(q.z / cell_m)::BIGINT + dz AS cz
    FROM queries AS q, range(-1, 2) AS ox(dx), range(-1, 2) AS oy(dy), range(-1, 2) AS oz(dz)
), candidates AS (
    SELECT p.id, p.lon, p.lat, t.tile_id, t.lon AS tile_lon, t.lat AS tile_lat, t.size_m
    FROM probes AS p
    JOIN tile_cubes AS t USING (cx, cy, cz)
    WHERE sqrt((p.x - t.x) ^ 2 + (p.y - t.y) ^ 2 + (p.z - t.z) ^ 2) <= t.size_m / sqrt(2)
), final AS (
    SELECT id, tile_id, geodesic_m(tile_lon, tile_lat, lon, lat) AS offset_m
    FROM candidates
    WHERE in_footprint(tile_lon, tile_lat, size_m, lon, lat)
    QUALIFY row_number() OVER (PARTITION BY id ORDER BY offset_m, tile_id) = 1
)
SELECT * FROM final ORDER BY id
