"""``geovec demo``: the whole toolkit on the built-in synthetic world, one command.

Its steps are functions below that each read and fill one :class:`DemoRun`: synthesise
the world (reused when present), ingest it (GIST, plus CNN features for every network with
converted weights), mark the isolated test images, train a learned head, the paper's four
analyses, its dataset figures (Figs. 2-4) and the features side by side; the numbers go to
DIR/results.json and DIR/report.html shows them with the pictures.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import geovec
from geovec.analyses.classify import classify
from geovec.analyses.compare import compare
from geovec.analyses.crossview import evaluate
from geovec.analyses.isolation import isolate
from geovec.analyses.landcover import landcover
from geovec.analyses.layers import region_outlines
from geovec.analyses.localize import localize
from geovec.analyses.search import search
from geovec.defaults import DEFAULT_FEATURE, DEFAULT_RADIUS_M
from geovec.features.names import default_features
from geovec.heads import embed, train
from geovec.nets.registry import network
from geovec.nets.weights import available_networks
from geovec.report.breakdowns import breakdown_lines
from geovec.report.comparison import write_comparison
from geovec.report.dataset_figures import write_dataset_figures
from geovec.report.figures import localisation_curves
from geovec.report.html import write_report
from geovec.report.results import (
    error_columns,
    write_classification,
    write_heatmap,
    write_json,
    write_landcover,
    write_search_montage,
)
from geovec.synthetic import DEFAULT_EXTENT_KM, DEFAULT_SEED, DEMO_GROUND
from geovec.synthetic.build import SynthSummary, synth

HEATMAPS = 3
"""Test images whose localisation heatmap the report shows."""
SEARCH_K = 6
"""Nearest aerial images in the report's search montage."""


@dataclasses.dataclass
class DemoResult:
    report: Path
    features: list[str]
    numbers: dict
    db: Path | None = None  # the store, for ``geovec serve``


@dataclasses.dataclass
class DemoRun:
    """What the steps share: where to write, what was made so far, and the numbers."""

    out: Path
    say: Callable[[str], None]
    ground: int
    extent_km: float
    seed: int
    world: SynthSummary | None = None
    head: Path | None = None  # the learned head's file
    store: geovec.Store | None = None
    features: list[str] = dataclasses.field(default_factory=list)
    numbers: dict = dataclasses.field(default_factory=dict)
    figures: dict[str, list[Path]] = dataclasses.field(default_factory=dict)
    landcovers: dict = dataclasses.field(default_factory=dict)  # region -> LandcoverResult
    step: str = ""  # "3/7" while the third of seven steps runs

    def announce(self, text: str) -> None:
        """The line that opens a step: its number and what it does."""
        self.say(f"{self.step} {text}")

    @property
    def figure_dir(self) -> Path:
        return self.out / "figures"

    @property
    def main_feature(self) -> str:
        """The feature of the single-feature pictures: the paper's when present."""
        return DEFAULT_FEATURE if DEFAULT_FEATURE in self.features else self.features[0]


def demo_features() -> list[str]:
    """GIST, plus fc8 (and Places' fc7) of every network whose weights are converted."""
    features = default_features()
    for net in available_networks():
        prefix = network(net).feature_prefix
        for layer in ("fc7", "fc8"):
            name = f"{prefix}_{layer}"
            if name not in features:
                features.append(name)
    return features


def synthesise(run: DemoRun) -> str:
    """Write (or reuse) the synthetic world."""
    run.announce(f"synthesising the world in {run.out / 'world'} ...")
    w = synth(
        run.out / "world", seed=run.seed, ground=run.ground, extent_km=run.extent_km, progress=True
    )
    run.world = w
    state = "reused" if w.reused else "wrote"
    return f"{state} {w.ground} ground, {w.overhead} overhead, {w.tiles} map images"


def ingest_world(run: DemoRun) -> str:
    """Ingest every image of the world with the demo's features."""
    run.features = demo_features()
    cnn = [f for f in run.features if f != "gist"]
    note = (
        "" if cnn else " (no converted CNN weights: run geovec weights convert to add CNN features)"
    )
    run.announce("ingesting with " + ", ".join(run.features) + note)
    run.store = geovec.open(run.out / "db")
    summary = geovec.ingest(run.store, run.world.manifest, features=run.features, progress=True)
    run.numbers["ingest"] = dataclasses.asdict(summary)
    return summary.line()


def isolate_test_set(run: DemoRun) -> str:
    """Mark the isolated ground images: the test set."""
    run.announce(f"marking isolated ground images ({DEFAULT_RADIUS_M:g} m) ...")
    result = isolate(run.store, radius_m=DEFAULT_RADIUS_M)
    run.numbers["isolation"] = result.as_dict()
    return f"{result.isolated} of {result.total} isolated"


def train_learned_head(run: DemoRun) -> str:
    """A learned cross-view head on the main feature's pairs (never the test images), and
    its embeddings written into the store."""
    feature = run.main_feature
    run.announce(f"training a learned cross-view head on {feature} pairs ...")
    run.head = run.out / "heads" / f"{feature}_head.safetensors"
    summary = train(run.store, ground_feature=feature, out=run.head, progress=True)
    embedded = embed(run.store, run.head)
    run.numbers["head"] = {
        "path": str(run.head.relative_to(run.out)),
        "pairs": summary.pairs,
        "held_out": summary.validation,
        "best_epoch": summary.best_epoch,
        "excluded": summary.excluded,
        **summary.metrics,
    }
    return f"{summary.line()}\n{embedded.line()}"


