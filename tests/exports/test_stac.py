"""geovec export DB --stac DIR: a STAC catalogue of the exports, validated by pystac's
validator against the schemas of the STAC embeddings extension (v0.0.1), the projection
extension (v2.0.0) and STAC 1.0.0's core, vendored under tests/exports/schemas (no
network at test time: a schema that is not vendored fails the test)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pystac
import pytest
from pystac.errors import STACValidationError
from pystac.validation import JsonSchemaSTACValidator, validate_dict
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import ExportError
from geovec.exports.products import write_heatmap_product, write_landcover_product
from geovec.exports.stac import EMBEDDINGS_SCHEMA, PROJECTION_SCHEMA
from tests.exports.conftest import CLIP_PROVENANCE

runner = CliRunner()
SCHEMAS = Path(__file__).parent / "schemas"
CORE = {
    "item-spec": ["item", "basics", "datetime", "instrument", "licensing", "provider"],
    "collection-spec": ["collection"],
    "catalog-spec": ["catalog"],
}


@pytest.fixture
def validator(monkeypatch):
    """pystac's JSON-schema validator with the vendored schemas; fetching any other
    schema fails (offline)."""
    checker = JsonSchemaSTACValidator()
    for spec, names in CORE.items():
        for name in names:
            uri = f"https://schemas.stacspec.org/v1.0.0/{spec}/json-schema/{name}.json"
            text = (SCHEMAS / "stac-spec-v1.0.0" / f"{name}.json").read_text()
            checker.schema_cache[uri] = json.loads(text)
    for uri, name in ((EMBEDDINGS_SCHEMA, "stac-embeddings-v0.0.1.json"),
                      (PROJECTION_SCHEMA, "stac-projection-v2.0.0.json")):  # fmt: skip
        checker.schema_cache[uri] = json.loads((SCHEMAS / name).read_text())

    def offline(self, href, *args, **kwargs):
        if str(href).startswith("http"):
            raise AssertionError(f"the test would fetch {href}")
        return original(self, href, *args, **kwargs)

    original = pystac.stac_io.DefaultStacIO.read_text_from_href
    monkeypatch.setattr(pystac.stac_io.DefaultStacIO, "read_text_from_href", offline)
    return checker


@pytest.fixture(scope="module")
def catalogue(grid_store, point_store, tmp_path_factory):
    """A folder with the grid store's heatmap (COG, GeoJSON) and land cover (COG), a
    GeoParquet of the point store written by geovec export, a GeoParquet written by
    pyarrow without geovec's metadata; then export --stac of the grid store."""
    folder = tmp_path_factory.mktemp("stac")
    found = geovec.localize(grid_store, "gist", id="q", neighbors=2)
    write_heatmap_product(found, folder / "heat.tif")
    write_heatmap_product(found, folder / "heat.geojson")
    write_landcover_product(geovec.landcover(grid_store, "gist"), folder / "products/lc.tif")
    geovec.export(point_store, folder / "photos.parquet", view="ground", features=["clip"])
    pq.write_table(pa.table({"x": [1, 2]}), folder / "other.parquet")
    summary = geovec.export_stac(grid_store, folder)
    return folder, summary


def stac_files(folder: Path) -> dict[Path, dict]:
    """The STAC JSON files under ``folder``, as written."""
    found = {}
    for path in sorted(folder.rglob("*.json")):
        data = json.loads(path.read_text())
        if "stac_version" in data:
            found[path] = data
    return found


def test_every_file_validates_as_written(catalogue, validator):
    folder, summary = catalogue
    files = stac_files(folder)
    assert len(files) == 1 + 2 + 7  # the catalog, two collections, seven items
    kinds = {}
    for path, data in files.items():
        checked = validate_dict(data, href=str(path), validator=validator)
        assert data["stac_version"] == "1.0.0" and checked[0].startswith(
            "https://schemas.stacspec.org/v1.0.0/"
        )
        kinds[data["type"]] = kinds.get(data["type"], 0) + 1
        if data["type"] != "Catalog" and data.get("stac_extensions"):
            assert set(checked[1:]) == set(data["stac_extensions"])  # each one checked
    assert kinds == {"Catalog": 1, "Collection": 2, "Feature": 7}
    embeddings = [p for p, d in files.items() if EMBEDDINGS_SCHEMA in d.get("stac_extensions", [])]
    assert len(embeddings) == 1 + 3  # gist's collection and its three tables' items
    root = pystac.Catalog.from_file(str(folder / "catalog.json"))  # pystac reads it back
    assert {c.id for c in root.get_children()} == {"clip", "gist"}
    assert len(list(root.get_items(recursive=True))) == 7


