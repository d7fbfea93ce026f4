"""add-onnx, then ingest and extract with the encoder's feature as with geovec's own:
batched, provenance with the model's sha256, resumable, failures recorded; and a search
with the feature finds an aerial image's own row first."""

import hashlib
import json

import numpy as np
import pyarrow as pa
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.encoders.preprocessing import encoder_input
from geovec.encoders.registry import encoder_info
from geovec.features.decode import load_rgb
from tests.encoders.onnx_models import encoder_model, random_weights, reference
from tests.images import write_images, write_manifest

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def paired_world(folder, n=6):
    """n ground photos, an aerial image paired with each, n map tiles, one broken photo."""
    ground = write_images(folder / "ground", n)
    aerial = write_images(folder / "aerial", n, start=100)
    tiles = write_images(folder / "tiles", n, start=200)
    (folder / "ground" / "broken.png").write_bytes(b"\x89PNG not really")
    rows = []
    for i in range(n):
        lon, lat = -79.9 + i * 0.01, 32.8
        rows.append(
            dict(
                id=f"g{i}",
                path=f"ground/{ground[i].name}",
                view="ground",
                lon=lon,
                lat=lat,
                region="r",
            )
        )
        rows.append(
            dict(
                id=f"o{i}",
                path=f"aerial/{aerial[i].name}",
                view="overhead",
                lon=lon,
                lat=lat,
                region="r",
                pair=f"g{i}",
            )
        )
        rows.append(
            dict(
                id=f"t{i}", path=f"tiles/{tiles[i].name}", view="map", lon=lon, lat=lat, region="r"
            )
        )
    rows.append(
        dict(id="broken", path="ground/broken.png", view="ground", lon=-79.9, lat=32.7, region="r")
    )
    return write_manifest(folder / "manifest.csv", rows), aerial


def test_add_ingest_extract_search(tmp_path, dynamic_model, tiny_weights):
    out = invoke(
        "weights",
        "add-onnx",
        dynamic_model,
        "--name",
        "tiny",
        "--size",
        "16",
        "--crop",
        "centre",
        "--json",
    )
    added = json.loads(out)
    sha = hashlib.sha256(dynamic_model.read_bytes()).hexdigest()
    assert (added["name"], added["dim"], added["sha256"], added["batch"]) == ("tiny", 5, sha, None)
    listed = json.loads(invoke("weights", "list", "--json"))["encoders"]
    assert [(e["name"], e["dim"], e["sha256"]) for e in listed] == [("tiny", 5, sha)]

    manifest, aerial = paired_world(tmp_path)
    db = tmp_path / "db"
    out = invoke("ingest", db, manifest, "--features", "tiny", "--batch-size", "4")
    assert "ingested 18" in out and "failed 1" in out
    store = geovec.open(db)
    assert store.features("ground") == {"tiny": 5}
    failures = store.read("failures").to_pylist()
    assert [(f["stage"], f["path"].endswith("broken.png")) for f in failures] == [("decode", True)]
    field = store.table("overhead").schema.field("tiny")
    prov = json.loads(field.metadata[b"geovec"])
    assert prov["source_sha256"] == sha and "centre crop 16x16" in prov["preprocessing"]

    rows = store.read("overhead", ["id", "path", "tiny"]).to_pylist()
    prep = encoder_info("tiny").preprocessing
    x = np.stack([encoder_input(load_rgb(r["path"]), prep) for r in rows])
    np.testing.assert_allclose(
        np.array([r["tiny"] for r in rows]), reference(x, tiny_weights), rtol=1e-4, atol=1e-5
    )

    again = invoke("ingest", db, manifest, "--features", "tiny")
    assert "ingested 0" in again and "skipped 18" in again

    # a second encoder, filled in by extract; resumable: a re-run computes nothing
    other = encoder_model(tmp_path / "other.onnx", random_weights(dim=3, seed=5), batch=1, side=8)
    invoke(
        "weights",
        "add-onnx",
        other,
        "--name",
        "other",
        "--scale",
        "255",
        "--mean",
        "127,127,127",
        "--std",
        "64,64,64",
    )
    out = invoke("extract", db, "--features", "other", "--view", "overhead")
    assert "extracted 6," in out
    assert store.features("overhead") == {"tiny": 5, "other": 3}
    again = invoke("extract", db, "--features", "other", "--view", "overhead")
    assert "skipped 6" in again

    result = json.loads(invoke("search", db, aerial[3], "--feature", "tiny", "--k", "3", "--json"))
    best = result["results"][0]
    assert (best["id"], best["ground_id"]) == ("o3", "g3") and best["distance"] < 1e-4


def test_extract_records_what_it_cannot_read(tmp_path, dynamic_model, batch1_model):
    """extract fills an encoder's column where it can and records a failure (stage
    decode) for a stored row whose image has since become unreadable."""
    manifest, _ = paired_world(tmp_path, n=3)
    store = geovec.open(tmp_path / "db")
    geovec.add_onnx(dynamic_model, "tiny", size=12)
    geovec.ingest(store, manifest, features="tiny", view="map")
    geovec.add_onnx(batch1_model, "other")
    spoiled = store.read("map", ["id", "path"], "id = 't1'").column("path")[0].as_py()
    open(spoiled, "wb").close()
    summary = geovec.extract_missing(store, "other", view="map")
    assert (summary.ingested, summary.failed) == (2, 1)
    table = store.read("map", ["id", "other"])
    filled = {r["id"] for r in table.to_pylist() if r["other"] is not None}
    assert filled == {"t0", "t2"} and isinstance(table.column("other").type, pa.FixedSizeListType)
    failure = store.read("failures").to_pylist()[-1]
    assert (failure["path"], failure["stage"]) == (spoiled, "decode")
