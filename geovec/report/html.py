"""The demo's report: one HTML page with every number and picture, relative links, no
scripts, nothing fetched."""

from __future__ import annotations

import html
from pathlib import Path

from geovec.counts import count


def write_report(
    out: Path,
    features,
    numbers,
    crossview_figs,
    montages,
    landcover_figs,
    search_fig,
    *,
    dataset_figs=(),
    compare: dict | None = None,
    compare_figs=(),
) -> Path:
    """DIR/report.html: every number and picture of the demo, relative links; the dataset
    figures (Figs. 2-4) and the features side by side (``compare``: Comparison.as_dict())
    when given."""

    def img(path: Path) -> str:
        src = html.escape(str(Path(path).relative_to(out)))
        return f'<img src="{src}" style="max-width:48%;margin:4px">'

    rows = "".join(
        f"<tr><td>{html.escape(c['feature'])}</td><td>{html.escape(c['method'])}</td>"
        f"<td>{c['queries']}</td><td>{c['candidates']}</td>"
        f"<td>{c['top_1_percent']:.3f}</td><td>{c['chance_top_1_percent']:.3f}</td>"
        f"<td>{c['recall']['1']:.3f}</td><td>{c['recall']['5']:.3f}</td>"
        f"<td>{c['recall']['10']:.3f}</td><td>{c['area_under_curve']:.3f}</td>"
        f"<td>{_fmt(c.get('chance_area_under_curve'))}</td></tr>"
        for c in numbers["crossview"]
    )
    head = numbers.get("head")
    head_note = (
        f"{count(head['pairs'], 'pair')}, {head['held_out']} held out, best epoch "
        f"{head['best_epoch']}"
        if head
        else "none trained"
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
<p>Features: {html.escape(", ".join(features))}.
Ingested {count(numbers["ingest"]["ingested"], "image")} ({numbers["ingest"]["failed"]} failed).
Isolated test set: {numbers["isolation"]["isolated"]} of
{numbers["isolation"]["total"]} ground images within {numbers["isolation"]["radius_m"]:g} m.
Total time {numbers["seconds"]} s.</p>
<h2>Cross-view localisation (Section 4.3)</h2>
<table><tr><th>feature</th><th>method</th><th>queries</th><th>candidates</th><th>top-1%</th>
<th>chance</th><th>R@1</th><th>R@5</th><th>R@10</th><th>area under curve</th><th>chance</th></tr>
{rows}</table>
<p>Random ranking would give the top-1% and the area in the chance columns (an area of
about 0.5 with many candidates, less with few: "1 %" of a few candidates is the first one).
"knn-average" is the paper's method (the mean aerial feature of the 30 nearest training
ground images); "learned" a two-tower head trained on the training pairs' features
({head_note}), scoring each tile by its embeddings.</p>
{_breakdown_section(numbers["crossview"])}
{"".join(img(p) for p in crossview_figs)}
<h2>Region classification (Table 1)</h2>
<table><tr><th>feature</th><th>accuracy</th></tr>{cls_rows}</table><p>chance {cls["chance"]:.3f}</p>
{"".join(img(p) for p in montages)}
<h2>Land-cover PCA (Figure 7)</h2>
<table><tr><th>region</th><th>nearest-centroid accuracy</th><th>chance</th></tr>{lc_rows}</table>
{"".join(img(p) for p in landcover_figs)}
<h2>Aerial image-based search (Figure 8)</h2>{img(search_fig)}
{_dataset_section(dataset_figs, img)}{_compare_section(compare, compare_figs, img)}
</body></html>"""
    path = out / "report.html"
    path.write_text(body)
    return path


def _breakdown_section(evaluations) -> str:
    """Per region (``evaluate --by`` the regions' outlines): each evaluation's numbers."""
    rows = []
    for c in evaluations:
        for place, m in (c.get("by") or {}).items():
            error = m.get("median_error_m")
            rows.append(
                f"<tr><td>{html.escape(c['feature'])}</td><td>{html.escape(place)}</td>"
                f"<td>{m['queries']}</td><td>{m['top_1_percent']:.3f}</td>"
                f"<td>{m.get('chance_top_1_percent', 0.0):.3f}</td><td>{m['recall']['1']:.3f}</td>"
                f"<td>{_fmt(m.get('area_under_curve'))}</td>"
                f"<td>{'-' if error is None else f'{error:.0f}'}</td></tr>"
            )
    if not rows:
        return ""
    return (
        "<h3>Per region</h3><p>The same evaluations, the queries grouped by the region "
        "outline holding them (<code>geovec evaluate --by regions.geojson</code>: each "
        "region the convex hull of its map tiles).</p><table><tr><th>feature</th>"
        "<th>region</th><th>queries</th><th>top-1%</th><th>chance</th><th>R@1</th>"
        "<th>area under curve</th><th>median error m</th></tr>" + "".join(rows) + "</table>"
    )


def _dataset_section(figures, img) -> str:
    if not figures:
        return ""
    return (
        "<h2>The dataset (Figures 2-4)</h2><p>Each region's aerial mosaic beside its "
        "land-cover images; where the map tiles and the ground photos are, by source; "
        "panoramas with their two side cutouts, and photos after the indoor/outdoor "
        "filter.</p>" + "".join(img(p) for p in figures)
    )


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _compare_section(compare: dict | None, figures, img) -> str:
    if not compare:
        return ""
    names = ["classify_accuracy", "top_1_percent", "area_under_curve", "recall_1"]
    names += ["recall_5", "recall_10", "landcover_pca3"]
    heads = ["accuracy", "top-1%", "AUC", "R@1", "R@5", "R@10", "PCA-3 variance"]
    rows = [*compare["rows"], {"feature": "(chance)", "dim": None, **compare["chance"]}]
    body = "".join(
        f"<tr><td>{html.escape(str(r['feature']))}</td><td>{_fmt(r['dim'])}</td>"
        + "".join(f"<td>{_fmt(r[n])}</td>" for n in names)
        + "</tr>"
        for r in rows
    )
    counts = ", ".join(
        f"{view} {c['with_all']} of {c['rows']}"
        for view, c in compare["counts"].items()
        if c["rows"]
    )
    skipped = "; ".join(
        f"{s['analysis']}"
        + (f" for {', '.join(s['features'])}" if s["features"] else "")
        + f" ({s['reason']})"
        for s in compare["skipped"]
    )
    return (
        "<h2>Side by side (geovec compare)</h2><table><tr><th>feature</th><th>dim</th>"
        + "".join(f"<th>{h}</th>" for h in heads)
        + f"</tr>{body}</table><p>At the same places: the rows holding every compared "
        f"feature ({html.escape(counts)}).{skipped and ' Skipped: ' + html.escape(skipped)}</p>"
        + "".join(img(p) for p in figures)
    )