def test_collections_carry_the_embeddings_fields(catalogue, grid_store):
    folder, summary = catalogue
    assert summary.collections == {
        "clip": ["photos"],
        "gist": ["ground-gist", "heat-geojson", "heat-tif", "lc", "map-gist", "overhead-gist"],
    }
    assert summary.skipped == [folder / "other.parquet"]
    gist = json.loads((folder / "gist" / "collection.json").read_text())
    assert gist["emb:type"] == "chip" and gist["emb:dimensions"] == 6
    assert gist["data_type"] == "float32" and EMBEDDINGS_SCHEMA in gist["stac_extensions"]
    rels = {link["rel"]: link for link in gist["links"]}
    assert rels["emb:model"]["href"].startswith("https://doi.org/")  # GIST: its paper
    assert rels["emb:source-data"]["href"] == Path(grid_store.path).resolve().as_uri()
    clip = json.loads((folder / "clip" / "collection.json").read_text())
    assert "emb:dimensions" not in clip  # clip is no feature of the catalogued store
    west, south, east, north = gist["extent"]["spatial"]["bbox"][0]
    assert west < 24.94 < east and south < 60.17 < north


def test_items_have_assets_with_media_types_and_projection(catalogue):
    folder, _ = catalogue
    table = json.loads((folder / "gist" / "map-gist" / "map-gist.json").read_text())
    asset = table["assets"]["embeddings"]
    assert asset["type"] == "application/vnd.apache.parquet" and asset["roles"] == ["data"]
    assert asset["proj:code"] == "OGC:CRS84"
    assert (folder / "gist" / "map-gist" / asset["href"]).resolve() == (
        folder / "map-gist.parquet"
    ).resolve()
    assert table["properties"]["emb:runtime_parameters"]["view"] == "map"
    raster = json.loads((folder / "gist" / "lc" / "lc.json").read_text())
    data = raster["assets"]["data"]
    assert data["type"] == "image/tiff; application=geotiff; profile=cloud-optimized"
    assert data["proj:code"] is None and "Azimuthal Equidistant" in data["proj:wkt2"]
    assert len(data["proj:shape"]) == 2 and len(data["proj:transform"]) == 6
    assert raster["properties"]["geovec:proj"].startswith("+proj=aeqd")
    assert (folder / "gist" / "lc" / data["href"]).resolve() == (folder / "products/lc.tif")
    tiles = json.loads((folder / "gist" / "heat-geojson" / "heat-geojson.json").read_text())
    assert tiles["assets"]["data"]["type"] == "application/geo+json"
    photos = json.loads((folder / "clip" / "photos" / "photos.json").read_text())
    parameters = photos["properties"]["emb:runtime_parameters"]
    assert parameters["encoder"] == CLIP_PROVENANCE["encoder"]
    assert parameters["source_sha256"] == CLIP_PROVENANCE["source_sha256"]


def test_the_validator_catches_a_broken_collection(catalogue, validator):
    folder, _ = catalogue
    collection = json.loads((folder / "gist" / "collection.json").read_text())
    del collection["emb:dimensions"]
    with pytest.raises(STACValidationError, match="embeddings"):
        validate_dict(collection, validator=validator)
    item = json.loads((folder / "gist" / "map-gist" / "map-gist.json").read_text())
    item["assets"]["data"] = item["assets"].pop("embeddings")  # the extension requires it
    with pytest.raises(STACValidationError, match="embeddings"):
        validate_dict(item, validator=validator)
    item["assets"]["embeddings"] = item["assets"].pop("data")
    item["assets"]["embeddings"]["proj:code"] = 4326  # projection: a string or null
    with pytest.raises(STACValidationError, match="projection"):
        validate_dict(item, validator=validator)


def test_model_link_points_at_the_weights_when_recorded(point_store, tmp_path, validator):
    summary = geovec.export_stac(point_store, tmp_path / "stac", features=["clip"])
    assert summary.collections == {"clip": ["ground-clip"]}
    clip = json.loads((tmp_path / "stac" / "clip" / "collection.json").read_text())
    model = next(link for link in clip["links"] if link["rel"] == "emb:model")
    assert model["href"] == Path(CLIP_PROVENANCE["weights"]).as_uri()
    assert CLIP_PROVENANCE["source_sha256"] in model["title"]
    assert clip["emb:dimensions"] == 8
    validate_dict(clip, validator=validator)


def test_cli_export_stac(grid_store, tmp_path):
    db = str(grid_store.path)
    result = runner.invoke(app, ["export", db, "--stac", str(tmp_path / "s"), "--view", "map",
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["collections"] == {"gist": ["map-gist"]}
    assert data["exported"] == [str(tmp_path / "s" / "map-gist.parquet")]
    text = runner.invoke(app, ["export", db, "--stac", str(tmp_path / "s")])
    assert text.exit_code == 0 and "1 collection, 3 items" in text.output
    (tmp_path / "f").write_text("x")
    for args, message in (
        (["--stac", str(tmp_path / "f")], "is a file"),
        (["--stac", str(tmp_path / "s"), "--out", str(tmp_path / "x.parquet")], "--stac DIR"),
        (["--stac", str(tmp_path / "s"), "--view", "tiles"], "unknown view"),
    ):
        bad = runner.invoke(app, ["export", db, *args])
        assert bad.exit_code == 1 and message in bad.output, bad.output
        assert "Traceback" not in bad.output and len(bad.output.strip().splitlines()) == 1


def test_nothing_to_catalogue(tmp_path):
    store = geovec.open(tmp_path / "empty")
    with pytest.raises(ExportError, match="nothing to catalogue"):
        geovec.export_stac(store, tmp_path / "stac")
