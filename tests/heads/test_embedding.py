import numpy as np

import geovec
from geovec.heads import embed, load_head


def test_embeddings_become_features_every_analysis_takes(latent):
    store, summary = latent
    head = load_head(summary.path)
    done = embed(store, summary.path)
    assert done.rows == {"ground": 500, "overhead": 500, "map": 100}
    assert store.features("ground")["latent_head_ground"] == 32
    assert store.features("map")["latent_head_overhead"] == 32
    ids, stored = store.vectors("ground", "latent_head_ground")
    g_ids, inputs = store.vectors("ground", "latent_ground")
    assert ids == g_ids
    np.testing.assert_allclose(stored, head.embed_ground(inputs), atol=1e-6)
    assert store.provenance("map", "latent_head_overhead")["tower"] == "overhead"
    # the stored columns, scored directly, rank as the head does
    direct = geovec.evaluate(
        store,
        method="direct",
        ground_feature="latent_head_ground",
        overhead_feature="latent_head_overhead",
    )
    learned = geovec.evaluate(store, head=head)
    assert direct.ranks.column("rank").to_pylist() == learned.ranks.column("rank").to_pylist()
    # ... and SQL sees them like any column
    n = store.sql_table("SELECT count(latent_head_overhead) AS n FROM map").column("n")[0]
    assert n.as_py() == 100


def test_embedding_again_overwrites(latent, tmp_path):
    store, summary = latent
    head = load_head(summary.path)
    head.params = {**head.params}
    head.params["ground"] = {
        **head.params["ground"],
        "out": {**head.params["ground"]["out"], "bias": head.params["ground"]["out"]["bias"] + 5},
    }
    embed(store, head)
    _, stored = store.vectors("ground", "latent_head_ground")
    _, inputs = store.vectors("ground", "latent_ground")
    np.testing.assert_allclose(stored, head.embed_ground(inputs), atol=1e-6)
    assert store.count("ground") == 500  # updated in place, not appended
