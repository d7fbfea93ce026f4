"""The cross-view datasets from tiny trees with their real names and formats, through the
API and the CLI, then into a store."""

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import DatasetError, GeovecError
from geovec.ingestion.datasets import import_dataset
from tests import dataset_trees

runner = CliRunner()


def by_view(manifest):
    rows = pq.read_table(manifest).to_pylist()
    return [r for r in rows if r["view"] == "ground"], [r for r in rows if r["view"] == "overhead"]


def test_cvusa_pairs_without_positions_into_a_store(tmp_path):
    root = dataset_trees.cvusa(tmp_path / "CVUSA")
    summary = import_dataset("cvusa", root, tmp_path / "cvusa.parquet")
    ground, overhead = by_view(summary.manifest)
    assert (summary.ground, summary.overhead, summary.splits) == (7, 7, {"train": 4, "test": 3})
    assert ground[0] == {
        "id": "0000001", "path": "CVUSA/streetview/panos/0000001.jpg", "view": "ground",
        "lon": None, "lat": None, "region": "cvusa", "source": "cvusa", "pair": "0000001",
        "split": "train", "semi_pairs": None,
    }  # fmt: skip
    assert overhead[-1]["path"] == "CVUSA/bingmap/19/0000007.jpg"
    store = geovec.open(tmp_path / "db")
    ingested = geovec.ingest(store, summary.manifest, features="gist", batch_size=8)
    assert (ingested.ingested, ingested.failed) == (14, 0)
    assert store.sql("SELECT count(*) FROM ground WHERE geom IS NULL").fetchone() == (7,)
    with pytest.raises(GeovecError, match="no ground image has a position"):
        geovec.isolate(store)


def test_cvusa_missing_image_and_bad_line(tmp_path):
    root = dataset_trees.cvusa(tmp_path / "CVUSA")
    (root / "streetview/panos/0000002.jpg").unlink()
    summary = import_dataset("cvusa", root, tmp_path / "m.parquet")
    assert summary.left_out == 1 and summary.ground == 6
    assert summary.missing.read_text().splitlines()[1] == (
        "streetview/panos/0000002.jpg,splits/train-19zl.csv:2"
    )
    with open(root / "splits/val-19zl.csv", "a") as fh:
        fh.write("just-one-column\n")
    with pytest.raises(DatasetError, match=r"val-19zl.csv:4: expected aerial,ground"):
        import_dataset("cvusa", root, tmp_path / "again.parquet")
    assert not (tmp_path / "again.parquet").exists()  # nothing half-written


def test_cvact_splits_and_positions(tmp_path):
    root = dataset_trees.cvact(tmp_path / "CVACT")
    summary = import_dataset("cvact", root, tmp_path / "cvact.parquet")
    ground, overhead = by_view(summary.manifest)
    assert summary.splits == {"train": 4, "test": 2} and len(overhead) == 6
    first = ground[0]  # trainInd 1 is the first panorama (1-based)
    assert first["id"] == "pano000xyz_-abc" and first["pair"] == first["id"]
    assert first["path"] == "CVACT/ANU_data_small/streetview/pano000xyz_-abc_grdView.jpg"
    lon, lat = dataset_trees.cvact_lonlat(0)
    assert (first["lon"], first["lat"]) == pytest.approx((lon, lat))
    assert 148 < lon < 150 and -36 < lat < -35  # Canberra
    assert [g["split"] for g in ground] == ["train"] * 4 + ["test"] * 2


def test_cvact_bad_index_and_file(tmp_path):
    root = dataset_trees.cvact(tmp_path / "CVACT", val=(5, 7))
    with pytest.raises(DatasetError, match=r"valSet.valInd holds 7, outside 1..6"):
        import_dataset("cvact", root, tmp_path / "m.parquet")
    (root / "ACT_data.mat").write_bytes(b"MATLAB 5.0 MAT-file, garbage")
    with pytest.raises(DatasetError, match="not a readable MATLAB file"):
        import_dataset("cvact", root, tmp_path / "m.parquet")


