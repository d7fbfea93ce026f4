"""Commands that bring data in or make it: ``ingest``, ``extract``, ``synth``, ``grid``,
``cutouts``, and ``sql`` over what is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import geovec.cli.embeddings as emb
import geovec.cli.regions as reg
from geovec.cli.app import DbArgument, app, command, open_existing, split_list
from geovec.cli.helptext import DATA_IN, STORE
from geovec.counts import count
from geovec.defaults import DEFAULT_BATCH_SIZE
from geovec.geo.cutouts import CUTOUT_FOV, CUTOUT_SIZE, SIDE_HEADINGS
from geovec.geo.grid import TILE_M
from geovec.ingestion.aerial import DEFAULT_PX
from geovec.synthetic import DEFAULT_EXTENT_KM, DEFAULT_GROUND, DEFAULT_SEED

FeaturesOption = Annotated[
    str | None,
    typer.Option(help="Comma-separated features, e.g. gist,places_fc8,imagenet_fc7."),
]
BatchOption = Annotated[int, typer.Option(help="Images per forward pass.")]
EngineOption = Annotated[
    str, typer.Option(help="local (this process) or ray (a Ray cluster: pip install geovec[ray]).")
]
RayAddressOption = Annotated[
    str | None, typer.Option(help="ray: the cluster to join (default: start a local one).")
]
WorkersOption = Annotated[
    int | None, typer.Option(help="Decode threads (local) or model actors (ray).")
]


@command(app, "ingest", panel=DATA_IN)
def ingest_command(
    db: Annotated[Path, typer.Argument(help="Database directory (created if new).")],
    source: Annotated[
        Path,
        typer.Argument(
            help="Manifest (.csv, .parquet, .geojson) or folder of images; with --embeddings, "
            "a (Geo)Parquet file of vectors."
        ),
    ],
    view: Annotated[
        str | None, typer.Option(help="ground, overhead or map (default: the manifest's).")
    ] = None,
    features: FeaturesOption = None,
    batch_size: BatchOption = DEFAULT_BATCH_SIZE,
    outdoor_only: Annotated[
        bool, typer.Option(help="Drop ground images Places365 (else Places205) calls indoor.")
    ] = False,
    engine: EngineOption = "local",
    ray_address: RayAddressOption = None,
    workers: WorkersOption = None,
    fast_decode: Annotated[
        bool,
        typer.Option(
            help="Decode large JPEGs at 1/2-1/8 scale (at least 256 px a side): faster, "
            "but not Caffe's pixels."
        ),
    ] = False,
    region: reg.RegionNameOption = None,
    regions: reg.RegionsLayerOption = None,
    region_field: reg.RegionFieldOption = None,
    embeddings: emb.EmbeddingsFlag = False,
    feature: emb.FeatureNameOption = None,
    vector_column: emb.VectorColumnOption = None,
    id_column: emb.IdColumnOption = None,
    geometry_column: emb.GeometryColumnOption = None,
    lon_column: emb.LonColumnOption = None,
    lat_column: emb.LatColumnOption = None,
    size_m: emb.SizeOption = None,
    region_column: emb.RegionColumnOption = None,
    pair_column: emb.PairColumnOption = None,
    split_column: emb.SplitColumnOption = None,
) -> None:
    """Ingest located images, or import published embeddings.

    Images: decode, extract features, append to LanceDB; or, with --embeddings, import a
    (Geo)Parquet file of published embeddings as a feature."""
    if embeddings and (region is not None or regions is not None):
        from geovec.errors import GeovecError

        raise GeovecError(
            "--embeddings reads regions from --region-column; name them later "
            "with geovec regions DB --set NAME or --from LAYER"
        )
    if emb.ingest_embeddings_command(
        db,
        source,
        view=view,
        features=features,
        outdoor_only=outdoor_only,
        embeddings=embeddings,
        feature=feature,
        vector_column=vector_column,
        id_column=id_column,
        geometry_column=geometry_column,
        lon_column=lon_column,
        lat_column=lat_column,
        size_m=size_m,
        region_column=region_column,
        pair_column=pair_column,
        split_column=split_column,
    ):
        return
    import geovec
    from geovec.errors import GeovecError
    from geovec.features.names import default_features

    chosen = split_list(features) if features is not None else default_features()
    if not chosen:
        raise GeovecError(f"--features names no feature: {features!r}")
    rule = reg.region_rule(region, regions, region_field)
    typer.echo(f"features: {', '.join(chosen)}", err=True)
    summary = geovec.ingest(
        geovec.open(db),
        source,
        view=view,
        features=chosen,
        batch_size=batch_size,
        progress=True,
        outdoor_only=outdoor_only,
        engine=engine,
        ray_address=ray_address,
        workers=workers,
        fast_decode=fast_decode,
        regions=rule,
    )
    reg.echo_assignment(summary.regions, "new row")
    typer.echo(summary.line())


@command(app, "extract", panel=DATA_IN)
def extract_command(
    db: DbArgument,
    features: Annotated[str, typer.Option(help="Comma-separated features to fill in.")],
    view: Annotated[str | None, typer.Option(help="Only this view (default: all).")] = None,
    batch_size: BatchOption = DEFAULT_BATCH_SIZE,
    engine: EngineOption = "local",
    ray_address: RayAddressOption = None,
    workers: WorkersOption = None,
) -> None:
    """Compute the feature columns that stored rows lack.

    E.g. add imagenet_fc7 to a store ingested with gist and places_fc8."""
    import geovec

    summary = geovec.extract_missing(
        open_existing(db),
        features,
        view=view,
        batch_size=batch_size,
        progress=True,
        engine=engine,
        ray_address=ray_address,
        workers=workers,
    )
    typer.echo(summary.line("extracted"))


@command(app, "sql", panel=STORE)
def sql_command(
    db: DbArgument,
    query: Annotated[str, typer.Argument(help="DuckDB SQL; tables by name, spatial loaded.")],
    format: Annotated[str, typer.Option(help="table, csv or json.")] = "table",
    write: Annotated[bool, typer.Option(help="Allow statements that change the tables.")] = False,
) -> None:
    """Run DuckDB SQL over the tables (ground, overhead, map, failures)."""
    from geovec.report.terminal import format_table

    with open_existing(db) as store:
        typer.echo(format_table(store.sql_table(query, write=write, sealed=not write), format))


@command(app, "synth", panel=DATA_IN)
def synth_command(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Folder to write the world into.")
    ],
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same world.")
    ] = DEFAULT_SEED,
    ground: Annotated[int, typer.Option(help="Ground locations per region.")] = DEFAULT_GROUND,
    extent_km: Annotated[
        float, typer.Option(help="Side of each square region, km.")
    ] = DEFAULT_EXTENT_KM,
) -> None:
    """Write the synthetic two-region world: tiles, photos, manifests.

    Its land cover too (truth.csv), for geovec landcover --truth."""
    import geovec

    summary = geovec.synth(directory, seed=seed, ground=ground, extent_km=extent_km, progress=True)
    typer.echo(summary.line())


@command(app, "grid", panel=DATA_IN)
def grid_command(
    bbox: Annotated[str, typer.Option(help="Region as W,S,E,N in decimal degrees.")],
    tile_m: Annotated[float, typer.Option(help="Tile side in metres.")] = TILE_M,
    spacing_m: Annotated[
        float | None, typer.Option(help="Distance between centres, m (default: tile side).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write CSV here (default: stdout).")] = None,
    region: reg.RegionNameOption = None,
    regions: reg.RegionsLayerOption = None,
    region_field: reg.RegionFieldOption = None,
) -> None:
    """Aerial reference grid: tile centres and footprints over a bbox.

    A CSV of the tiles' centres (lon, lat) and footprints."""
    from geovec.geo.bounds import parse_bbox
    from geovec.geo.grid import reference_grid

    rule = reg.region_rule(region, regions, region_field)
    grid = reference_grid(parse_bbox(bbox), tile_m, spacing_m)
    if rule is not None:
        found = rule.assign(grid.lon, grid.lat)
        grid.regions = found.regions
        reg.echo_assignment(found, "tile")
    text = grid.to_csv(out)
    typer.echo(f"wrote {count(len(grid), 'tile')} to {out}" if out else text.rstrip("\n"))


