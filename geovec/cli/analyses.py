"""The paper's analyses on the command line: ``isolate``, ``evaluate``, ``localize``,
``search``, ``classify`` and ``landcover``. Each calls one library function and prints its
result (``--json``: one JSON object); files are written by :mod:`geovec.report.results`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geovec.cli.app import (
    DbArgument,
    FeatureOption,
    JsonOption,
    NeighborsOption,
    app,
    command,
    echo_lines,
    open_existing,
    print_json,
    split_list,
)
from geovec.cli.embeddings import note_missing_images
from geovec.cli.export import CrsOption, check_output, write_heatmap_file, write_landcover_file
from geovec.cli.helptext import ANALYSES
from geovec.defaults import (
    DEFAULT_FEATURE,
    DEFAULT_K,
    DEFAULT_NEIGHBORS,
    DEFAULT_PIXELS_PER_TILE,
    DEFAULT_RADIUS_M,
    DEFAULT_THRESHOLD_M,
    DEFAULT_TOP,
    DEFAULT_TRAIN_PER_REGION,
)

RegionOption = Annotated[
    str | None, typer.Option(help="Region (needed when the store has several).")
]
HeadOption = Annotated[
    Path | None,
    typer.Option(help="A learned head (geovec train): score with its embeddings."),
]
PriorOption = Annotated[
    float | None,
    typer.Option(
        "--prior-m",
        help="GPS prior: rank only candidates within this many metres (geodesic) of the "
        "prior position.",
    ),
]
PriorNoiseOption = Annotated[
    float,
    typer.Option(
        "--prior-noise-m",
        help="The prior is the true position moved this many metres in a random direction "
        "(VIGOR's noisy GPS).",
    ),
]
SeedOption = Annotated[int, typer.Option(help="Seed of the prior's random directions.")]


def _given(context: typer.Context, name: str) -> bool:
    """Whether the option ``name`` of the running command was given (not its default)."""
    source = context.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def prior_options(context: typer.Context, prior_m, prior_noise_m, seed) -> dict:
    """The GPS prior's keyword arguments of geovec.evaluate / geovec.localize; noise and
    seed only with a radius."""
    from geovec.errors import GeovecError

    if prior_m is None:
        if _given(context, "prior_noise_m") or _given(context, "seed"):
            raise GeovecError("--prior-noise-m and --seed go with --prior-m")
        return {}
    return {"prior_m": prior_m, "prior_noise_m": prior_noise_m, "seed": seed}


def parse_metres(text: str, flag: str) -> tuple[float, ...]:
    """ "25,100,1000" → (25.0, 100.0, 1000.0); a one-line error naming ``flag``."""
    from geovec.errors import GeovecError

    try:
        return tuple(float(part) for part in split_list(text) or [])
    except ValueError:
        raise GeovecError(f"{flag} takes metres, comma-separated, got {text!r}") from None


@command(app, "isolate", panel=ANALYSES)
def isolate_command(
    db: DbArgument,
    radius_m: Annotated[float, typer.Option(help="Isolation radius in metres.")] = DEFAULT_RADIUS_M,
    as_json: JsonOption = False,
) -> None:
    """Mark the ground images alone within R metres: the test set.

    A ground image is isolated when no other ground image lies within R metres of it."""
    import geovec
    from geovec.report.terminal import isolation_lines

    result = geovec.isolate(open_existing(db), radius_m=radius_m)
    if as_json:
        print_json(result.as_dict())
    else:
        echo_lines(isolation_lines(result))


@command(app, "evaluate", panel=ANALYSES)
def evaluate_command(
    context: typer.Context,
    db: Annotated[
        Path | None,
        typer.Argument(
            help="Database directory (with --check: the store to re-run on; default: the "
            "one the results file records)."
        ),
    ] = None,
    feature: Annotated[
        str, typer.Option(help="Feature(s), comma-separated, e.g. places_fc8,gist.")
    ] = DEFAULT_FEATURE,
    protocol: Annotated[
        str,
        typer.Option(
            help="map (the paper's: isolated photos vs map tiles), pairs, or places (recall "
            "within --threshold-m metres among a database split)."
        ),
    ] = "map",
    method: Annotated[
        str | None,
        typer.Option(
            help="knn-average (default for map), direct (default for pairs) or learned "
            "(default with --head)."
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="pairs: the queries' split.")] = "test",
    threshold_m: Annotated[
        float,
        typer.Option(
            help="places: metres (WGS84 geodesic) within which a database image is a positive."
        ),
    ] = DEFAULT_THRESHOLD_M,
    recall: Annotated[
        str | None, typer.Option(help="places: the N of recall@N [default: 1,5,10,20].")
    ] = None,
    database_split: Annotated[str, typer.Option(help="places: the database images' split.")] = (
        "database"
    ),
    query_split: Annotated[str, typer.Option(help="places: the queries' split.")] = "queries",
    ground_feature: Annotated[
        str | None, typer.Option(help="The ground side's feature, when not --feature.")
    ] = None,
    overhead_feature: Annotated[
        str | None, typer.Option(help="The aerial side's feature, when not --feature.")
    ] = None,
    neighbors: NeighborsOption = DEFAULT_NEIGHBORS,
    region: Annotated[str | None, typer.Option(help="map: only this region.")] = None,
    head: HeadOption = None,
    engine: Annotated[
        str, typer.Option(help="map: local, or ray (queries split into Ray tasks).")
    ] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="ray: the cluster to join (default: a local one).")
    ] = None,
    within_m: Annotated[
        str,
        typer.Option(
            "--within-m",
            help="Distance thresholds in metres for within_m: the share of queries whose best "
            "candidate lies at most that far (geodesic) from their true position.",
        ),
    ] = "25,100,250,500,1000,5000",
    prior_m: PriorOption = None,
    prior_noise_m: PriorNoiseOption = 0.0,
    seed: SeedOption = 0,
    by: Annotated[
        Path | None,
        typer.Option(
            metavar="LAYER",
            help="Every metric per place too: a GeoJSON or GeoParquet layer of polygons "
            "(states, land-cover classes, districts); queries in none go to 'outside'.",
        ),
    ] = None,
    by_field: Annotated[
        str | None,
        typer.Option(
            help="The --by layer's field naming its places (default: name, else its "
            "first text field)."
        ),
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option(
            metavar="RESULTS.json",
            help="Re-run the evaluation a results file records (its other options come from "
            "the file) and say whether the numbers are identical (exit 0) or which differ "
            "(exit 1).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for results JSON, per-query ranks and curve PNG.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Cross-view localisation: the true tiles' ranks, top-1 %, recall.

    Ranks of the true map tile (or, --protocol pairs, aerial) of each query."""
    if check is not None:
        _check_results(check, db, as_json)
        return
    if db is None:
        from geovec.errors import GeovecError

        raise GeovecError("give the database directory (DB), or --check RESULTS.json")
    import geovec
    from geovec.errors import GeovecError
    from geovec.report.breakdowns import breakdown_lines
    from geovec.report.paths import output_folder
    from geovec.report.results import write_evaluations

    given = {  # the places options given (the other protocols refuse them), else None
        k: v if _given(context, k) else None
        for k, v in [
            ("threshold_m", threshold_m),
            ("database_split", database_split),
            ("query_split", query_split),
        ]
    }
    places = _places_options(
        protocol,
        engine,
        given["threshold_m"],
        recall,
        given["database_split"],
        given["query_split"],
    )
    metres = {"within_m": parse_metres(within_m, "--within-m")}
    metres.update(prior_options(context, prior_m, prior_noise_m, seed))
    if out:
        output_folder(out, make=False)  # before the work, not after it
    store = open_existing(db)
    features = [ground_feature] if ground_feature or head else split_list(feature)
    if not features:
        raise GeovecError(f"--feature names no feature: {feature!r}")
    results = [
        geovec.evaluate(
            store,
            f,
            protocol=protocol,
            method=method,
            neighbors=neighbors,
            region=region,
            split=split,
            ground_feature=ground_feature,
            overhead_feature=overhead_feature,
            head=head,
            engine=engine,
            ray_address=ray_address,
            by=by,
            by_field=by_field,
            **places,
            **metres,
        )
        for f in features
    ]
    if out:
        write_evaluations(results, out)
    if as_json:
        print_json(results[0].as_dict() if len(results) == 1 else [r.as_dict() for r in results])
        return
    echo_lines([r.summary() for r in results])
    for r in results:
        echo_lines(breakdown_lines(r))
    if out:
        typer.echo(f"wrote results and per-query ranks in {out}")


