import pytest

from geovec.heads import train
from tests.stores import latent_pair_store


@pytest.fixture(scope="session")
def latent(tmp_path_factory):
    """(store, trained head summary) on the latent-code world: 400 pairs, 100 tiles.
    Shared by the session: tests may add columns, never change the latent features."""
    root = tmp_path_factory.mktemp("latent")
    store, _, _ = latent_pair_store(root / "db")
    summary = train(
        store,
        ground_feature="latent_ground",
        overhead_feature="latent_overhead",
        out=root / "heads" / "latent_head.safetensors",
        epochs=30,
        batch=64,
        dim=32,
        hidden=64,
    )
    return store, summary