@pytest.mark.parametrize("layout", ["city", "sample4geo"])
def test_vigor_same_area(tmp_path, layout):
    root = dataset_trees.vigor(tmp_path / "VIGOR", layout)
    summary = import_dataset("vigor", root, tmp_path / "vigor.parquet")
    ground, overhead = by_view(summary.manifest)
    assert summary.splits == {"train": 12, "test": 12} and len(overhead) == 16
    assert all(o["split"] is None for o in overhead)  # candidates for both splits
    g = ground[0]
    lat, lon = (float(v) for v in g["id"].split(",")[1:3])
    assert (g["lon"], g["lat"]) == (lon, lat) and g["region"] == "Chicago"
    sats = {o["id"]: o for o in overhead}
    assert g["pair"] in sats and len(g["semi_pairs"]) == 3
    assert set(g["semi_pairs"]) <= set(sats) and g["pair"] not in g["semi_pairs"]
    s = sats[g["pair"]]
    assert s["id"] == f"satellite_{s['lat']:.6f}_{s['lon']:.6f}"


def test_vigor_cross_area_through_the_cli(tmp_path):
    root = dataset_trees.vigor(tmp_path / "VIGOR")
    out = tmp_path / "cross.parquet"
    result = runner.invoke(app, ["dataset", "vigor", str(root), "--out", str(out), "--cross-area"])
    assert result.exit_code == 0, result.output
    assert "vigor: 24 ground and 16 overhead images (test 12, train 12)" in result.output
    ground, overhead = by_view(out)
    split_of = {"NewYork": "train", "Seattle": "train", "Chicago": "test", "SanFrancisco": "test"}
    assert all(r["split"] == split_of[r["region"]] for r in ground + overhead)


def test_vigor_malformed_line_and_missing_city(tmp_path):
    root = dataset_trees.vigor(tmp_path / "VIGOR")
    with open(root / "splits/Seattle/same_area_balanced_test.txt", "a") as fh:
        fh.write("a.jpg satellite_1_2.png 0 0\n")
    result = runner.invoke(
        app, ["dataset", "vigor", str(root), "--out", str(tmp_path / "v.parquet")]
    )
    assert result.exit_code == 1
    assert "splits/Seattle/same_area_balanced_test.txt:4: expected 13 columns" in result.output
    assert len(result.output.strip().splitlines()) == 1
    import shutil

    shutil.rmtree(root / "Chicago")
    with pytest.raises(DatasetError, match="no images of Chicago"):
        import_dataset("vigor", root, tmp_path / "v.parquet")


def test_dataset_arguments(tmp_path):
    with pytest.raises(DatasetError, match="unknown dataset 'kitti'"):
        import_dataset("kitti", tmp_path, tmp_path / "m.parquet")
    with pytest.raises(DatasetError, match="no such dataset folder"):
        import_dataset("cvusa", tmp_path / "nope", tmp_path / "m.parquet")
    with pytest.raises(DatasetError, match="no splits/train-19zl.csv"):
        import_dataset("cvusa", tmp_path, tmp_path / "m.parquet")


@pytest.mark.parametrize("name", ["cvusa", "cvact", "vigor"])
def test_every_ground_image_is_linked_to_its_aerial_by_pair(tmp_path, name):
    """The one link: each ground row's pair names an aerial of the manifest, and an aerial's
    pair, where it has one, names a ground image whose pair it is (VIGOR's aerials have
    none: one is the positive of several panoramas; before, they named themselves)."""
    root = getattr(dataset_trees, name)(tmp_path / name.upper())
    ground, overhead = by_view(import_dataset(name, root, tmp_path / "m.parquet").manifest)
    aerials, of = {o["id"] for o in overhead}, {g["id"]: g["pair"] for g in ground}
    assert ground and all(g["pair"] in aerials for g in ground)
    assert all(o["pair"] is None or of[o["pair"]] == o["id"] for o in overhead)
    if name == "vigor":
        assert all(o["pair"] is None for o in overhead)
