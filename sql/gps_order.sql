-- gps_order: training pairs in the order of a Z-order (Morton) curve over Earth-centred
-- cubes, so that consecutive pairs were taken near each other: cut into batches, pairs
-- within a few tiles of each other share a batch and are each other's in-batch negatives
-- (the GPS sampling of Sample4Geo, Deuser et al. 2023), as `geovec train --negatives gps`
-- builds its batches. Valid anywhere on Earth: no flat frame, no seam at the antimeridian
-- or the poles (the cubes of sql/isolated_images.sql).
--
-- Parameters:
--   $cell_m                     side of the cubes, metres (at least 10: the cube indices,
--                               offset by 2^20, then fit in 21 bits each)
--   $shift_x, $shift_y, $shift_z  metres (each in [0, $cell_m)): the cube grid moved by this
--                               vector, a new one each epoch, so that the cube edges (and
--                               with them the batch edges) fall elsewhere every epoch
-- Reads: pairs (position BIGINT, lon DOUBLE, lat DOUBLE; decimal degrees), an Arrow table
--   the caller registers on the cursor: the pairs to order and each one's position.
-- Output columns: position, in curve order (ties, the pairs of one cube, by position).
--   Pairs without a position are left out (the caller batches them among themselves).
--
-- Speed: one sort of the pairs; the key interleaves the bits of the three cube indices.
WITH cubes AS (
    SELECT position,
           floor((ecef_x(lon, lat) + $shift_x) / $cell_m)::BIGINT + 1048576 AS cx,
           floor((ecef_y(lon, lat) + $shift_y) / $cell_m)::BIGINT + 1048576 AS cy,
           floor((ecef_z(lon, lat) + $shift_z) / $cell_m)::BIGINT + 1048576 AS cz
    FROM pairs
    WHERE lon IS NOT NULL AND lat IS NOT NULL AND NOT isnan(lon) AND NOT isnan(lat)
), keyed AS (
    SELECT position,
           list_sum([(((cx >> b) & 1) << (3 * b + 2)) + (((cy >> b) & 1) << (3 * b + 1))
                     + (((cz >> b) & 1) << (3 * b)) FOR b IN range(21)])::UBIGINT AS curve
    FROM cubes
)
SELECT position FROM keyed ORDER BY curve, position
