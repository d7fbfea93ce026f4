"""``geovec demo``: the whole toolkit on the built-in synthetic world, one command.

Synthesises the world (reused when present), ingests it (GIST, plus CNN features for
every network with converted weights), marks isolated images, runs every analysis and
writes DIR/report.html with the numbers and pictures.
"""

from __future__ import annotations

import dataclasses
import html
import json
import time
from collections.abc import Callable
from pathlib import Path

import geovec
from geovec.crossview import evaluate
from geovec.ingestion import default_features
from geovec.isolation import DEFAULT_RADIUS_M, isolate
from geovec.landcover import landcover, write_landcover
from geovec.localize import localize, write_heatmap
from geovec.plots import localisation_curves
from geovec.region import classify, write_montages
from geovec.search import search, write_montage
from geovec.synth import DEFAULT_EXTENT_KM, DEMO_GROUND
from geovec.synth.build import synth
from geovec.weights import available_networks, network


@dataclasses.dataclass
class DemoResult:
    report: Path
    features: list[str]
    numbers: dict


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


def run_demo(
    directory: str | Path,
    say: Callable[[str], None] = print,
    *,
    ground: int = DEMO_GROUND,
    extent_km: float = DEFAULT_EXTENT_KM,
    seed: int = 0,
) -> DemoResult:
    """Run the demo into ``directory``; ``say`` receives one line per step."""
    out = Path(directory)
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    numbers: dict = {}

    say(f"1/7 synthesising the world in {out / 'world'} ...")
    world = synth(out / "world", seed=seed, ground=ground, extent_km=extent_km, progress=True)
    say(
        f"    {'reused' if world.reused else 'wrote'} {world.ground} ground, "
        f"{world.overhead} overhead, {world.tiles} map images"
    )

    features = demo_features()
    cnn = [f for f in features if f != "gist"]
    say(
        "2/7 ingesting with "
        + ", ".join(features)
        + (
            ""
            if cnn
            else " (no converted CNN weights: run geovec weights convert to add CNN features)"
        )
    )
    store = geovec.open(out / "db")
    summary = geovec.ingest(store, world.manifest, features=features, progress=True)
    say("    " + summary.line())
    numbers["ingest"] = dataclasses.asdict(summary)

    say(f"3/7 marking isolated ground images ({DEFAULT_RADIUS_M:g} m) ...")
    iso = isolate(store, DEFAULT_RADIUS_M)
    say(f"    {iso.isolated} of {iso.total} isolated")
    numbers["isolation"] = iso.as_dict()

    say("4/7 cross-view localisation of every isolated image ...")
    evaluations = [evaluate(store, f) for f in features]
    localisation_curves({e.feature: e.curve for e in evaluations}, figures / "curve.png")
    numbers["crossview"] = [
        {k: v for k, v in e.as_dict().items() if k != "curve"} for e in evaluations
    ]
    for e in evaluations:
        say(f"    {e.summary()}")
    main_feature = "places_fc8" if "places_fc8" in features else features[0]
    test_ids = [
        r["id"] for r in store.read("ground", ["id", "isolated"]).to_pylist() if r["isolated"]
    ]
    heatmaps = []
    for ident in test_ids[:: max(1, len(test_ids) // 3)][:3]:
        result = localize(store, ident=ident, feature=main_feature)
        heatmaps.append(write_heatmap(result, figures / f"heatmap_{ident}.png"))

    say("5/7 region classification (RBF SVM per feature) ...")
    classes = classify(store, features)
    say("    " + classes.table().replace("\n", "\n    "))
    montages = write_montages(store, classes, figures)
    numbers["classify"] = classes.as_dict()

    say("6/7 land-cover PCA images ...")
    landcover_images, numbers["landcover"] = [], []
    for region in classes.regions:
        lc = landcover(store, region, main_feature, truth=world.truth)
        landcover_images.append(write_landcover(lc, figures / f"landcover_{region}.png"))
        numbers["landcover"].append(lc.as_dict())
        say(f"    {region}: class accuracy {lc.class_accuracy:.2f} (chance {lc.chance:.2f})")

    say("7/7 aerial image-based search ...")
    query = store.read("overhead", ["id", "path"]).to_pylist()[0]
    hits = search(store, query["path"], main_feature, k=6)
    search_png = write_montage(query["path"], hits, figures / "search.png")
    numbers["search"] = {"query": query["id"], "results": [h.id for h in hits]}

    numbers["seconds"] = round(time.perf_counter() - started, 1)
    (out / "results.json").write_text(json.dumps(numbers, indent=1, default=str))
    report = write_report(
        out,
        features,
        numbers,
        [figures / "curve.png", *heatmaps],
        montages,
        landcover_images,
        search_png,
    )
    return DemoResult(report, features, numbers)


def write_report(
    out: Path, features, numbers, crossview_figs, montages, landcover_figs, search_fig
) -> Path:
    """DIR/report.html: every number and picture of the demo, relative links."""

    def img(path: Path) -> str:
        src = html.escape(str(Path(path).relative_to(out)))
        return f'<img src="{src}" style="max-width:48%;margin:4px">'

    rows = "".join(
        f"<tr><td>{html.escape(c['feature'])}</td><td>{c['queries']}</td><td>{c['candidates']}</td>"
        f"<td>{c['top_1_percent']:.3f}</td><td>{c['chance_top_1_percent']:.3f}</td>"
        f"<td>{c['recall']['1']:.3f}</td><td>{c['recall']['5']:.3f}</td>"
        f"<td>{c['recall']['10']:.3f}</td><td>{c['area_under_curve']:.3f}</td></tr>"
        for c in numbers["crossview"]
    )
    cls = numbers["classify"]
    cls_rows = "".join(
        f"<tr><td>{html.escape(r['feature'])}</td><td>{r['accuracy']:.3f}</td></tr>"
        for r in cls["results"]
    )
    lc_rows = "".join(
        f"<tr><td>{html.escape(r['region'])}</td><td>{r['class_accuracy']:.3f}</td>"
        f"<td>{r['chance']:.3f}</td></tr>"
        for r in numbers["landcover"]
    )
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>geovec demo</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}}
td,th{{padding:2px 10px;text-align:right}}</style></head><body>
<h1>geovec demo on the synthetic world</h1>
<p>Features: {html.escape(", ".join(features))}. Ingested {numbers["ingest"]["ingested"]} images
({numbers["ingest"]["failed"]} failed). Isolated test set: {numbers["isolation"]["isolated"]} of
{numbers["isolation"]["total"]} ground images within {numbers["isolation"]["radius_m"]:g} m.
Total time {numbers["seconds"]} s.</p>
<h2>Cross-view localisation (Section 4.3)</h2>
<table><tr><th>feature</th><th>queries</th><th>candidates</th><th>top-1%</th>
<th>chance</th><th>R@1</th><th>R@5</th><th>R@10</th><th>area under curve</th></tr>{rows}</table>
<p>Random ranking would give the top-1% in the chance column and an area of 0.5.</p>
{"".join(img(p) for p in crossview_figs)}
<h2>Region classification (Table 1)</h2>
<table><tr><th>feature</th><th>accuracy</th></tr>{cls_rows}</table><p>chance {cls["chance"]:.3f}</p>
{"".join(img(p) for p in montages)}
<h2>Land-cover PCA (Figure 7)</h2>
<table><tr><th>region</th><th>nearest-centroid accuracy</th><th>chance</th></tr>{lc_rows}</table>
{"".join(img(p) for p in landcover_figs)}
<h2>Aerial image-based search (Figure 8)</h2>{img(search_fig)}
</body></html>"""
    path = out / "report.html"
    path.write_text(body)
    return path
