-- hilbert_order: the rows of a table of points in the order of a Hilbert curve over a box,
-- so that consecutive rows lie near each other (an export's row groups then each cover a
-- small area, and a bounding-box filter skips most of them).
--
-- Parameters: $west, $south, $east, $north (decimal degrees: the box the curve fills; at
--   least a little wider than the points).
-- Reads: points (row_id UBIGINT, lon DOUBLE, lat DOUBLE), an Arrow table the caller
--   registers on the cursor.
-- Output columns: row_id, in curve order; rows without a position last; ties by row_id.
SELECT row_id
FROM points
ORDER BY ST_Hilbert(lon, lat,
                    {'min_x': $west, 'min_y': $south, 'max_x': $east, 'max_y': $north}::BOX_2D)
         NULLS LAST,
         row_id
