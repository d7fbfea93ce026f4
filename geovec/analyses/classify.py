"""Region classification (paper, Section 4.1, Table 1, Figures 5 and 6): which region is a
ground photo from? An RBF-kernel SVM per feature (scikit-learn), trained on up to N random
non-isolated ground images per region and tested on the isolated ones.

>>> table = classify(demo_store, ["gist"])
>>> table.regions, table.results[0].test == demo_store.count("ground", "isolated")
(['charleston', 'sanfrancisco'], True)
>>> print(table.table())  # doctest: +ELLIPSIS
feature          accuracy    charleston  sanfrancisco
-----------------------------------------------------
gist                ...
(chance ...; trained on non-isolated, tested on isolated images)
"""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from geovec.counts import count
from geovec.defaults import DEFAULT_TRAIN_PER_REGION
from geovec.errors import GeovecError
from geovec.features.names import known_features
from geovec.store import Store
from geovec.store.regions import NO_REGION, region_label

MONTAGE_SIZE = 6


@dataclasses.dataclass
class FeatureResult:
    """Accuracy of one feature, plus the images for the montages (ids, by region)."""

    feature: str
    accuracy: float
    train: int
    test: int
    per_region: dict[str, float]
    typical: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    wrong: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    ambiguous: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Classification:
    """Table 1: one row per feature."""

    regions: list[str]
    chance: float
    results: list[FeatureResult]
    unassigned: int = 0  # ground images with no region: in neither training nor test

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def table(self) -> str:
        head = f"{'feature':<16}{'accuracy':>9}  " + "  ".join(f"{r:>12}" for r in self.regions)
        lines = [head, "-" * len(head)]
        for r in self.results:
            per = "  ".join(f"{r.per_region.get(g, float('nan')):>12.3f}" for g in self.regions)
            lines.append(f"{r.feature:<16}{r.accuracy:>9.3f}  {per}")
        left_out = (
            f"; {count(self.unassigned, 'ground image')} with no region left out"
            if self.unassigned
            else ""
        )
        lines.append(
            f"(chance {self.chance:.3f}; trained on non-isolated, tested on isolated images"
            f"{left_out})"
        )
        return "\n".join(lines)


def classify(
    store: Store,
    features: list[str] | None = None,
    *,
    train_per_region: int = DEFAULT_TRAIN_PER_REGION,
    seed: int = 0,
) -> Classification:
    """Train and test an RBF SVM per feature (default: every feature ground has)."""
    have = store.features("ground")
    features = features or [f for f in known_features() if f in have and not f.endswith("_prob")]
    if not features:
        raise GeovecError(
            f"ground has no feature column: geovec extract {store.path} --features gist "
            "--view ground (or ingest the photos with --features)"
        )
    meta = store.read("ground", ["id", "region", "isolated"]).to_pylist()
    if all(m["isolated"] is None for m in meta):
        raise GeovecError(
            f"no test set yet: isolate the test images first (geovec isolate {store.path})"
        )
    info = {m["id"]: m for m in meta}
    regions = sorted({m["region"] for m in meta if m["region"] is not None})
    unassigned = sum(m["region"] is None for m in meta)
    if len(regions) < 2:
        found = ", ".join(regions) or "none"
        if unassigned:
            found += f"; {count(unassigned, 'ground image')} with {NO_REGION}"
        raise GeovecError(
            f"region classification needs two or more regions, found {found}: name them "
            f"with geovec regions {store.path} --from LAYER.geojson, or ingest each "
            "region's images with --region NAME (or all with --regions LAYER)"
        )
    rng = np.random.default_rng(seed)
    results, chance = [], 0.0
    for feature in features:
        ids, x = store.vectors("ground", feature)
        y = np.array([region_label(info[i]["region"]) for i in ids])
        named = np.array([info[i]["region"] is not None for i in ids], bool)
        test = np.array([bool(info[i]["isolated"]) for i in ids]) & named
        train_idx = []
        for region in regions:
            pool = np.nonzero((y == region) & ~test)[0]
            train_idx.extend(rng.permutation(pool)[:train_per_region])
        train_idx = np.sort(np.array(train_idx))
        test_idx = np.nonzero(test)[0]
        if len(test_idx) == 0 or len(set(y[train_idx])) < 2:
            trained = sorted(set(y[train_idx]))
            raise GeovecError(
                f"{feature}: needs isolated test images and training images of two regions; "
                f"has {count(len(test_idx), 'isolated photo')} with it and training photos "
                f"of {', '.join(trained) or 'no region'}: geovec extract {store.path} "
                f"--features {feature} --view ground, or geovec isolate {store.path} "
                "--radius-m R (a smaller R leaves more to train on, a larger one more to test)"
            )
        model = make_pipeline(StandardScaler(), SVC(kernel="rbf", C=1.0, gamma="scale"))
        model.fit(x[train_idx], y[train_idx])
        predicted = model.predict(x[test_idx])
        truth = y[test_idx]
        counts = np.array([np.mean(truth == r) for r in regions])
        chance = float(counts.max())
        result = FeatureResult(
            feature,
            float(np.mean(predicted == truth)),
            len(train_idx),
            len(test_idx),
            {r: float(np.mean(predicted[truth == r] == r)) for r in regions if np.any(truth == r)},
        )
        if len(regions) == 2:
            score = model.decision_function(x[test_idx])  # > 0 means regions[1]
            toward_truth = np.where(truth == regions[1], score, -score)
            test_ids = [ids[i] for i in test_idx]
            for r in regions:
                mine = np.nonzero(truth == r)[0]
                order = mine[np.argsort(-toward_truth[mine])]
                result.typical[r] = [test_ids[i] for i in order[:MONTAGE_SIZE]]
                result.wrong[r] = [
                    test_ids[i] for i in order[::-1][:MONTAGE_SIZE] if toward_truth[i] < 0
                ]
            result.ambiguous = [test_ids[i] for i in np.argsort(np.abs(score))[:MONTAGE_SIZE]]
        results.append(result)
    return Classification(regions, chance, results, unassigned)
