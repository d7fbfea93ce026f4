"""evaluate --by LAYER: every metric per polygon value, against an independent recomputation
(float64 numpy ranks, pyproj geodesics, shapely membership with the antimeridian polygon
split as RFC 7946 asks, integer top-p % cutoffs) on the map, pairs and places protocols."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import MultiPolygon, box, mapping
from typer.testing import CliRunner

import geovec
from geovec.analyses.layers import read_layer
from geovec.cli import app
from geovec.errors import GeovecError, LayerError
from tests.stores import add_rows

GEOD = Geod(ellps="WGS84")
THRESHOLDS = (25.0, 100.0, 250.0, 500.0, 1000.0, 5000.0)
A = (10.0, 45.0)  # region a's south-west tile centre
B_LAT = -17.0  # region b: tiles across the antimeridian
DLAT = 480 / 111_132


def _dlon(lat):
    return 480 / (111_320 * np.cos(np.radians(lat)))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Region a: 5 x 5 tiles near (10, 45); region b: 4 x 4 tiles across the antimeridian at
    17 S. A query within 100 m of every tile centre (isolated, split test, its aerial at
    the same place), its feature its tile's plus noise; two pair-only queries (aerial
    positions only) and one with no position at all; places rows near region a."""
    rng = np.random.default_rng(7)
    tiles, ground, overhead = [], [], []
    centres = [("a", A[0] + c * _dlon(A[1]), A[1] + r * DLAT) for r in range(5) for c in range(5)]
    centres += [
        ("b", 180 + (c - 1.5) * _dlon(B_LAT), B_LAT + (r - 1.5) * DLAT)
        for r in range(4)
        for c in range(4)
    ]
    tile_vec = rng.normal(size=(len(centres), 3)).astype(np.float32)
    for i, (region, lon, lat) in enumerate(centres):
        lon = (lon + 180) % 360 - 180
        tiles.append(({"id": f"t{i:02d}", "region": region, "lon": lon, "lat": lat,
                       "size_m": 480.0}, tile_vec[i]))  # fmt: skip
        east, north = rng.uniform(-100, 100, 2)
        q_lon = (lon + east / (111_320 * np.cos(np.radians(lat))) + 180) % 360 - 180
        q_lat = lat + north / 111_132
        row = {"id": f"g{i:02d}", "region": region, "lon": q_lon, "lat": q_lat,
               "isolated": True, "split": "test", "pair": f"o{i:02d}"}  # fmt: skip
        ground.append((row, tile_vec[i] + rng.normal(0, 0.8, 3)))
        aerial = {"id": f"o{i:02d}", "region": region, "lon": q_lon, "lat": q_lat, "split": "test"}
        overhead.append((aerial, tile_vec[i] + rng.normal(0, 0.8, 3)))
    for j, (lon, lat) in enumerate([centres[3][1:], centres[30][1:], (None, None)]):
        lon = None if lon is None else (lon + 180) % 360 - 180
        row = {"id": f"u{j}", "region": "a", "lon": None, "lat": None, "split": "test",
               "pair": f"ou{j}"}  # fmt: skip
        ground.append((row, rng.normal(size=3)))
        overhead.append(({"id": f"ou{j}", "region": "a", "lon": lon, "lat": lat,
                          "split": "test"}, rng.normal(size=3)))  # fmt: skip
    db_vec = rng.normal(size=(60, 3))
    db_pos = np.column_stack(
        [A[0] + rng.uniform(0, 4, 60) * _dlon(A[1]), A[1] + rng.uniform(0, 4, 60) * DLAT]
    )
    for k in range(60):
        row = {"id": f"d{k:02d}", "region": "a", "lon": db_pos[k, 0], "lat": db_pos[k, 1],
               "isolated": False, "split": "database"}  # fmt: skip
        ground.append((row, db_vec[k]))
    source = rng.integers(0, 60, 20)
    for k, s in enumerate(source):
        shift = rng.uniform(-30, 30, 2) / 111_132
        row = {"id": f"p{k:02d}", "region": "a", "lon": db_pos[s, 0] + shift[0],
               "lat": db_pos[s, 1] + shift[1], "isolated": False, "split": "queries"}  # fmt: skip
        ground.append((row, db_vec[s] + rng.normal(0, 0.7, 3)))
    store = geovec.open(tmp_path_factory.mktemp("breakdowns") / "db")
    for view, items in (("ground", ground), ("overhead", overhead), ("map", tiles)):
        vectors = np.array([v for _, v in items], np.float32)
        add_rows(store, view, [r for r, _ in items], {"f": vectors})
    return store


