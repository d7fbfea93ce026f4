"""Side by side: the paper's analyses for several features at the same places (the paper's
Table 1 for any encoder).

For each compared feature: region classification accuracy (:mod:`.classify`: RBF SVM,
trained on non-isolated and tested on isolated ground images), cross-view localisation
(:mod:`.crossview`: the map protocol's top-1 %, area under the curve and R@1/5/10; the
pairs protocol for pair-only stores) and the share of variance that the top three
principal components of the map tiles explain, per region (:mod:`.landcover`'s PCA):
whichever the store supports; the others are skipped, each with its reason.

"At the same places": in each view only the rows that hold every compared feature that
view has are read (the intersection of their ids), so every feature is scored on the same
test photos, training pairs, candidate tiles and PCA tiles; the counts are reported.

>>> result = compare(demo_store, ["gist"])
>>> result.features, "top_1_percent" in result.rows()[0]
(['gist'], True)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from geovec.analyses.classify import classify
from geovec.analyses.crossview import evaluate
from geovec.analyses.landcover import pca
from geovec.analyses.metrics import (
    area_under_curve,
    chance_area_under_curve,
    chance_top_one_percent,
    localisation_curve,
)
from geovec.counts import count
from geovec.defaults import DEFAULT_NEIGHBORS, DEFAULT_TRAIN_PER_REGION
from geovec.errors import GeovecError, StoreError
from geovec.store import Store
from geovec.store.filters import quote
from geovec.store.regions import region_label

VIEWS = ("ground", "overhead", "map")
METRICS = {  # column: what it is (every value a fraction in [0, 1], higher is better)
    "classify_accuracy": "region classification accuracy (isolated test photos)",
    "top_1_percent": "cross-view top-1 % (true tile among the first 1 % of candidates)",
    "area_under_curve": "area under the cross-view localisation curve",
    "recall_1": "cross-view R@1",
    "recall_5": "cross-view R@5",
    "recall_10": "cross-view R@10",
    "landcover_pca3": "variance of the map tiles explained by the top 3 principal components",
}
PCA_MIN_TILES = 4


class SamePlaces:
    """A store whose feature vectors are only those of the rows in ``keep`` (ids per view),
    in id order: the analyses read every vector through :meth:`Store.vectors`, so each of
    them sees the same rows whatever feature it reads. Everything else is the store's."""

    def __init__(self, store: Store, keep: dict[str, set[str]]):
        self._store = store
        self._keep = keep

    def vectors(self, view: str, feature: str, where: str | None = None):
        ids, matrix = self._store.vectors(view, feature, where)
        keep = self._keep.get(view, set())
        order = sorted((i for i, ident in enumerate(ids) if ident in keep), key=ids.__getitem__)
        return [ids[i] for i in order], matrix[np.asarray(order, np.int64)].reshape(
            len(order), matrix.shape[1]
        )

    def __getattr__(self, name):
        return getattr(self._store, name)


@dataclasses.dataclass
class Skip:
    """An analysis not run, for all compared features or for some."""

    analysis: str
    reason: str
    features: list[str] = dataclasses.field(default_factory=list)  # empty: for all of them

    def text(self) -> str:
        which = f" for {', '.join(self.features)}" if self.features else ""
        return f"{self.analysis}{which} ({self.reason})"


