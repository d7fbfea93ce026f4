-- geodesy: macros that every geovec DuckDB database has (loaded by
-- geovec.geodesy.register_sql_functions, beside the geodesic_m and in_footprint functions).
--
-- ecef_x/y/z(lon, lat): WGS84 Earth-centred, Earth-fixed coordinates in metres of a point
-- on the ellipsoid (lon, lat in decimal degrees; height 0). Straight-line (chord) distances
-- between them are never longer than the geodesic, so cubes of these coordinates bucket
-- points anywhere on Earth (no flat frame, no seam at the antimeridian or the poles).
-- Constants: semi-major axis 6,378,137 m, first eccentricity squared 0.00669437999014133
-- (flattening 1 / 298.257223563).
CREATE OR REPLACE MACRO wgs84_prime_vertical_m(lat) AS
    6378137.0 / sqrt(1 - 0.00669437999014133 * sin(radians(lat)) ^ 2);
CREATE OR REPLACE MACRO ecef_x(lon, lat) AS
    wgs84_prime_vertical_m(lat) * cos(radians(lat)) * cos(radians(lon));
CREATE OR REPLACE MACRO ecef_y(lon, lat) AS
    wgs84_prime_vertical_m(lat) * cos(radians(lat)) * sin(radians(lon));
CREATE OR REPLACE MACRO ecef_z(lon, lat) AS
    wgs84_prime_vertical_m(lat) * (1 - 0.00669437999014133) * sin(radians(lat));
