"""Where a store stands: what it holds and the next step it lacks (``geovec info DB``,
``--json``, and the explorer's ``/api/info``, which answer with this one dict).

:func:`store_info` reads only columns that are not vectors (ids, regions, positions,
splits, pairs) and each feature column's null count, so it stays quick on a large store.
Keys of its answer:

- ``store`` (absolute path); ``counts`` (rows per table); ``versions`` (Lance version per
  table);
- ``features``: ``{view: {feature: {"length", "rows" (rows holding it), "provenance"}}}``,
  the provenance as the column records it (network, layer, weights file and sha256,
  preprocessing; an encoder's, an import's or a head's own keys);
- ``regions``: one entry per region of any view (``region``: the stored name, null for the
  rows without one, shown by ``label`` as ``no region``), with ``ground``, ``overhead`` and
  ``map`` rows, ``images`` (located ground photos), ``isolated``, and the box around its
  located rows (``west``, ``south``, ``east``, ``north``, decimal degrees; null when none);
- ``split``: ground images ``isolated``, ``flagged`` (isolated true or false: marked by
  ``geovec isolate``), ``train``, ``test`` and other splits by name, ``unset`` (no split),
  ``unlocated`` ground images, ``unpaired`` ground images (no overhead pair),
  ``isolation_radius_m`` (null: not recorded);
- ``indexes``: the vector indexes (view, feature, kind, indexed and unindexed rows);
- ``failures``: inputs that failed, per stage;
- ``heads``: learned heads embedded in the store (name, sha256, its input features, the
  columns it wrote per view);
- ``next``: the steps the store lacks, each a line naming what is missing and the command
  that supplies it (empty: every analysis can run).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from geovec.analyses.isolation import isolation_radius
from geovec.counts import count
from geovec.defaults import DEFAULT_FEATURE
from geovec.store import Store
from geovec.store.indexes import list_indexes
from geovec.store.regions import region_label
from geovec.store.schema import FAILURES, VIEWS

_BASE_COLUMNS = {
    "ground": ["region", "lon", "lat", "pair", "split", "isolated"],
    "overhead": ["region", "lon", "split"],
    "map": ["region", "lon", "lat"],
}


def store_info(store: Store) -> dict:
    """What ``store`` holds and the next step it lacks (the keys: see the module)."""
    tables = store.tables()
    counts = {t: store.count(t) for t in tables}
    rows = {v: store.read(v, _BASE_COLUMNS[v]) for v in VIEWS if counts.get(v)}
    features = {v: _features(store, v) for v in VIEWS if v in tables}
    info = {
        "store": str(Path(store.path).resolve()),
        "counts": counts,
        "versions": {t: store.table(t).version for t in tables},
        "features": features,
        "regions": _regions(rows),
        "split": _split(store, rows.get("ground")),
        "indexes": [
            {
                "view": i.view,
                "feature": i.feature,
                "kind": i.kind,
                "indexed_rows": i.indexed_rows,
                "unindexed_rows": i.unindexed_rows,
            }
            for i in list_indexes(store)
        ],
        "failures": _failures(store) if counts.get(FAILURES) else {},
        "heads": _heads(features),
    }
    info["next"] = next_steps(info, str(store.path))
    return info


def _features(store: Store, view: str) -> dict[str, dict]:
    total = store.count(view)
    table = store.table(view)
    out = {}
    for name, length in store.features(view).items():
        held = total - table.count_rows(f"{name} IS NULL") if total else 0
        out[name] = {"length": length, "rows": held, "provenance": store.provenance(view, name)}
    return out


def _regions(rows: dict[str, pa.Table]) -> list[dict]:
    """One entry per region of any view, named regions first (by name), then no region."""
    found: dict[str | None, dict] = {}
    for view, table in rows.items():
        for region, n in _group_count(table.column("region")).items():
            entry = found.setdefault(region, _region_entry(region))
            entry[view] = n
        located = table.filter(pc.is_valid(table.column("lon")))
        if view == "ground":
            for region, n in _group_count(located.column("region")).items():
                found[region]["images"] = n
            isolated = located.filter(pc.fill_null(located.column("isolated"), False))
            for region, n in _group_count(isolated.column("region")).items():
                found[region]["isolated"] = n
        if "lat" in table.column_names:
            _widen(found, located)
    return sorted(found.values(), key=lambda r: (r["region"] is None, r["region"] or ""))


def _region_entry(region: str | None) -> dict:
    return {
        "region": region,
        "label": region_label(region),
        "ground": 0,
        "overhead": 0,
        "map": 0,
        "images": 0,
        "isolated": 0,
        "west": None,
        "south": None,
        "east": None,
        "north": None,
    }


def _widen(found: dict, located: pa.Table) -> None:
    """Grow each region's box by its located rows of one view."""
    if not located.num_rows:
        return
    boxes = located.group_by("region", use_threads=False).aggregate(
        [("lon", "min"), ("lat", "min"), ("lon", "max"), ("lat", "max")]
    )
    for box in boxes.to_pylist():
        entry = found[box["region"]]
        for key, value, pick in (
            ("west", box["lon_min"], min),
            ("south", box["lat_min"], min),
            ("east", box["lon_max"], max),
            ("north", box["lat_max"], max),
        ):
            entry[key] = value if entry[key] is None else pick(entry[key], value)


