import numpy as np
import pytest

import geovec
from geovec.errors import FeatureMissingError, StoreError
from geovec.store.schema import feature_field
from tests.stores import add_rows


def test_feature_columns_arrive_with_the_table(tmp_path):
    store = geovec.open(tmp_path / "db")
    store.ensure_features("map", [feature_field("gist", 512, {"preprocessing": "x"})])
    assert store.table("map").version == 1  # created with its feature columns in one commit
    assert store.features("map") == {"gist": 512}
    assert store.provenance("map", "gist") == {"preprocessing": "x"}
    store.ensure_features("map", [feature_field("places_fc8", 205)])
    assert store.features("map") == {"gist": 512, "places_fc8": 205}


def test_every_located_table_holds_its_point_as_geometry(tmp_path):
    """Rows written to each view carry lon, lat and a geom that DuckDB spatial reads as
    the same point, longitude first."""
    store = geovec.open(tmp_path / "db")
    for view in ("ground", "overhead", "map"):
        add_rows(
            store,
            view,
            [{"id": f"{view}1", "lon": -79.93, "lat": 32.78}],
            {"gist": np.ones((1, 4))},
        )
        assert {"id", "lon", "lat", "geom"} <= set(store.table(view).schema.names)
        x, y, lon, lat = store.sql(
            f"SELECT ST_X(geom), ST_Y(geom), lon, lat FROM {view}"
        ).fetchone()
        assert (x, y) == (lon, lat) == (-79.93, 32.78)


def test_ids_read_the_id_column_only(tmp_path):
    store = geovec.open(tmp_path / "db")
    add_rows(
        store,
        "ground",
        [{"id": f"g{i}", "lon": 0.0, "lat": 0.0} for i in range(3)],
        {"gist": np.ones((3, 4))},
    )
    assert store.ids("ground") == {"g0", "g1", "g2"} and store.ids("map") == set()
    assert store.count("ground", "id = 'g1'") == 1


def test_missing_feature_names_the_fix(tmp_path):
    store = geovec.open(tmp_path / "db")
    store.ensure_features("ground", [feature_field("gist", 512)])
    with pytest.raises(FeatureMissingError, match="no ground images yet; add them: geovec in"):
        store.require_feature("ground", "places_fc7")  # extract cannot help: no rows
    add_rows(store, "ground", [{"id": "a", "lon": 0.0, "lat": 0.0}], {"gist": np.ones((1, 512))})
    with pytest.raises(FeatureMissingError, match="geovec extract .* --features places_fc7"):
        store.require_feature("ground", "places_fc7")


def test_failures_are_recorded_once(tmp_path):
    store = geovec.open(tmp_path / "db")
    row = {"path": "a.jpg", "view": "ground", "stage": "decode", "error": "empty file"}
    store.record_failures([row, row])
    store.record_failures([row])
    assert store.count("failures") == 1


def test_open_errors(tmp_path):
    with pytest.raises(StoreError, match="no geovec database"):
        geovec.open(tmp_path / "missing", create=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        geovec.open(tmp_path / "file")
    with pytest.raises(StoreError, match="unknown table"):
        geovec.open(tmp_path / "db").table("nope")
