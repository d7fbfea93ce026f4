import pytest

import geovec
from geovec.errors import FeatureMissingError, StoreError
from geovec.store.schema import BASE_SCHEMAS, feature_field


def test_feature_columns_arrive_with_the_table(tmp_path):
    store = geovec.open(tmp_path / "db")
    store.ensure_features("map", [feature_field("gist", 512, {"preprocessing": "x"})])
    assert store.table("map").version == 1  # created with its feature columns in one commit
    assert store.features("map") == {"gist": 512}
    assert store.provenance("map", "gist") == {"preprocessing": "x"}
    store.ensure_features("map", [feature_field("places_fc8", 205)])
    assert store.features("map") == {"gist": 512, "places_fc8": 205}


def test_every_located_table_has_lon_lat_geom():
    for name in ("ground", "overhead", "map"):
        assert {"id", "lon", "lat", "geom"} <= set(BASE_SCHEMAS[name].names)


def test_missing_feature_names_the_fix(tmp_path):
    store = geovec.open(tmp_path / "db")
    store.ensure_features("ground", [feature_field("gist", 512)])
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