def _group_count(column: pa.ChunkedArray) -> dict:
    grouped = pa.table({"k": column}).group_by("k", use_threads=False)
    counts = grouped.aggregate([([], "count_all")])
    return dict(zip(counts.column("k").to_pylist(), counts.column("count_all").to_pylist()))


def _split(store: Store, ground: pa.Table | None) -> dict:
    out = {
        "isolated": 0,
        "flagged": 0,
        "train": 0,
        "test": 0,
        "unset": 0,
        "unlocated": 0,
        "unpaired": 0,
        "isolation_radius_m": isolation_radius(store),
    }
    if ground is None:
        return out
    out["isolated"] = int(pc.sum(pc.fill_null(ground.column("isolated"), False)).as_py() or 0)
    out["flagged"] = ground.num_rows - ground.column("isolated").null_count
    for split, n in _group_count(ground.column("split")).items():
        out["unset" if split is None else split] = n
    out["unlocated"] = ground.column("lon").null_count
    out["unpaired"] = ground.column("pair").null_count
    return out


def _failures(store: Store) -> dict[str, int]:
    stages = _group_count(store.read(FAILURES, ["stage"]).column("stage"))
    return dict(sorted((str(k), v) for k, v in stages.items()))


def _heads(features: dict[str, dict]) -> list[dict]:
    heads: dict[str, dict] = {}
    for view, columns in features.items():
        for column, about in columns.items():
            made = about["provenance"]
            if "head" not in made or "tower" not in made:
                continue
            head = heads.setdefault(
                made["head"],
                {
                    "name": made["head"],
                    "sha256": made.get("sha256") or None,
                    "ground_feature": made.get("ground_feature"),
                    "overhead_feature": made.get("overhead_feature"),
                    "columns": {},
                },
            )
            head["columns"][view] = column
    return list(heads.values())


# the next step ------------------------------------------------------------------------


def next_steps(info: dict, db: str | None = None) -> list[str]:
    """What the store described by ``info`` (:func:`store_info`) lacks for the analyses,
    each as "what is missing: the command that supplies it", in the order of the work;
    the commands name the store as ``db`` (default: its absolute path)."""
    db = db or info["store"]
    counts, split, features = info["counts"], info["split"], info["features"]
    ground, overhead, tiles = (counts.get(v, 0) for v in VIEWS)
    located = ground - split["unlocated"]
    places = bool(split.get("database") or split.get("queries"))  # place recognition
    crossview = located and not places
    steps = []
    if not ground:
        steps.append(
            f"no ground photos: geovec ingest {db} PHOTOS/ (a folder located by EXIF GPS, "
            "or a manifest)"
        )
    if crossview and not tiles:
        steps.append(
            "no map tiles: cut them with geovec grid --bbox W,S,E,N --out grid.csv + "
            f"geovec aerial ORTHO.tif grid.csv --out tiles, then geovec ingest {db} "
            "tiles/manifest.csv"
        )
    if ground and not overhead and not places:
        steps.append(
            "no overhead images (the training pairs): geovec aerial ORTHO.tif points.csv "
            f"--view overhead --out aerial, then geovec ingest {db} aerial/manifest.csv"
        )
    elif ground and overhead and split["unpaired"] == ground:
        steps.append(
            "no ground photo has an overhead pair (ground.pair): ingest the overhead "
            "images of geovec aerial --view overhead, whose manifest names each photo"
        )
    feature = _main_feature(features)
    for view in VIEWS:
        if not counts.get(view):
            continue
        if not features.get(view):
            steps.append(
                f"no features on {view}: geovec extract {db} --features "
                f"{feature or DEFAULT_FEATURE} --view {view}"
            )
        elif feature and feature in features.get("ground", {}):
            about = features[view].get(feature)
            held = about["rows"] if about else 0
            if held < counts[view]:
                rows = count(counts[view], f"{view} row")
                steps.append(
                    f"{counts[view] - held} of {rows} lack {feature}: "
                    f"geovec extract {db} --features {feature} --view {view}"
                )
    if crossview and not split["flagged"]:
        steps.append(f"no isolated flags (no test set): geovec isolate {db}")
    elif crossview and split["isolated"] == located and located > 1:
        radius = split["isolation_radius_m"]
        at = f"{radius:g} m" if radius else "the isolation radius"
        steps.append(
            f"all {located} located photos are isolated at {at} (no training images): add "
            f"photos within {at} of each other, or geovec isolate {db} --radius-m LARGER"
        )
    unnamed = next((r for r in info["regions"] if r["region"] is None), None)
    if unnamed is not None:
        rows = unnamed["ground"] + unnamed["overhead"] + unnamed["map"]
        steps.append(
            f"{count(rows, 'row')} {'has' if rows == 1 else 'have'} no region: "
            f"geovec regions {db} --set NAME (or --from LAYER.geojson)"
        )
    return steps


def _main_feature(features: dict[str, dict]) -> str | None:
    """The feature the next steps name: the default one where ground has it, else ground's
    first."""
    ground = features.get("ground", {})
    heads = {n for n, a in ground.items() if "head" in a["provenance"]}
    plain = [n for n in ground if n not in heads]
    if DEFAULT_FEATURE in plain:
        return DEFAULT_FEATURE
    return plain[0] if plain else None