@dataclasses.dataclass
class Comparison:
    """The compared features' metrics (:meth:`rows`: one per feature, columns
    :data:`METRICS`, None where not run), each analysis's own numbers, the rows each view
    contributed (``counts``) and what was skipped."""

    features: list[str]
    dims: dict[str, dict[str, int]]  # view -> feature -> length
    counts: dict[str, dict]  # view -> rows, with_all (the intersection), per_feature
    classify: dict | None = None
    crossview: dict | None = None
    landcover: dict | None = None
    skipped: list[Skip] = dataclasses.field(default_factory=list)

    def rows(self) -> list[dict]:
        """One dict per feature: feature, dim (its ground length, else another view's) and
        each metric of :data:`METRICS` (None where it was not computed)."""
        out = []
        for f in self.features:
            dim = next((self.dims[v][f] for v in VIEWS if f in self.dims.get(v, {})), None)
            row = {"feature": f, "dim": dim, **dict.fromkeys(METRICS)}
            if self.classify and f in self.classify["accuracy"]:
                row["classify_accuracy"] = self.classify["accuracy"][f]
            if self.crossview and f in self.crossview["features"]:
                c = self.crossview["features"][f]
                row["top_1_percent"] = c["top_1_percent"]
                row["area_under_curve"] = c["area_under_curve"]
                for k in ("1", "5", "10"):
                    row[f"recall_{k}"] = c["recall"][k]
            if self.landcover and f in self.landcover["features"]:
                row["landcover_pca3"] = self.landcover["features"][f]["mean"]
            out.append(row)
        return out

    def chance(self) -> dict:
        """What chance would score, per metric (None where there is no such level)."""
        out = dict.fromkeys(METRICS)
        if self.classify:
            out["classify_accuracy"] = self.classify["chance"]
        if self.crossview:
            out["top_1_percent"] = self.crossview["chance_top_1_percent"]
            out["area_under_curve"] = self.crossview.get("chance_area_under_curve")
        return out

    def skipped_line(self) -> str:
        """One line: which analyses were skipped and why ("" when none was)."""
        return "skipped: " + "; ".join(s.text() for s in self.skipped) if self.skipped else ""

    def counts_line(self) -> str:
        """One line: how many rows of each view hold every compared feature."""
        parts = [f"{v} {c['with_all']} of {c['rows']}" for v, c in self.counts.items() if c["rows"]]
        return "same places (rows holding every compared feature): " + ", ".join(parts)

    def table(self) -> str:
        """The metrics as an aligned text table, chance last, then the counts and skips."""
        names = ["feature", "dim", *METRICS]
        heads = ["feature", "dim", "accuracy", "top-1%", "AUC", "R@1", "R@5", "R@10", "PCA-3"]
        rows = [[r[n] for n in names] for r in self.rows()]
        chance = self.chance()
        rows.append(["(chance)", None, *[chance[m] for m in METRICS]])
        cells = [[_cell(v) for v in row] for row in rows]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
        lines = [
            "  ".join(
                h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(heads, widths))
            )
        ]
        lines.append("-" * len(lines[0]))
        lines += [
            "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
            for row in cells
        ]
        lines.append(self.counts_line())
        if self.crossview:
            cv = self.crossview
            lines.append(
                f"cross-view: {cv['protocol']} protocol, {cv['method']}, "
                f"{count(cv['queries'], 'query')}, {count(cv['candidates'], 'candidate')}"
            )
        if self.classify:
            c = self.classify
            lines.append(
                f"classification: {count(len(c['regions']), 'region')}, trained on "
                f"{c['train']}, tested on {count(c['test'], 'isolated photo')}"
            )
        if self.skipped:
            lines.append(self.skipped_line())
        return "\n".join(lines)

    def as_dict(self) -> dict:
        """Everything, for JSON: ``rows`` and ``chance`` beside the analyses' numbers."""
        out = dataclasses.asdict(self)
        out["rows"] = self.rows()
        out["chance"] = self.chance()
        out["metrics"] = dict(METRICS)
        return out


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def compare(
    store: Store,
    features: list[str] | str,
    *,
    neighbors: int = DEFAULT_NEIGHBORS,
    train_per_region: int = DEFAULT_TRAIN_PER_REGION,
    protocol: str | None = None,
    split: str = "test",
    seed: int = 0,
) -> Comparison:
    """The paper's analyses for each of ``features`` at the same places (see the module).

    Args:
      features: two or more feature names (or one; a comma-separated text works too).
      neighbors: K nearest training ground images averaged for cross-view (paper: 30).
      train_per_region: most training photos per region for the classifier.
      protocol: "map" (the paper's: isolated photos against the map tiles) or "pairs"
        (each query's own aerial among the split's); default: map when the store has map
        tiles, else pairs.
      split: pairs: the queries' split.
      seed: the classifier's training sample.

    Raises:
      GeovecError: no feature named, or one that no view of the store holds.
    """
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    features = list(dict.fromkeys(features))
    if not features:
        raise GeovecError("name the features to compare, e.g. --features gist,places_fc8")
    if protocol not in (None, "map", "pairs"):
        raise GeovecError(f"protocol must be map or pairs, got {protocol!r}")
    for name, value in (("neighbors", neighbors), ("train_per_region", train_per_region)):
        if not isinstance(value, int) or value < 1:
            raise GeovecError(f"{name} must be a whole number of at least 1, got {value!r}")
    dims = {v: store.features(v) for v in VIEWS}
    for f in features:
        if not any(f in dims[v] for v in VIEWS):
            have = sorted({name for d in dims.values() for name in d}) or ["none"]
            raise GeovecError(f"no view has a feature {f!r} (the store has: {', '.join(have)})")
    keep, counts = _same_places(store, features, dims)
    same = SamePlaces(store, keep)
    result = Comparison(
        features, {v: {f: d for f, d in dims[v].items() if f in features} for v in VIEWS}, counts
    )
    result.classify = _classify(same, features, dims, result.skipped, train_per_region, seed)
    chosen = protocol or ("map" if counts["map"]["rows"] else "pairs")
    result.crossview = _crossview(same, features, dims, result.skipped, chosen, neighbors, split)
    result.landcover = _landcover(same, features, dims, result.skipped, keep)
    return result


