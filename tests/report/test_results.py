"""Result files (geovec.report.results): JSON a reader can scroll, a curve in two lines."""

import json

import numpy as np

from geovec.analyses.metrics import curve_columns, curve_points, localisation_curve
from geovec.report.results import compact_json, write_json


def test_a_curve_is_two_compact_arrays(tmp_path):
    curve = localisation_curve(np.array([0, 3, 50]), np.array([100, 100, 100]))
    result = {"feature": "gist", "curve": curve_columns(curve), "recall": {"1": np.float32(0.5)}}
    text = write_json(result, tmp_path / "evaluate_gist.json").read_text()
    assert len(text.splitlines()) <= 10, text
    lines = [line.strip() for line in text.splitlines()]
    assert any(line.startswith('"percent": [0.0, 1.0, 2.0,') for line in lines), text
    assert any(line.startswith('"localised": [0.0, 0.333') for line in lines), text
    back = json.loads(text)
    assert back["recall"] == {"1": 0.5} and curve_points(back["curve"]) == curve


def test_compact_json_keeps_every_value():
    value = {"a": [1, 2.5, "x", None, True], "b": [{"c": []}, [1, 2]], "d": {}, "e": float("nan")}
    text = compact_json(value)
    back = json.loads(text)
    assert back["a"] == value["a"] and back["b"] == value["b"] and back["d"] == {}
    assert np.isnan(back["e"]) and '"a": [1, 2.5, "x", null, true]' in text