# the layer: values named by `name` (not its first field), one value of two polygons, one
# polygon across the antimeridian drawn the short way round, one overlapping two others
X = [A[0] + (c - 0.5) * _dlon(A[1]) for c in range(6)]  # tile column edges of region a
Y = [A[1] + (r - 0.5) * DLAT for r in range(6)]
FIJI_W, FIJI_E = 180 - 2 * _dlon(B_LAT), -180 + 2 * _dlon(B_LAT)
FIJI_S, FIJI_N = B_LAT - 2 * DLAT, B_LAT
PLACES = [
    ("north", box(X[0], Y[3], X[5], Y[5])),
    ("south-west", box(X[0], Y[0], X[2], Y[3])),
    ("north", box(FIJI_W, FIJI_N, 179.999, FIJI_N + 2 * DLAT)),  # b's north-west quarter
    ("centre", box(X[1], Y[2], X[3], Y[4])),
]
FIJI_RING = [
    [FIJI_W, FIJI_S],
    [FIJI_E, FIJI_S],
    [FIJI_E, FIJI_N],
    [FIJI_W, FIJI_N],
    [FIJI_W, FIJI_S],
]
FIJI_SPLIT = MultiPolygon([box(FIJI_W, FIJI_S, 180, FIJI_N), box(-180, FIJI_S, FIJI_E, FIJI_N)])


def _feature(i, name, geometry):
    return {"type": "Feature", "properties": {"id": i, "kind": f"k{i}", "name": name},
            "geometry": geometry}  # fmt: skip


@pytest.fixture(scope="module")
def layer(tmp_path_factory):
    features = [_feature(i, n, mapping(p)) for i, (n, p) in enumerate(PLACES)]
    features.insert(2, _feature(9, "fiji", {"type": "Polygon", "coordinates": [FIJI_RING]}))
    path = tmp_path_factory.mktemp("layer") / "places.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


REFERENCE = [(n, p) for n, p in PLACES[:2]] + [("fiji", FIJI_SPLIT)] + PLACES[2:]


def _groups(lonlat):
    """{value: query indices} by shapely, in the layer's order, then outside, no position."""
    values = list(dict.fromkeys(n for n, _ in REFERENCE))
    located = np.isfinite(lonlat).all(axis=1)
    points = shapely.points(np.where(located[:, None], lonlat, 0))
    held = {v: np.zeros(len(lonlat), bool) for v in values}
    for name, polygon in REFERENCE:
        held[name] |= located & shapely.covers(polygon, points)
    groups = {v: np.flatnonzero(m) for v, m in held.items() if m.any()}
    inside = np.any([m for m in held.values()], axis=0)
    for name, chosen in (("outside", located & ~inside), ("no position", ~located)):
        if chosen.any():
            groups[name] = np.flatnonzero(chosen)
    return groups


def _metres(lon1, lat1, lon2, lat2):
    out = np.full(len(lon1), np.nan)
    ok = np.isfinite(lon1) & np.isfinite(lat1) & np.isfinite(lon2) & np.isfinite(lat2)
    out[ok] = GEOD.inv(lon1[ok], lat1[ok], lon2[ok], lat2[ok])[2]
    return out