def _same_places(store: Store, features: list[str], dims) -> tuple[dict, dict]:
    """Per view: the ids holding every compared feature the view has, and the counts."""
    keep, counts = {}, {}
    for view in VIEWS:
        held = [f for f in features if f in dims[view]]
        rows = store.count(view)
        per_feature = {
            f: set(store.read(view, ["id"], f"{f} IS NOT NULL").column("id").to_pylist())
            for f in held
        }
        ids = set.intersection(*per_feature.values()) if per_feature else set()
        keep[view] = ids
        counts[view] = {
            "rows": rows,
            "with_all": len(ids),
            "per_feature": {f: len(v) for f, v in per_feature.items()},
        }
    return keep, counts


def _missing(features, dims, views) -> tuple[list[str], list[str]]:
    """(features every one of ``views`` holds, the reasons of the others)."""
    ok, why = [], []
    for f in features:
        lacking = [v for v in views if f not in dims[v]]
        if lacking:
            why.append(f"{f}: no {f} in {' or '.join(lacking)}")
        else:
            ok.append(f)
    return ok, why


def _note_partial(skipped, analysis, features, ok, why) -> None:
    if why:
        skipped.append(Skip(analysis, "; ".join(why), [f for f in features if f not in ok]))


def _regions(store, view: str) -> list[str]:
    rows = store.read(view, ["region"]).column("region").to_pylist()
    return sorted({str(r) for r in rows if r is not None})


def _classify(store, features, dims, skipped, train_per_region, seed) -> dict | None:
    name = "classify"
    if not dims["ground"]:
        skipped.append(Skip(name, "no ground features"))
        return None
    regions = _regions(store, "ground")
    if len(regions) < 2:
        why = f"one region ({regions[0]})" if regions else "no named region"
        why += ": nothing to tell apart"
        if unnamed := store.count("ground", "region IS NULL"):
            why += (
                f"; {count(unnamed, 'ground image')} with no region: name them with "
                f"geovec regions {store.path} --from LAYER.geojson"
            )
        skipped.append(Skip(name, why))
        return None
    if not store.count("ground", "isolated"):
        skipped.append(Skip(name, f"no isolated test photos (run geovec isolate {store.path})"))
        return None
    ok, why = _missing(features, dims, ["ground"])
    _note_partial(skipped, name, features, ok, why)
    out = {"regions": regions, "chance": None, "train": None, "test": None}
    out |= {"accuracy": {}, "per_region": {}}
    for f in ok:
        try:  # one feature a call: the same seed draws the same training photos for each
            table = classify(store, [f], train_per_region=train_per_region, seed=seed)
        except StoreError:
            raise
        except GeovecError as exc:
            skipped.append(Skip(name, str(exc), [f]))
            continue
        r = table.results[0]
        out.update(chance=table.chance, train=r.train, test=r.test)
        out["accuracy"][f], out["per_region"][f] = r.accuracy, r.per_region
    return out if out["accuracy"] else None


