"""The Ray engine gives the local engine's table: same rows, same features, failures
recorded, resumable (on a local 2-CPU cluster; slow)."""

import json

import numpy as np
from typer.testing import CliRunner

import geovec
from geovec.cli import app


def _by_id(store, view, feature):
    ids, vectors = store.vectors(view, feature)
    order = np.argsort(ids)
    return [ids[i] for i in order], vectors[order]


def test_ray_ingest_equals_local(ray_cluster, tmp_path):
    world = geovec.synth(tmp_path / "world", seed=2, ground=8, extent_km=2.5)
    manifest = world.manifest.with_name("with_a_broken_image.csv")  # paths: from the world
    (manifest.parent / "broken.png").write_bytes(b"not a png")
    lines = world.manifest.read_text().splitlines()
    first = lines[1].split(",")
    lines.append(",".join(["broken", "broken.png", *first[2:]]))
    manifest.write_text("\n".join(lines) + "\n")
    local = geovec.open(tmp_path / "local")
    geovec.ingest(local, manifest, features=["gist"])
    distributed = geovec.open(tmp_path / "ray")
    summary = geovec.ingest(distributed, manifest, features=["gist"], engine="ray", workers=2)
    assert summary.failed == 1 and summary.ingested == world.ground + world.overhead + world.tiles
    for view in ("ground", "overhead", "map"):
        ids_a, a = _by_id(local, view, "gist")
        ids_b, b = _by_id(distributed, view, "gist")
        assert ids_a == ids_b and len(set(ids_b)) == len(ids_b)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    failures = distributed.read("failures").to_pylist()
    assert [(f["stage"], f["path"].endswith("broken.png")) for f in failures] == [("decode", True)]
    # resumable: a re-run (killed or not) only does what is missing
    again = geovec.ingest(distributed, manifest, features=["gist"], engine="ray")
    assert again.ingested == 0 and again.skipped == summary.ingested


def test_ray_extract_and_evaluate_equal_local(ray_cluster, tmp_path):
    world = geovec.synth(tmp_path / "world", seed=3, ground=10, extent_km=2.5)
    store = geovec.open(tmp_path / "db")
    geovec.ingest(store, world.manifest, features=["gist"])
    geovec.isolate(store)
    runner = CliRunner()
    bare = geovec.open(tmp_path / "bare")
    geovec.ingest(bare, world.manifest, features=["gist"])
    for view in ("ground", "overhead", "map"):
        bare.table(view).drop_columns(["gist"])  # as if ingested without it
    done = runner.invoke(app, ["extract", str(bare.path), "--features", "gist", "--engine", "ray"])
    assert done.exit_code == 0, done.output
    assert f"extracted {world.ground + world.overhead + world.tiles}," in done.output
    for view in ("ground", "overhead", "map"):
        ids_a, a = _by_id(store, view, "gist")
        ids_b, b = _by_id(bare, view, "gist")
        assert ids_a == ids_b
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    local = geovec.evaluate(store, "gist")
    remote = geovec.evaluate(store, "gist", engine="ray")
    assert remote.ranks.column("rank").to_pylist() == local.ranks.column("rank").to_pylist()
    cli = runner.invoke(
        app, ["evaluate", str(store.path), "--feature", "gist", "--engine", "ray", "--json"]
    )
    assert json.loads(cli.output)["top_1_percent"] == local.top_1_percent