def localise(run: DemoRun) -> str:
    """Cross-view localisation of every test image, per feature and with the learned
    head, and a few heatmaps."""
    run.announce("cross-view localisation of every isolated image ...")
    regions = write_json(region_outlines(run.store), run.out / "regions.geojson")
    evaluations = [evaluate(run.store, f, by=regions) for f in run.features]  # per region too
    evaluations.append(evaluate(run.store, head=run.head, by=regions))
    curve = localisation_curves(
        {f"{e.feature} ({e.method})": e.curve for e in evaluations},
        run.figure_dir / "curve.png",
        errors=error_columns(evaluations),  # the metre-level panel beside the rank curve
    )
    run.numbers["crossview"] = [
        {k: v for k, v in e.as_dict().items() if k != "curve"} for e in evaluations
    ]
    test_ids = [
        r["id"] for r in run.store.read("ground", ["id", "isolated"]).to_pylist() if r["isolated"]
    ]
    run.figures["crossview"] = [curve]
    for ident in test_ids[:: max(1, len(test_ids) // HEATMAPS)][:HEATMAPS]:
        result = localize(run.store, run.main_feature, id=ident)
        run.figures["crossview"].append(
            write_heatmap(result, run.figure_dir / f"heatmap_{ident}.png")
        )
    lines = [e.summary() for e in evaluations]
    return "\n".join(lines + breakdown_lines(evaluations[0]))


def classify_regions(run: DemoRun) -> str:
    """Region classification with an RBF SVM per feature, and the montages."""
    run.announce("region classification (RBF SVM per feature) ...")
    result = classify(run.store, run.features)
    written = write_classification(run.store, result, run.figure_dir)
    run.figures["montages"] = [p for p in written if p.suffix == ".png"]
    run.numbers["classify"] = result.as_dict()
    return result.table()


def map_landcover(run: DemoRun) -> str:
    """The land-cover PCA image of each region beside its true map."""
    run.announce("land-cover PCA images ...")
    lines, run.numbers["landcover"], run.figures["landcover"] = [], [], []
    for region in run.numbers["classify"]["regions"]:
        lc = landcover(run.store, run.main_feature, region=region, truth=run.world.truth)
        run.landcovers[region] = lc
        run.figures["landcover"].append(
            write_landcover(lc, run.figure_dir / f"landcover_{region}.png")
        )
        run.numbers["landcover"].append(lc.as_dict())
        lines.append(f"{region}: class accuracy {lc.class_accuracy:.2f} (chance {lc.chance:.2f})")
    return "\n".join(lines)


def search_aerial(run: DemoRun) -> str:
    """Aerial image-based search with the first overhead image."""
    run.announce("aerial image-based search ...")
    query = run.store.read("overhead", ["id", "path"]).to_pylist()[0]
    hits = search(run.store, run.main_feature, image=query["path"], k=SEARCH_K)
    run.figures["search"] = [
        write_search_montage(query["path"], hits, run.figure_dir / "search.png")
    ]
    run.numbers["search"] = {"query": query["id"], "results": [h.id for h in hits]}
    return ""


def dataset_figures(run: DemoRun) -> str:
    """The paper's dataset figures: each region's mosaic beside its land-cover images
    (Fig. 2), the coverage (Fig. 3), panoramas with their cutouts and example photos
    (Fig. 4)."""
    run.announce("dataset figures (Figs. 2-4) ...")
    figures = write_dataset_figures(run.store, run.figure_dir, run.landcovers)
    run.figures["dataset"] = [p for paths in figures.values() for p in paths]
    return f"wrote {len(run.figures['dataset'])} figures"


def side_by_side(run: DemoRun) -> str:
    """The demo's features side by side at the same places (geovec compare)."""
    run.announce("the features side by side (geovec compare) ...")
    result = compare(run.store, run.features)
    written = write_comparison(result, run.figure_dir)
    run.figures["compare"] = [p for p in written if p.suffix == ".png"]
    run.numbers["compare"] = result.as_dict()
    return result.table()


STEPS = (
    synthesise,
    ingest_world,
    isolate_test_set,
    train_learned_head,
    localise,
    classify_regions,
    map_landcover,
    search_aerial,
    dataset_figures,
    side_by_side,
)


def run_demo(
    directory: str | Path,
    say: Callable[[str], None] = print,
    *,
    ground: int = DEMO_GROUND,
    extent_km: float = DEFAULT_EXTENT_KM,
    seed: int = DEFAULT_SEED,
) -> DemoResult:
    """Run the demo into ``directory``; ``say`` receives one line per step and its
    results, indented."""
    started = time.perf_counter()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    run = DemoRun(out, say, ground, extent_km, seed)
    for number, step in enumerate(STEPS, 1):
        run.step = f"{number}/{len(STEPS)}"
        for line in filter(None, step(run).split("\n")):
            say(f"    {line}")
    run.numbers["seconds"] = round(time.perf_counter() - started, 1)
    write_json(run.numbers, out / "results.json")
    report = write_report(
        out,
        run.features,
        run.numbers,
        run.figures["crossview"],
        run.figures["montages"],
        run.figures["landcover"],
        run.figures["search"][0],
        dataset_figs=run.figures.get("dataset", []),
        compare=run.numbers.get("compare"),
        compare_figs=run.figures.get("compare", []),
    )
    return DemoResult(report, run.features, run.numbers, run.store.path)
