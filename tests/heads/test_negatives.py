"""geovec train --negatives gps|random: which pairs share a batch (geovec.heads.batches)."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import geovec
from geovec.cli import app
from geovec.errors import GeovecError
from geovec.geodesy import distance_m
from geovec.heads import load_head, train
from geovec.heads.batches import BatchPlan
from geovec.heads.pairs import training_pairs
from tests.stores import add_rows, latent_pair_store

# clusters of 32 pairs, each within 250 m of its centre: across the antimeridian, near
# the south pole, at high latitude, and two 40 km apart
CENTRES = [(0, 0), (0.5, 0), (10, 45), (179.999, -17), (-120, 80), (30, -89.99), (100, 10)]
CENTRES += [(100.3, 10.2)]
PER = 32


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    """(store, training pairs, each pair's cluster) of pairs in far-apart clusters, the
    pairs of all clusters interleaved in id order."""
    rng = np.random.default_rng(0)
    ground, overhead, cluster = [], [], []
    for _ in range(PER):
        for c, (lon, lat) in enumerate(CENTRES):
            d = rng.uniform(-1, 1, 2) * 250 / 111_320
            x = (lon + d[0] / max(np.cos(np.radians(lat)), 0.01) + 180) % 360 - 180
            y = float(np.clip(lat + d[1], -89.999, 89.999))
            i = len(ground)
            ground.append(
                {"id": f"g{i:04d}", "lon": x, "lat": y, "split": "train", "pair": f"o{i:04d}"}
            )
            overhead.append({"id": f"o{i:04d}", "lon": x, "lat": y, "split": "train"})
            cluster.append(c)
    store = geovec.open(tmp_path_factory.mktemp("clusters") / "db")
    n = len(ground)
    add_rows(store, "ground", ground, {"f": rng.normal(size=(n, 4)).astype(np.float32)})
    add_rows(store, "overhead", overhead, {"f": rng.normal(size=(n, 4)).astype(np.float32)})
    pairs = training_pairs(store, "f", "f", "train", 250.0)
    order = [int(g[1:]) for g in pairs.ground_ids]
    return store, pairs, np.array(cluster)[order]


def _batches(store, pairs, negatives, epochs=4, seed=1):
    plan = BatchPlan(store, np.arange(len(pairs)), PER, negatives, pairs.lonlat)
    rng = np.random.default_rng(seed)
    return [plan.epoch(rng) for _ in range(epochs)]


def _mate_distance_m(pairs, batch):
    """Median geodesic metres between the pairs of one batch."""
    lon, lat = pairs.lonlat[batch, 0], pairs.lonlat[batch, 1]
    d = distance_m(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    return float(np.median(d[np.triu_indices(len(batch), 1)]))


def test_gps_batches_hold_near_pairs_together(clusters):
    store, pairs, cluster = clusters
    for epoch in _batches(store, pairs, "gps"):
        assert len(epoch) == len(pairs) // PER and all(len(b) == PER for b in epoch)
        assert len({int(i) for b in epoch for i in b}) == len(pairs)  # each pair once
        shares = [np.bincount(cluster[b]).max() / PER for b in epoch]
        assert np.mean(shares) >= 0.8 and min(shares) >= 0.5, shares
        assert all(len(set(cluster[b])) <= 3 for b in epoch)
        # the cluster across the antimeridian is cut at most once
        assert sum(bool((cluster[b] == 3).any()) for b in epoch) <= 2
        assert np.median([_mate_distance_m(pairs, b) for b in epoch]) < 1000
    for epoch in _batches(store, pairs, "random"):  # as before: a mix of the whole world
        shares = [np.bincount(cluster[b]).max() / PER for b in epoch]
        assert np.mean(shares) < 0.45
        assert np.median([_mate_distance_m(pairs, b) for b in epoch]) > 1_000_000


def test_gps_batches_move_every_epoch_and_follow_the_seed(clusters):
    store, pairs, _ = clusters
    one, again, other = (_batches(store, pairs, "gps", seed=s) for s in (1, 1, 2))

    def sets(epoch):
        return {frozenset(b.tolist()) for b in epoch}

    assert [sets(e) for e in one] == [sets(e) for e in again]
    assert all(np.array_equal(a, b) for e, f in zip(one, again) for a, b in zip(e, f))
    assert sets(one[0]) != sets(one[1])  # the batch edges fall elsewhere each epoch
    assert [sets(e) for e in one] != [sets(e) for e in other]


def test_random_batches_are_the_shuffles_of_before(clusters):
    store, pairs, _ = clusters
    rng = np.random.default_rng(5)
    fit = rng.permutation(len(pairs))[:200]
    plan = BatchPlan(store, fit, 48, "random")
    mine, theirs = np.random.default_rng(9), np.random.default_rng(9)
    for _ in range(2):
        shuffled = theirs.permutation(fit)
        expected = [shuffled[i * 48 : (i + 1) * 48] for i in range(200 // 48)]
        assert all(np.array_equal(a, b) for a, b in zip(plan.epoch(mine), expected))


def test_gps_needs_positions_and_pairs_without_one_batch_together(clusters):
    store, pairs, _ = clusters
    lonlat = pairs.lonlat.copy()
    lonlat[::2] = np.nan  # every other pair without a position
    plan = BatchPlan(store, np.arange(len(pairs)), PER, "gps", lonlat)
    unknown = ~np.isfinite(lonlat).all(axis=1)
    mixed = [b for b in plan.epoch(np.random.default_rng(0)) if 0 < unknown[b].sum() < PER]
    assert len(mixed) <= 1  # only where the curve's end meets them
    with pytest.raises(GeovecError, match="gps negatives need the pairs' positions"):
        BatchPlan(store, np.arange(len(pairs)), PER, "gps", np.full_like(lonlat, np.nan))
    with pytest.raises(GeovecError, match="negatives must be random or gps"):
        BatchPlan(store, np.arange(len(pairs)), PER, "hard")


@pytest.mark.slow  # three trainings, each compiled: about 40 s
def test_gps_training_is_deterministic_per_seed(tmp_path):
    store, _, _ = latent_pair_store(tmp_path / "db", pairs=60)
    kwargs = dict(ground_feature="latent_ground", overhead_feature="latent_overhead")
    kwargs.update(epochs=2, batch=16, dim=8, hidden=16, negatives="gps")
    files = [
        train(store, out=tmp_path / name / "h.safetensors", seed=seed, **kwargs).path
        for name, seed in (("a", 3), ("b", 3), ("c", 4))
    ]
    assert files[0].read_bytes() == files[1].read_bytes()
    assert files[0].read_bytes() != files[2].read_bytes()
    meta = load_head(files[0]).metadata
    assert meta["negatives"] == "gps" and meta["gps_cell_m"] == 480.0


def test_cli_negatives(tmp_path):
    latent_pair_store(tmp_path / "db", pairs=40)
    runner = CliRunner()
    args = ["train", str(tmp_path / "db"), "--ground-feature", "latent_ground"]
    args += ["--overhead-feature", "latent_overhead", "--out", str(tmp_path / "h.safetensors")]
    args += ["--epochs", "1", "--dim", "8", "--hidden", "16", "--batch", "8"]
    done = runner.invoke(app, [*args, "--negatives", "gps", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["pairs"] == 36
    assert load_head(tmp_path / "h.safetensors").metadata["negatives"] == "gps"
    bad = runner.invoke(app, [*args, "--negatives", "hard"])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "negatives must be random or gps, got 'hard'" in bad.output
