import numpy as np
import pytest

import geovec
from geovec.errors import HeadError
from geovec.heads import load_head
from geovec.heads.file import head_name


def test_round_trip(latent, tmp_path):
    _, summary = latent
    head = load_head(summary.path)
    again = load_head(head.save(tmp_path / "copy.safetensors"))
    x = np.random.default_rng(0).normal(size=(5000, 24)).astype(np.float32)  # > one call
    np.testing.assert_array_equal(head.embed_ground(x), again.embed_ground(x))
    out = head.embed_ground(x)
    assert out.shape == (5000, 32)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(head.embed_ground(x[:3]), out[:3], atol=1e-6)  # padding
    assert (head.ground_column, head.overhead_column) == (
        "latent_head_ground",
        "latent_head_overhead",
    )


def test_bad_files(tmp_path):
    with pytest.raises(HeadError, match="no such head file"):
        load_head(tmp_path / "none.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(HeadError, match="not a readable safetensors"):
        load_head(tmp_path / "junk.safetensors")
    from safetensors.numpy import save_file

    save_file({"x": np.zeros(2, np.float32)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(HeadError, match="not a geovec head"):
        load_head(tmp_path / "other.safetensors")
    assert head_name("runs/My-Head.safetensors") == "my_head"


def test_a_head_that_does_not_fit_the_store(latent, tmp_path):
    _, summary = latent
    from tests.stores import known_store

    other = known_store(tmp_path)  # features: gist (2 values)
    with pytest.raises(HeadError) as info:
        geovec.evaluate(other, head=summary.path)
    message = str(info.value)
    assert "\n" not in message
    assert "ground.latent_ground with 24 values" in message and "gist" in message
    with pytest.raises(HeadError, match="takes latent_ground .24 values"):
        load_head(summary.path).embed_ground(np.zeros((2, 7), np.float32))


def test_a_head_never_scores_what_it_may_have_trained_on(latent):
    from geovec.heads.file import new_head

    store, _ = latent
    before = new_head(
        "early",
        ("latent_ground", "latent_overhead"),
        (24, 40),
        hidden=8,
        dim=4,
        seed=0,
        metadata={"isolated_at_training": 0, "split": "train"},
    )
    with pytest.raises(HeadError, match="trained before the test images were isolated"):
        geovec.evaluate(store, head=before)
    on_test = new_head(
        "on_test",
        ("latent_ground", "latent_overhead"),
        (24, 40),
        hidden=8,
        dim=4,
        seed=0,
        metadata={"isolated_at_training": 100, "split": "test"},
    )
    with pytest.raises(HeadError, match="trained on split 'test'"):
        geovec.evaluate(store, protocol="pairs", head=on_test)
