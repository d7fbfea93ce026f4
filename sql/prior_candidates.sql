-- prior_candidates: for each query's prior position (a GPS fix), the candidates that lie
-- within $radius_m metres of it: the spatial prefilter of a GPS prior (VIGOR's noisy-GPS
-- search), run before any feature vector is compared. Distances are WGS84 geodesics
-- (geodesic_m), exact anywhere on Earth; candidates and priors may lie in any region.
--
-- Parameters:
--   $radius_m        radius of the prior circle, metres (> 0)
--   $slack           geovec.geodesy.chord_slack($radius_m): the largest geodesic / chord
--                    ratio of two points whose chord is at most the radius
--   $lons, $lats     the priors' longitudes and latitudes, decimal degrees (lists, one
--                    per query, in the queries' order; NULL: no prior, no candidate)
--   $candidate_lons, $candidate_lats   the candidates' positions, decimal degrees (lists,
--                    in the candidates' order; NULL: no position, never a candidate)
-- Output columns: query (0-based position in $lons), candidate (0-based position in
--   $candidate_lons), ordered by query, candidate. Queries without a candidate are absent.
--
-- Speed: priors and candidates go into cubes of their Earth-centred coordinates
-- (ecef_x/y/z) as wide as the radius. A chord is never longer than the geodesic, so every
-- candidate within the radius lies in one of the 27 cubes around its prior's; of those,
-- only the candidates whose chord is within the radius are kept, and only those whose
-- chord times $slack exceeds it (a thin shell at the circle's edge) need a geodesic.
WITH priors AS (
    SELECT unnest($lons) AS lon, unnest($lats) AS lat,
           unnest(range(len($lons))) AS query
), candidates AS (
    SELECT unnest($candidate_lons) AS lon, unnest($candidate_lats) AS lat,
           unnest(range(len($candidate_lons))) AS candidate
), placed AS MATERIALIZED (
    SELECT candidate, lon, lat,
           ecef_x(lon, lat) AS x, ecef_y(lon, lat) AS y, ecef_z(lon, lat) AS z
    FROM candidates
    WHERE lon IS NOT NULL AND lat IS NOT NULL AND NOT isnan(lon) AND NOT isnan(lat)
), cubes AS MATERIALIZED (
    SELECT *, floor(x / $radius_m)::BIGINT AS cx, floor(y / $radius_m)::BIGINT AS cy,
           floor(z / $radius_m)::BIGINT AS cz
    FROM placed
), fixes AS (
    SELECT query, lon, lat,
           ecef_x(lon, lat) AS x, ecef_y(lon, lat) AS y, ecef_z(lon, lat) AS z
    FROM priors
    WHERE lon IS NOT NULL AND lat IS NOT NULL AND NOT isnan(lon) AND NOT isnan(lat)
), probes AS (
    SELECT f.*, floor(f.x / $radius_m)::BIGINT + dx AS cx,
           floor(f.y / $radius_m)::BIGINT + dy AS cy, floor(f.z / $radius_m)::BIGINT + dz AS cz
    FROM fixes AS f, range(-1, 2) AS ox(dx), range(-1, 2) AS oy(dy), range(-1, 2) AS oz(dz)
), chords AS (
    SELECT p.query, c.candidate, p.lon, p.lat, c.lon AS c_lon, c.lat AS c_lat,
           sqrt((p.x - c.x) ^ 2 + (p.y - c.y) ^ 2 + (p.z - c.z) ^ 2) AS chord_m
    FROM probes AS p
    JOIN cubes AS c USING (cx, cy, cz)
), final AS (
    SELECT query, candidate
    FROM chords
    WHERE chord_m <= $radius_m
      AND CASE WHEN chord_m * $slack <= $radius_m THEN true
               ELSE geodesic_m(lon, lat, c_lon, c_lat) <= $radius_m END
)
SELECT * FROM final ORDER BY query, candidate
