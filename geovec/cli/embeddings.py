"""``geovec ingest DB FILE.parquet --embeddings ...``: the options of importing published
embeddings (:func:`geovec.ingest_embeddings`), shared by the ``ingest`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geovec.counts import count

EmbeddingsFlag = Annotated[
    bool,
    typer.Option(
        "--embeddings",
        help="SOURCE is a (Geo)Parquet file of published embeddings: import its vectors as "
        "--feature of --view (no images).",
    ),
]
FeatureNameOption = Annotated[
    str | None, typer.Option(help="--embeddings: the feature column the vectors go to.")
]


def _column(what: str, default: str) -> object:
    return typer.Option(help=f"--embeddings: the column of the {what} (default: {default}).")


VectorColumnOption = Annotated[
    str | None, _column("vectors", "embedding, embeddings, vector, or the only float list")
]
IdColumnOption = Annotated[str | None, _column("ids", "id, unique_id, else FILE-STEM:ROW")]
GeometryColumnOption = Annotated[
    str | None, _column("geometry (points or polygons)", "GeoParquet's primary column")
]
LonColumnOption = Annotated[
    str | None, _column("longitudes, WGS84", "lon, longitude, centre_lon, center_lon")
]
LatColumnOption = Annotated[
    str | None, _column("latitudes, WGS84", "lat, latitude, centre_lat, center_lat")
]
SizeOption = Annotated[
    float | None,
    typer.Option(
        help="--embeddings, map rows: every tile's side in metres (default: each polygon's "
        "equal-area side, else a size_m column)."
    ),
]
RegionColumnOption = Annotated[str | None, _column("regions", "region")]
PairColumnOption = Annotated[str | None, _column("pairs (ground: its overhead id)", "pair")]
SplitColumnOption = Annotated[str | None, _column("splits", "split")]


def ingest_embeddings_command(
    db: Path,
    source: Path,
    *,
    view: str | None,
    features: str | None,
    outdoor_only: bool,
    embeddings: bool,
    feature: str | None,
    **columns,
) -> bool:
    """Run the import when ``--embeddings`` is given (True: done); refuse its options
    without it, and the image options with it."""
    from geovec.errors import GeovecError

    given = [f"--{k.replace('_', '-')}" for k, v in columns.items() if v is not None]
    if feature is not None:
        given.insert(0, "--feature")
    if not embeddings:
        if given:
            raise GeovecError(f"{', '.join(given)}: only with --embeddings (a file of vectors)")
        return False
    if features is not None or outdoor_only:
        raise GeovecError(
            "--features and --outdoor-only compute features from images; with --embeddings, "
            "--feature names the imported one"
        )
    if view is None:
        raise GeovecError("--embeddings needs --view ground, overhead or map")
    if feature is None:
        raise GeovecError("--embeddings needs --feature NAME (the column the vectors go to)")
    import geovec

    summary = geovec.ingest_embeddings(
        geovec.open(db), source, view=view, feature=feature, progress=True, **columns
    )
    linked = f", linked {count(summary.linked, 'pair')}" if summary.linked else ""
    typer.echo(
        f"imported {count(summary.ingested, f'{view} row')}{linked}, skipped "
        f"{summary.skipped} stored before, failed {summary.failed} "
        f"({feature}; {summary.seconds:.1f} s)"
    )
    return True


def note_missing_images(missing: int, what: str) -> None:
    """One line on stderr when ``missing`` of the ``what`` a montage shows have no image
    file (rows of imported embeddings): they are grey squares there."""
    if missing:
        typer.echo(
            f"note: {missing} {what} have no image file (imported embeddings): grey squares "
            "in the montage",
            err=True,
        )