def _cross_view_metrics(rank, n, error, curve=False):
    cut = np.maximum(1, n // 100)
    out = {
        "queries": len(rank),
        "top_1_percent": float(np.mean(rank < cut)),
        "recall": {str(k): float(np.mean(rank < k)) for k in (1, 5, 10)},
    }
    if curve:
        points = [np.mean(rank < (np.maximum(1, (n * p) // 100) if p else 0)) for p in range(101)]
        out["chance_top_1_percent"] = float(np.mean(cut / n))
        out["area_under_curve"] = float(np.mean(points))
        # random ranking: at p % the first max(1, N p // 100) of N hold the true tile
        chance = [np.mean(np.minimum(np.maximum(1, (n * p) // 100), n) / n) if p else 0.0
                  for p in range(101)]  # fmt: skip
        out["chance_area_under_curve"] = float(np.mean(chance))
        out["median_rank"] = float(np.median(rank))
    known = error[np.isfinite(error)]
    out["median_error_m"] = float(np.median(known)) if len(known) else None
    out["within_m"] = {
        f"{t:.0f}": float(np.mean(known <= t)) if len(known) else None for t in THRESHOLDS
    }
    out["queries_without_error"] = int(len(error) - len(known))
    return out


def _read(store, view, where=None):
    table = store.read(view, ["id", "region", "lon", "lat", "f"], where)
    rows = table.to_pylist()
    lonlat = np.array([[np.nan if r["lon"] is None else r["lon"],
                        np.nan if r["lat"] is None else r["lat"]] for r in rows])  # fmt: skip
    return rows, lonlat, np.array([r["f"] for r in rows], np.float64)


def _flat(metrics):
    return {
        f"{k}.{s}" if isinstance(v, dict) else k: w
        for k, v in metrics.items()
        for s, w in (v.items() if isinstance(v, dict) else [(None, v)])
    }


def _close(actual, expected):
    assert list(actual) == list(expected)
    for value, metrics in expected.items():
        got, want = _flat(actual[value]), _flat(metrics)
        assert {k for k, v in got.items() if v is None} == {k for k, v in want.items() if v is None}
        got = {k: v for k, v in got.items() if v is not None}
        want = {k: v for k, v in want.items() if v is not None}
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), value


def test_map_breakdown_equals_a_recomputation(world, layer):
    result = geovec.evaluate(world, "f", method="direct", by=layer)
    tiles, t_pos, t_vec = _read(world, "map")
    queries, q_pos, q_vec = _read(world, "ground", "isolated = true")
    rank, n, error = [], [], []
    for q, row in enumerate(queries):
        mine = np.array([t["region"] == row["region"] for t in tiles])
        true = int(row["id"][1:])  # a query at its tile's centre
        d = ((t_vec - q_vec[q]) ** 2).sum(1)
        d[~mine] = np.inf
        rank.append(int((d < d[true]).sum()))
        n.append(int(mine.sum()))
        best = int(np.argmin(d))
        error.append(_metres(t_pos[[best], 0], t_pos[[best], 1], q_pos[[q], 0], q_pos[[q], 1])[0])
    rank, n, error = np.array(rank), np.array(n), np.array(error)
    assert [r["id"] for r in queries] == result.ranks.column("query_id").to_pylist()
    groups = _groups(q_pos)
    assert {"north", "south-west", "fiji", "centre", "outside"} == set(groups)
    assert len(groups["fiji"]) == 8 and len(groups["north"]) == 14  # 10 in a, 4 in b
    expected = {
        v: _cross_view_metrics(rank[i], n[i], error[i], curve=True) for v, i in groups.items()
    }
    _close(result.by, expected)
    assert result.provenance["by"]["field"] == "name"
    assert result.provenance["by"]["field_rule"] == "name"


def test_pairs_breakdown_equals_a_recomputation(world, layer):
    """Positions: the query's own, else its aerial's; one query has neither."""
    result = geovec.evaluate(world, "f", protocol="pairs", method="direct", by=layer)
    aerials, a_pos, a_vec = _read(world, "overhead", "split = 'test' OR split IS NULL")
    ground, g_pos, g_vec = _read(world, "ground", "split = 'test'")
    order = {r: i for i, r in enumerate(result.ranks.column("query_id").to_pylist())}
    assert set(order) == {r["id"] for r in ground}
    at = {a["id"]: i for i, a in enumerate(aerials)}
    rank, error, pos = np.zeros(len(ground), int), np.zeros(len(ground)), g_pos.copy()
    for q, row in enumerate(ground):
        true = at["o" + row["id"][1:] if row["id"][0] == "g" else "o" + row["id"]]
        d = ((a_vec - g_vec[q]) ** 2).sum(1)
        rank[q] = int((d < d[true]).sum())
        if not np.isfinite(pos[q]).all():
            pos[q] = a_pos[true]
        best = int(np.argmin(d))
        error[q] = _metres(a_pos[[best], 0], a_pos[[best], 1], pos[[q], 0], pos[[q], 1])[0]
    groups = _groups(pos)
    assert len(groups["no position"]) == 1
    expected = {}
    for value, i in groups.items():
        expected[value] = _cross_view_metrics(rank[i], np.full(len(i), len(aerials)), error[i])
        expected[value]["hit_rate"] = None  # no semi-positives
    _close(result.by, expected)
    assert sum(m["queries"] for m in result.by.values()) >= result.queries


def test_places_breakdown_equals_a_recomputation(world, layer):
    result = geovec.evaluate(world, "f", protocol="places", threshold_m=40.0, by=layer)
    db, d_pos, d_vec = _read(world, "ground", "split = 'database'")
    qs, q_pos, q_vec = _read(world, "ground", "split = 'queries'")
    first = np.full(len(qs), -1)
    for q in range(len(qs)):
        metres = _metres(np.full(len(db), q_pos[q, 0]), np.full(len(db), q_pos[q, 1]),
                         d_pos[:, 0], d_pos[:, 1])  # fmt: skip
        d = ((d_vec - q_vec[q]) ** 2).sum(1)
        positive = metres <= 40.0
        if positive.any():
            first[q] = int((d < d[positive].min()).sum())
    groups = _groups(q_pos)
    assert result.ranks.column("query_id").to_pylist() == [r["id"] for r in qs]
    expected = {}
    for value, i in groups.items():
        f, has = first[i], first[i] >= 0
        expected[value] = {
            "queries": len(i),
            "recall": {str(k): float(np.mean(has & (f < k))) for k in (1, 5, 10, 20)},
            "top_1_percent": float(np.mean(has & (f < max(1, len(db) // 100)))),
            "queries_without_positive": int((~has).sum()),
        }
    _close(result.by, expected)


def test_one_polygon_around_every_query_gives_the_evaluation(world, tmp_path):
    path = tmp_path / "world.geojson"
    everything = [[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]
    feature = {"type": "Feature", "properties": {"name": "all"},
               "geometry": {"type": "Polygon", "coordinates": [everything]}}  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    result = geovec.evaluate(world, "f", method="direct", by=path)
    whole = result.as_dict()
    assert list(result.by) == ["all"]
    for key, value in result.by["all"].items():
        if key != "median_rank":
            assert _flat({key: whole[key]}) == pytest.approx(_flat({key: value}), rel=1e-12)


def _geoparquet(path, names, polygons, crs):
    to = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    projected = shapely.transform(
        np.array(polygons, object), lambda xy: np.column_stack(to.transform(xy[:, 0], xy[:, 1]))
    )
    geo = {"version": "1.1.0", "primary_column": "geometry",
           "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Polygon"],
                                    "crs": CRS.from_user_input(crs).to_json_dict()}}}  # fmt: skip
    table = pa.table(
        {
            "code": pa.array(range(len(names))),
            "label": names,
            "geometry": pa.array(shapely.to_wkb(projected).tolist(), pa.binary()),
        }  # fmt: skip
    ).replace_schema_metadata({"geo": json.dumps(geo)})
    pq.write_table(table, path)


def test_a_geoparquet_layer_in_another_crs_gives_the_same(world, layer, tmp_path):
    """UTM 32N vertices moved to lon/lat by pyproj, the field its first text column."""
    path = tmp_path / "places.parquet"
    keep = [(n, p) for n, p in PLACES if p.bounds[0] < 100]  # region a's polygons
    _geoparquet(path, [n for n, _ in keep], [p for _, p in keep], "EPSG:32632")
    by_parquet = geovec.evaluate(world, "f", method="direct", by=path)
    read = read_layer(path)
    assert (read.field, read.field_rule, read.crs) == ("label", "first text field", "EPSG:32632")
    tiles_a = geovec.evaluate(world, "f", method="direct", by=layer).by
    for value in ("north", "south-west", "centre"):
        if value == "north":  # its polygon in region b is not in this layer
            assert by_parquet.by[value]["queries"] == tiles_a[value]["queries"] - 4
        else:
            assert by_parquet.by[value] == tiles_a[value]


def test_membership_at_the_antimeridian_the_poles_and_edges(tmp_path):
    """Drawn the short way round, past 180, split at 180 (RFC 7946), a polar cap from -180
    to 180, and a shared edge (a point on it in both)."""

    def ring(*corners):
        return {"type": "Polygon", "coordinates": [[*corners, corners[0]]]}

    shapes = {
        "short": ring([178, 0], [-178, 0], [-178, 2], [178, 2]),
        "past": ring([178, 10], [182, 10], [182, 12], [178, 12]),
        "split": mapping(MultiPolygon([box(178, 20, 180, 22), box(-180, 20, -178, 22)])),
        "cap": ring([-180, -80], [0, -80], [180, -80], [180, -90], [-180, -90]),
        "left": mapping(box(0, 0, 1, 1)),
        "right": mapping(box(1, 0, 2, 1)),
    }
    features = [
        {"type": "Feature", "properties": {"name": k}, "geometry": g} for k, g in shapes.items()
    ]
    path = tmp_path / "edges.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    read = read_layer(path)
    points = {
        (179.5, 1): {"short"}, (-179.5, 1): {"short"}, (0, 1.5): set(),
        (179.5, 11): {"past"}, (-179.5, 11): {"past"}, (-179.5, 21): {"split"},
        (179.5, 21): {"split"}, (0, -85): {"cap"}, (179.9, -89): {"cap"}, (0, -70): set(),
        (1, 0.5): {"left", "right"}, (0.5, 0.5): {"left"}, (np.nan, np.nan): set(),
    }  # fmt: skip
    lon, lat = np.array(list(points)).T
    with geovec.open(tmp_path / "db").cursor() as con:
        point, polygon = read.members(con, lon, lat)
    found = [set() for _ in points]
    for p, g in zip(point, polygon):
        found[p].add(read.values[g])
    assert found == list(points.values())


def test_the_field(tmp_path):
    path = tmp_path / "l.geojson"
    square = mapping(box(0, 0, 1, 1))
    rows = [{"n": 3, "kind": "forest", "zone": "z1"}, {"n": 4, "kind": None, "zone": "z2"}]
    features = [{"type": "Feature", "properties": p, "geometry": square} for p in rows]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    read = read_layer(path)
    assert (read.field, read.field_rule, read.values) == (
        "kind",
        "first text field",
        ["forest", "(none)"],
    )
    assert read_layer(path, "n").values == ["3", "4"]
    with pytest.raises(LayerError, match=r"no field 'name' \(its fields: n, kind, zone\)"):
        read_layer(path, "name")


def test_bad_layers(world, tmp_path):
    point = {
        "type": "Feature",
        "properties": {"name": "x"},
        "geometry": {"type": "Point", "coordinates": [0, 0]},
    }
    bare = {**point, "properties": {"n": 1}, "geometry": mapping(box(0, 0, 1, 1))}
    cases = {
        "point.geojson": (
            {"type": "FeatureCollection", "features": [point]},
            "feature 0 is a Point",
        ),
        "list.geojson": ([1, 2], "not a GeoJSON FeatureCollection"),
        "bare.geojson": (
            {"type": "FeatureCollection", "features": [bare]},
            "no 'name' nor any text",
        ),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(json.dumps(content))
        with pytest.raises(LayerError, match=message):
            geovec.evaluate(world, "f", method="direct", by=tmp_path / name)
    pq.write_table(pa.table({"a": [1]}), tmp_path / "plain.parquet")
    with pytest.raises(LayerError, match="not GeoParquet"):
        read_layer(tmp_path / "plain.parquet")
    (tmp_path / "x.csv").write_text("a\n")
    with pytest.raises(LayerError, match=r"\.geojson \(or \.json\) or GeoParquet"):
        read_layer(tmp_path / "x.csv")
    with pytest.raises(GeovecError, match="give the layer"):
        geovec.evaluate(world, "f", method="direct", by_field="name")


def test_cli(world, layer):
    runner = CliRunner()
    args = ["evaluate", str(world.path), "--feature", "f", "--method", "direct", "--by", str(layer)]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"by name of {layer}"))
    assert lines[at + 1].split() == [
        "place",
        "queries",
        "top-1%",
        "R@1",
        "R@5",
        "R@10",
        "median",
        "error",
        "m",
    ]
    assert [line.split()[0] for line in lines[at + 2 :]] == [
        "north",
        "south-west",
        "fiji",
        "centre",
        "outside",
    ]
    printed = runner.invoke(app, [*args, "--json"])
    assert json.loads(printed.output)["by"]["fiji"]["queries"] == 8
    bad = runner.invoke(app, [*args[:-1], str(layer.with_suffix(".shp"))])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "no such polygon layer" in bad.output
    field = runner.invoke(app, [*args, "--by-field", "kind", "--json"])
    assert "k9" in json.loads(field.output)["by"]


def test_region_outlines_give_the_per_region_numbers(world, tmp_path):
    """The demo's layer: each region the hull of its tiles (region b across 180)."""
    from geovec.analyses.layers import region_outlines

    path = tmp_path / "regions.geojson"
    path.write_text(json.dumps(region_outlines(world)))
    result = geovec.evaluate(world, "f", method="direct", by=path)
    assert list(result.by) == ["a", "b"]
    for region, numbers in result.regions.items():
        mine = result.by[region]
        assert mine["queries"] == numbers["queries"]
        assert mine["top_1_percent"] == numbers["top_1_percent"]
        assert mine["recall"] == numbers["recall"]
        assert mine["median_error_m"] == numbers["median_error_m"]
