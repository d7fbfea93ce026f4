"""geovec train / embed / evaluate --head / localize --head through the command line."""

import json

from typer.testing import CliRunner

from geovec.cli import app
from tests.stores import latent_pair_store

runner = CliRunner()


def _run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def test_train_embed_evaluate_localize(tmp_path):
    store, _, _ = latent_pair_store(tmp_path / "db", pairs=300)
    db, head = tmp_path / "db", tmp_path / "latent_head.safetensors"
    trained = _run(
        "train",
        db,
        "--ground-feature",
        "latent_ground",
        "--overhead-feature",
        "latent_overhead",
        "--out",
        head,
        "--dim",
        32,
        "--epochs",
        30,
        "--batch",
        64,
        "--seed",
        1,
        "--json",
    )
    assert trained.exit_code == 0, trained.output
    info = json.loads(trained.output)
    assert info["pairs"] == 270 and info["validation"] == 30 and info["path"] == str(head)

    learned = _run("evaluate", db, "--head", head, "--json")
    assert learned.exit_code == 0, learned.output
    learned = json.loads(learned.output)
    assert learned["method"] == "learned" and learned["feature"] == "latent_head"
    assert learned["area_under_curve"] > 0.9

    pairs = json.loads(_run("evaluate", db, "--protocol", "pairs", "--head", head, "--json").output)
    assert pairs["method"] == "learned" and pairs["queries"] == 100
    assert pairs["recall"]["10"] > 0.5

    embedded = _run("embed", db, head)
    assert embedded.exit_code == 0, embedded.output
    assert "100 map -> map.latent_head_overhead" in embedded.output
    sql = _run("sql", db, "SELECT count(latent_head_ground) AS n FROM ground", "--format", "json")
    assert json.loads(sql.output)[0]["n"] == 400

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
    assert "Traceback" not in few.output
    missing = _run("evaluate", db, "--head", tmp_path / "none.safetensors")
    assert missing.exit_code == 1 and "no such head file" in missing.output
    wrong = _run("evaluate", db, "--method", "direct", "--head", tmp_path / "none.safetensors")
    assert wrong.exit_code == 1