@command(app, "cutouts", panel=DATA_IN)
def cutouts_command(
    panoramas: Annotated[list[Path], typer.Argument(help="Equirectangular panoramas (2:1).")],
    out: Annotated[Path, typer.Option(help="Folder for the perspective views.")],
    headings: Annotated[
        str, typer.Option(help="Headings relative to the car, degrees, comma-separated.")
    ] = ",".join(f"{h:g}" for h in SIDE_HEADINGS),
    size: Annotated[str, typer.Option(help="Width x height in pixels.")] = "{}x{}".format(
        *CUTOUT_SIZE
    ),
    fov: Annotated[float, typer.Option(help="Horizontal field of view, degrees.")] = CUTOUT_FOV,
) -> None:
    """Cut perspective views from panoramas.

    By default the two side-facing 800x600 views of each."""
    from geovec.geo.cutouts import parse_headings, parse_size, write_cutouts

    written = write_cutouts(panoramas, out, parse_headings(headings), parse_size(size), fov)
    typer.echo(f"wrote {count(len(written), 'view')} to {out}")


@command(app, "aerial", panel=DATA_IN)
def aerial_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="SOURCE... POINTS",
            help="SOURCE: a GeoTIFF/COG (or several, or a folder of them), an image "
            "with a world file, a {z}/{x}/{y} tile folder or an .mbtiles file; then POINTS, a "
            "table of points (id, lon, lat; CSV, Parquet or GeoJSON).",
        ),
    ],
    out: Annotated[Path, typer.Option(help="Folder for <id>.png, manifest.csv, failures.csv.")],
    size_m: Annotated[float, typer.Option(help="Ground size of each square, metres.")] = TILE_M,
    px: Annotated[int, typer.Option(help="Pixels on a side.")] = DEFAULT_PX,
    view: Annotated[
        str, typer.Option(help="map (reference tiles) or overhead (centred on ground photos).")
    ] = "map",
    zoom: Annotated[
        int | None, typer.Option(help="Tile zoom (default: as fine as needed).")
    ] = None,
    scheme: Annotated[
        str | None, typer.Option(help="Tile rows: xyz or tms (default: tms for gdal2tiles).")
    ] = None,
    crs: Annotated[
        str | None, typer.Option(help="CRS of a world-file image (default: its .prj).")
    ] = None,
    region: reg.RegionNameOption = None,
    regions: reg.RegionsLayerOption = None,
    region_field: reg.RegionFieldOption = None,
) -> None:
    """Cut north-up aerial squares centred on points, ready for ingest."""
    from geovec.errors import GeovecError
    from geovec.ingestion.aerial import cut_aerial

    if len(paths) < 2:
        raise GeovecError("give an aerial SOURCE and a POINTS table")
    *sources, points = paths
    summary = cut_aerial(
        sources if len(sources) > 1 else sources[0],
        points,
        out,
        size_m=size_m,
        px=px,
        view=view,
        crs=crs,
        zoom=zoom,
        scheme=scheme,
        progress=True,
        regions=reg.region_rule(region, regions, region_field),
    )
    reg.echo_assignment(summary.regions, "point")
    if summary.upsampled:
        typer.echo(f"warning: {summary.upsampling_warning()}", err=True)
    typer.echo(summary.line())


@command(app, "dataset", panel=DATA_IN)
def dataset_command(
    name: Annotated[str, typer.Argument(help="cvusa, cvact, vigor or places.")],
    root: Annotated[Path, typer.Argument(help="The dataset's folder, as distributed.")],
    out: Annotated[Path, typer.Option(help="The manifest to write (.parquet).")],
    cross_area: Annotated[
        bool, typer.Option(help="VIGOR: train on NewYork+Seattle, test on Chicago+SanFrancisco.")
    ] = False,
    utm_zone: Annotated[
        str | None,
        typer.Option(
            help="places: UTM zone of file names without one, number and latitude band "
            "(e.g. 10S; bands C-M are south of the equator)."
        ),
    ] = None,
) -> None:
    """Write the manifest of a cross-view or place recognition dataset.

    For geovec ingest. Cross-view (cvusa, cvact, vigor): the ground/overhead pairs;
    places: the database images and the queries."""
    from geovec.ingestion.datasets import import_dataset

    summary = import_dataset(name, root, out, cross_area=cross_area, utm_zone=utm_zone)
    typer.echo(summary.line())