def _check_results(path: Path, db: Path | None, as_json: bool) -> None:
    """evaluate --check: the differences (one line each) and the verdict; exit 1 if any."""
    from geovec.analyses.recheck import check_results

    verdict = check_results(path, db)
    if as_json:
        print_json(verdict.as_dict())
    else:
        echo_lines(verdict.lines())
    if not verdict.identical:
        raise typer.Exit(1)


def _places_options(protocol, engine, threshold_m, recall, database_split, query_split) -> dict:
    """The places protocol's keyword arguments of geovec.evaluate, checked before the work
    (and refused with the other protocols)."""
    from geovec.errors import GeovecError

    given = {
        "threshold_m": threshold_m,
        "recall_at": recall,
        "database_split": database_split,
        "query_split": query_split,
    }
    given = {k: v for k, v in given.items() if v is not None}
    if protocol != "places":
        if given:
            flags = ", ".join("--" + k.replace("_at", "").replace("_", "-") for k in given)
            raise GeovecError(f"{flags}: for --protocol places only")
        return {}
    from geovec.analyses.places import check_engine, recall_values

    check_engine(engine)
    if recall is not None:
        given["recall_at"] = recall_values(recall)
    return given


@command(app, "localize", panel=ANALYSES)
def localize_command(
    context: typer.Context,
    db: DbArgument,
    ground_image: Annotated[Path | None, typer.Argument(help="Ground image file.")] = None,
    id: Annotated[str | None, typer.Option(help="A stored ground image instead of a file.")] = None,
    feature: FeatureOption = DEFAULT_FEATURE,
    neighbors: NeighborsOption = DEFAULT_NEIGHBORS,
    region: RegionOption = None,
    top: Annotated[int, typer.Option(help="Best tiles to list.")] = DEFAULT_TOP,
    head: HeadOption = None,
    heatmap: Annotated[
        Path | None,
        typer.Option(help="Write the heatmap: .png figure, .tif COG, .geojson/.parquet tiles."),
    ] = None,
    crs: CrsOption = None,
    radius_m: Annotated[
        float,
        typer.Option(
            help="Isolation radius in metres (as isolate used): a photo that is not isolated "
            "is scored without its training images within it, as evaluate scores test images."
        ),
    ] = DEFAULT_RADIUS_M,
    prior_m: PriorOption = None,
    prior: Annotated[
        str | None,
        typer.Option(
            metavar="LON,LAT", help="The prior position (decimal degrees), with --prior-m."
        ),
    ] = None,
    prior_noise_m: PriorNoiseOption = 0.0,
    seed: SeedOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Rank the map tiles for one ground image: best tiles, a heatmap.

    The best tiles with their lon/lat, and, with --heatmap, every tile's score."""
    import geovec
    from geovec.errors import GeovecError
    from geovec.report.terminal import localization_lines

    if heatmap:
        check_output(heatmap, "heatmap", crs)  # before the work, not after it
    priors = prior_options(context, prior_m, prior_noise_m, seed)
    if prior is not None:
        if prior_m is None:
            raise GeovecError("--prior goes with --prior-m (the radius in metres)")
        try:
            lon, lat = (float(v) for v in prior.split(","))
        except ValueError:
            raise GeovecError(f"--prior takes LON,LAT in decimal degrees, got {prior!r}") from None
        priors["prior_lonlat"] = (lon, lat)
    result = geovec.localize(
        open_existing(db),
        feature,
        image=ground_image,
        id=id,
        neighbors=neighbors,
        region=region,
        top=top,
        head=head,
        radius_m=radius_m,
        **priors,
    )
    if heatmap:
        write_heatmap_file(result, heatmap, crs)
    if as_json:
        print_json(result.as_dict())
        return
    echo_lines(localization_lines(result, top))
    if heatmap:
        typer.echo(f"wrote {heatmap}")


@command(app, "search", panel=ANALYSES)
def search_command(
    db: DbArgument,
    aerial_image: Annotated[Path, typer.Argument(help="Aerial image to search with.")],
    feature: FeatureOption = DEFAULT_FEATURE,
    k: Annotated[int, typer.Option(help="Number of nearest aerial images.")] = DEFAULT_K,
    bbox: Annotated[str | None, typer.Option(help="Only within W,S,E,N (decimal degrees).")] = None,
    near: Annotated[
        str | None, typer.Option(help="Only within LON,LAT,RADIUS_M of a point.")
    ] = None,
    exact: Annotated[
        bool | None,
        typer.Option(
            "--exact/--index",
            help="--exact scans every vector; --index goes through the feature's index. "
            "Neither: the index where there is one and the table is large, exactly otherwise.",
        ),
    ] = None,
    nprobes: Annotated[
        int | None, typer.Option(help="Index partitions to search (more: better recall).")
    ] = None,
    refine_factor: Annotated[
        int | None, typer.Option(help="Re-rank k x this many index hits by full vectors.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the montage PNG here.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Aerial search: the nearest aerial images and their ground photos."""
    import geovec
    from geovec.geo.bounds import parse_bbox, parse_near
    from geovec.report.paths import output_file
    from geovec.report.results import write_search_montage
    from geovec.report.terminal import search_lines

    if out:
        output_file(out, make=False)  # before the work, not after it
    hits = geovec.search(
        open_existing(db),
        feature,
        image=aerial_image,
        k=k,
        bbox=parse_bbox(bbox) if bbox else None,
        near=parse_near(near) if near else None,
        exact=exact,
        nprobes=nprobes,
        refine_factor=refine_factor,
    )
    if out:
        write_search_montage(aerial_image, hits, out)
        missing = sum(not h.overhead_path for h in hits)
        note_missing_images(missing + sum(not h.ground_path for h in hits if h.ground_id), "images")
    if as_json:
        results = [h.as_dict() for h in hits]
        print_json({"query": str(aerial_image), "feature": feature, "results": results})
        return
    echo_lines(search_lines(hits))
    if out:
        typer.echo(f"wrote {out}")


@command(app, "neighbors", panel=ANALYSES)
def neighbors_command(
    db: DbArgument,
    ident: Annotated[str, typer.Argument(metavar="ID", help="A stored ground image's id.")],
    feature: FeatureOption = DEFAULT_FEATURE,
    k: Annotated[int, typer.Option(help="Number of nearest ground images.")] = DEFAULT_K,
    as_json: JsonOption = False,
) -> None:
    """The ground images nearest to a stored one by a feature.

    Nearest by Euclidean distance in the feature's space."""
    import geovec

    found = geovec.nearest_ground(open_existing(db), feature, id=ident, k=k)
    if as_json:
        print_json({"id": ident, "feature": feature, "results": [n.as_dict() for n in found]})
        return
    for n in found:
        where = f"{n.lon:.6f},{n.lat:.6f}" if n.lon is not None else "no position"
        typer.echo(f"{n.id}  distance {n.distance:.4g}  {where}  {n.region or ''}".rstrip())


@command(app, "classify", panel=ANALYSES)
def classify_command(
    db: DbArgument,
    feature: Annotated[
        str | None, typer.Option(help="Features, comma-separated (default: all stored).")
    ] = None,
    train_per_region: Annotated[
        int, typer.Option(help="Training images per region.")
    ] = DEFAULT_TRAIN_PER_REGION,
    out: Annotated[Path | None, typer.Option(help="Folder for montages and JSON.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Region classification, an RBF SVM per feature (paper Table 1).

    With --out, the montages of Figures 5 and 6 beside classify.json."""
    import geovec
    from geovec.report.paths import output_folder
    from geovec.report.results import write_classification

    if out:
        output_folder(out, make=False)  # before the work, not after it
    store = open_existing(db)
    result = geovec.classify(store, split_list(feature), train_per_region=train_per_region)
    if out:
        write_classification(store, result, out)
        note_missing_images(store.count("ground", "path IS NULL"), "ground images")
    if as_json:
        print_json(result.as_dict())
    else:
        typer.echo(result.table())


@command(app, "landcover", panel=ANALYSES)
def landcover_command(
    db: DbArgument,
    out: Annotated[Path, typer.Option(help="File to write: .png figure or .tif COG.")],
    region: RegionOption = None,
    feature: FeatureOption = DEFAULT_FEATURE,
    truth: Annotated[
        Path | None, typer.Option(help="CSV with id,landcover (synth's truth.csv).")
    ] = None,
    pixels_per_tile: Annotated[
        int, typer.Option(help="Image pixels per tile spacing.")
    ] = DEFAULT_PIXELS_PER_TILE,
    crs: CrsOption = None,
    as_json: JsonOption = False,
) -> None:
    """A feature's PCA over the map tiles as RGB (paper Figure 7).

    The first three principal components as colours, natural-neighbour filled."""
    import geovec
    from geovec.report.terminal import landcover_line

    check_output(out, "landcover", crs)  # before the work, not after it
    result = geovec.landcover(
        open_existing(db), feature, region=region, truth=truth, pixels_per_tile=pixels_per_tile
    )
    write_landcover_file(result, out, crs)
    if as_json:
        print_json({**result.as_dict(), "out": str(out)})
        return
    echo_lines([landcover_line(result), f"wrote {out}"])
