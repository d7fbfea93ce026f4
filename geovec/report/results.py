"""Result files of the analyses: JSON and Parquet beside the figures, one writer per
analysis, shared by the command line and the demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow.parquet as pq
from matplotlib import colormaps, colors

from geovec.report.figures import image_pair, localisation_curves, tile_heatmap
from geovec.report.montage import montage
from geovec.report.paths import output_file, output_folder
from geovec.store.regions import region_label

if TYPE_CHECKING:
    from geovec.analyses.classify import Classification
    from geovec.analyses.crossview import Evaluation
    from geovec.analyses.landcover import LandcoverResult, TrueCover
    from geovec.analyses.localize import Localization
    from geovec.analyses.pairs import PairEvaluation
    from geovec.analyses.search import SearchHit
    from geovec.store import Store


def write_json(obj: object, path: Path) -> Path:
    """``obj`` as indented JSON (numpy scalars and paths as plain values), each array of
    plain values on one line (a curve's 101 points are two lines, not 400)."""
    path = output_file(path)
    path.write_text(compact_json(obj) + "\n")
    return path


def compact_json(obj: object, level: int = 0) -> str:
    """``obj`` as JSON, objects and arrays of them indented one space a level, arrays of
    plain values (numbers, text) on one line."""
    if level == 0:
        obj = json.loads(json.dumps(obj, default=_plain))
    pad = " " * level
    if isinstance(obj, dict) and obj:
        items = [f"{pad} {json.dumps(k)}: {compact_json(v, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(obj, list) and any(isinstance(v, dict | list) for v in obj):
        items = [f"{pad} {compact_json(v, level + 1)}" for v in obj]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(obj)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def write_evaluations(evaluations: list[Evaluation | PairEvaluation], out: Path) -> list[Path]:
    """For each evaluation: evaluate_<feature>.json (the aggregates) and
    ranks_<feature>.parquet (one row per query); then, for the map protocol, curve.png
    with every curve."""
    out = output_folder(out)
    written = []
    for e in evaluations:
        name = e.ground_feature if e.protocol == "pairs" else e.feature
        written.append(write_json(e.as_dict(), out / f"evaluate_{name}.json"))
        pq.write_table(e.ranks, out / f"ranks_{name}.parquet")
        written.append(out / f"ranks_{name}.parquet")
    curves = {e.feature: e.curve for e in evaluations if e.protocol == "map"}
    errors = error_columns(evaluations)
    if curves or errors:
        written.append(localisation_curves(curves, out / "curve.png", errors=errors))
    return written


def error_columns(evaluations) -> dict[str, np.ndarray]:
    """{label: per-query error_m (NaN where unknown)} of the evaluations that know some
    error, for the accuracy-vs-distance panel of curve.png."""
    out = {}
    for e in evaluations:
        if "error_m" not in e.ranks.column_names:
            continue
        values = e.ranks.column("error_m").to_numpy(zero_copy_only=False).astype(float)
        if np.isfinite(values).any():
            name = e.ground_feature if e.protocol == "pairs" else e.feature
            out[f"{name} ({e.protocol})"] = values
    return out


def write_heatmap(result: Localization, path: Path) -> Path:
    """Paper Figure 10: every tile's score, the best tile and the true location marked."""
    rank = (
        f", true tile rank {result.true_rank} of {result.candidates}"
        if result.true_rank is not None
        else ""
    )
    return tile_heatmap(
        result.tile_lonlat,
        result.scores,
        path,
        result.true_lonlat,
        best=int(np.argmin(result.scores)),
        title=f"{result.query}: {result.feature}{rank}",
        tile_paths=result.tile_paths,
        tile_size_m=result.tile_size_m,
    )


def write_search_montage(query: str | Path, hits: list[SearchHit], path: Path) -> Path:
    """Paper Figure 8: the query, its nearest aerial images, and their ground photos."""
    return montage(
        [
            ("nearest aerial", [(h.overhead_path, f"{h.id} {h.distance:.2f}") for h in hits]),
            ("their ground photos", [(h.ground_path or "", h.id) for h in hits]),
        ],
        path,
        lead=("query", str(query), Path(query).name),
    )


def write_classification(store: Store, result: Classification, out: Path) -> list[Path]:
    """classify.json, and per feature the montage of Figures 5 and 6: the most
    region-typical, most wrongly scored and most ambiguous test photos."""
    out = output_folder(out)
    written = [write_json(result.as_dict(), out / "classify.json")]
    paths = {g["id"]: g["path"] for g in store.read("ground", ["id", "path"]).to_pylist()}
    for r in result.results:
        rows = []
        for region in result.regions:
            rows.append((f"typical {region}", [(paths[i], i) for i in r.typical.get(region, [])]))
            rows.append((f"wrong: {region}", [(paths[i], i) for i in r.wrong.get(region, [])]))
        rows.append(("most ambiguous", [(paths[i], i) for i in r.ambiguous]))
        written.append(montage(rows, out / f"classify_{r.feature}.png"))
    return written


def class_colours(truth: TrueCover) -> dict[str, tuple[float, float, float]]:
    """RGB in [0, 1] per class: the truth file's colours, else a qualitative palette."""
    palette = colormaps["tab10" if len(truth.classes) <= 10 else "tab20"]
    return {
        name: colors.to_rgb(truth.colours.get(name) or palette(i % palette.N))
        for i, name in enumerate(truth.classes)
    }


def write_landcover(result: LandcoverResult, path: Path) -> Path:
    """Paper Figure 7: the PCA image, with the true land-cover map beside it when known."""
    accuracy = (
        f": nearest-centroid accuracy {result.class_accuracy:.2f} (chance {result.chance:.2f})"
        if result.class_accuracy is not None
        else ""
    )
    truth_rgb, legend = None, None
    if result.truth is not None:
        legend = class_colours(result.truth)
        truth_rgb = np.array([legend[c] for c in result.truth.classes])[result.truth.grid]
    return image_pair(
        result.image,
        truth_rgb,
        path,
        (f"{result.feature}: first 3 principal components", "true land cover (per tile)"),
        legend=legend,
        suptitle=f"{region_label(result.region)}{accuracy}",
        extent=result.extent,
        origin=result.origin,
    )
