-- polygon_membership: which polygons of a layer hold each point: the join behind
-- `geovec evaluate --by LAYER` (per-place breakdowns: states, land-cover classes,
-- districts). Membership is planar in longitude/latitude, which is what such layers mean
-- (their edges are drawn in lon/lat); a point on a polygon's edge belongs to it
-- (ST_Intersects), so a point on the border of two polygons belongs to both.
--
-- Parameters: none (the points and polygons are Arrow tables).
-- Reads: points (point BIGINT, lon DOUBLE, lat DOUBLE; decimal degrees) and polygons
--   (polygon BIGINT, wkb BLOB: a polygon or multipolygon in lon/lat, its longitudes in
--   -180..180 or, for one across the antimeridian, moved east to run past 180), Arrow
--   tables the caller registers on the cursor.
-- Output columns: point, polygon (each pair once), ordered by point, polygon. Points in no
--   polygon, or without a position, are absent.
--
-- Antimeridian: each point is also tried 360 degrees east and west of itself, so a point
-- at longitude -179.5 falls in a polygon drawn from 179 to 181 (as a layer crossing the
-- antimeridian without being split is read by geovec.analyses.layers) and a polygon drawn
-- past -180 is met too; a polygon split at the antimeridian (as RFC 7946 asks) needs
-- nothing more.
-- Speed: DuckDB spatial's spatial join (ST_Intersects between the two tables) with the
-- points' three copies.
WITH shapes AS (
    SELECT polygon, ST_GeomFromWKB(wkb) AS geom FROM polygons
), placed AS (
    SELECT p.point, ST_Point(p.lon + s.shift, p.lat) AS geom
    FROM points AS p, (VALUES (-360.0), (0.0), (360.0)) AS s(shift)
    WHERE p.lon IS NOT NULL AND p.lat IS NOT NULL AND NOT isnan(p.lon) AND NOT isnan(p.lat)
)
SELECT DISTINCT placed.point, shapes.polygon
FROM placed
JOIN shapes ON ST_Intersects(shapes.geom, placed.geom)
ORDER BY placed.point, shapes.polygon
