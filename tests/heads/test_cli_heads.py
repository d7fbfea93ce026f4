"""geovec train / embed / evaluate --head / localize --head through the command line."""

import json

import pytest
from typer.testing import CliRunner

from geovec.cli import app
from geovec.heads import load_head
from tests.stores import latent_pair_store

runner = CliRunner()


def _run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


@pytest.mark.slow
def test_train(tmp_path):
    latent_pair_store(tmp_path / "db", pairs=300)
    head = tmp_path / "latent_head.safetensors"
    features = ["--ground-feature", "latent_ground", "--overhead-feature", "latent_overhead"]
    trained = _run(
        "train",
        tmp_path / "db",
        *features,
        "--out",
        head,
        "--dim",
        16,
        "--hidden",
        32,
        "--epochs",
        2,
        "--batch",
        64,
        "--seed",
        1,
        "--json",
    )
    assert trained.exit_code == 0, trained.output
    info = json.loads(trained.output)
    assert info["pairs"] == 270 and info["validation"] == 30 and info["path"] == str(head)
    assert load_head(head).dim == 16 and load_head(head).metadata["seed"] == 1
    text = _run("train", tmp_path / "db", *features, "--out", head, "--epochs", 1, "--split", "all")
    assert text.exit_code == 0 and "trained latent_head on 270 pairs" in text.output
    assert load_head(head).metadata["split"] is None


def test_embed_evaluate_localize(latent, tmp_path):
    store, summary = latent
    db, head = store.path, summary.path
    learned = _run("evaluate", db, "--head", head, "--json")
    assert learned.exit_code == 0, learned.output
    learned = json.loads(learned.output)
    assert learned["method"] == "learned" and learned["feature"] == "latent_head"
    assert learned["area_under_curve"] > 0.9

    pairs = _run("evaluate", db, "--protocol", "pairs", "--head", head, "--json")
    pairs = json.loads(pairs.output)
    assert pairs["method"] == "learned" and pairs["queries"] == 100
    assert pairs["recall"]["10"] > 0.5

    embedded = _run("embed", db, head)
    assert embedded.exit_code == 0, embedded.output
    assert "100 map -> map.latent_head_overhead" in embedded.output
    sql = _run("sql", db, "SELECT count(latent_head_ground) AS n FROM ground", "--format", "json")
    assert json.loads(sql.output)[0]["n"] == 500

    png = tmp_path / "heat.png"
    located = _run("localize", db, "--id", "q7", "--head", head, "--heatmap", png, "--json")
    assert located.exit_code == 0, located.output
    result = json.loads(located.output)
    assert result["feature"] == "latent_head" and result["true_tile"] == "t7"
    assert result["true_rank"] < 10 and png.stat().st_size > 0


def test_user_errors_are_one_line(tmp_path):
    latent_pair_store(tmp_path / "db", pairs=1)
    db = tmp_path / "db"
    few = _run(
        "train",
        db,
        "--ground-feature",
        "latent_ground",
        "--overhead-feature",
        "latent_overhead",
        "--out",
        tmp_path / "h.safetensors",
    )
    assert few.exit_code == 1 and "at least two" in few.output
    missing = _run("evaluate", db, "--head", tmp_path / "none.safetensors")
    assert missing.exit_code == 1 and "no such head file" in missing.output
    wrong = _run("evaluate", db, "--method", "direct", "--head", tmp_path / "none.safetensors")
    assert wrong.exit_code == 1 and "a head scores with method learned" in wrong.output