def _crossview(store, features, dims, skipped, protocol, neighbors, split) -> dict | None:
    name = "crossview"
    if protocol == "map":
        views = ["ground", "overhead", "map"]
        if not store.count("map"):
            skipped.append(Skip(name, "no map view (map tiles) for the map protocol"))
            return None
        if not store.count("ground", "isolated"):
            skipped.append(Skip(name, f"no isolated test photos (run geovec isolate {store.path})"))
            return None
    else:
        views = ["ground", "overhead"]
        if not store.count("ground", f"split = {quote(split)}"):
            reason = "no map view, and no ground photo of split " if not store.count("map") else ""
            skipped.append(
                Skip(
                    name,
                    (reason or "no ground photo of split ") + f"{split!r} for the pairs protocol",
                )
            )
            return None
    for view in views:
        if not store.count(view):
            skipped.append(Skip(name, f"no {view} view"))
            return None
    ok, why = _missing(features, dims, views)
    _note_partial(skipped, name, features, ok, why)
    method = "knn-average"
    if protocol == "pairs" and not store.count("ground", "split = 'train'"):
        method = "direct"  # no training split to average over
    out = {"protocol": protocol, "method": method, "neighbors": neighbors, "features": {}}
    for f in ok:
        try:
            e = evaluate(
                store, f, protocol=protocol, method=method, neighbors=neighbors, split=split
            )
        except StoreError:
            raise
        except GeovecError as exc:
            skipped.append(Skip(name, str(exc), [f]))
            continue
        metrics = {"top_1_percent": e.top_1_percent, "recall": e.recall}
        if protocol == "map":
            metrics["area_under_curve"] = e.area_under_curve
            out["chance_top_1_percent"] = e.chance_top_1_percent
            out["chance_area_under_curve"] = e.chance_area_under_curve
        else:  # the same curve from the pairs' ranks
            ranks = e.ranks.column("rank").to_numpy()
            curve = localisation_curve(ranks, np.full(len(ranks), e.candidates))
            metrics["area_under_curve"] = area_under_curve(curve)
            out["chance_top_1_percent"] = chance_top_one_percent(np.array([e.candidates]))
            out["chance_area_under_curve"] = chance_area_under_curve(np.array([e.candidates]))
        out["features"][f] = metrics
        out["queries"], out["candidates"] = e.queries, e.candidates
    return out if out["features"] else None


def _landcover(store, features, dims, skipped, keep) -> dict | None:
    name = "landcover"
    if not store.count("map"):
        skipped.append(Skip(name, "no map view (map tiles)"))
        return None
    ok, why = _missing(features, dims, ["map"])
    narrow = [f for f in ok if dims["map"][f] < 3]
    why += [f"{f}: {dims['map'][f]} values, PCA-3 needs 3" for f in narrow]
    ok = [f for f in ok if f not in narrow]
    _note_partial(skipped, name, features, ok, why)
    meta = store.read("map", ["id", "region"]).to_pylist()
    region_of = {m["id"]: m["region"] for m in meta if m["id"] in keep["map"]}
    tiles = {}
    for r in region_of.values():
        tiles[r] = tiles.get(r, 0) + 1
    small = sorted((region_label(r) for r, n in tiles.items() if n < PCA_MIN_TILES))
    used = sorted((r for r, n in tiles.items() if n >= PCA_MIN_TILES), key=str)
    if small:
        skipped.append(
            Skip(
                name,
                f"regions with fewer than {count(PCA_MIN_TILES, 'tile')}: {', '.join(small)}",
            )
        )
    if not used or not ok:
        if not used and not small:
            skipped.append(Skip(name, "no map tile holds every compared feature"))
        return None
    out = {"regions": {region_label(r): tiles[r] for r in used}, "features": {}}
    for f in ok:
        ids, x = store.vectors("map", f)
        regions = np.array([str(region_of[i]) for i in ids])
        per = {}
        for r in used:
            _, ratio = pca(x[regions == str(r)])
            per[region_label(r)] = float(np.sum(ratio))
        out["features"][f] = {"regions": per, "mean": float(np.mean(list(per.values())))}
    return out
