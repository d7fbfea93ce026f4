"""The public cross-view datasets as geovec manifests: CVUSA (:mod:`.cvusa`), CVACT
(:mod:`.cvact`) and VIGOR (:mod:`.vigor`), read from the folders users already have, in
the datasets' own layouts, and written as one Parquet manifest of ground and overhead rows
linked by ``pair`` (:mod:`.manifest`): every ground row's ``pair`` is the id of its aerial,
which ingest stores as ``ground.pair``, the one link every analysis follows
(:mod:`geovec.ingestion.links`). Place-recognition datasets in the VPR benchmark's layout
(:mod:`.places`) are ground images only: a ``database`` and a ``queries`` split."""

from __future__ import annotations

from pathlib import Path

from geovec.errors import DatasetError
from geovec.ingestion.datasets.manifest import DatasetSummary

DATASETS = ("cvusa", "cvact", "vigor", "places")


def import_dataset(
    name: str,
    root: str | Path,
    out: str | Path,
    *,
    cross_area: bool = False,
    utm_zone: str | None = None,
) -> DatasetSummary:
    """Write the manifest of dataset ``name`` ("cvusa", "cvact", "vigor" or "places")
    found at ``root`` to ``out`` (Parquet). ``cross_area`` picks VIGOR's cross-area split;
    ``utm_zone`` (places, e.g. "10S") is the zone of file names that carry none."""
    from geovec.ingestion.datasets import cvact, cvusa, places, vigor

    readers = {
        "cvusa": cvusa.read,
        "cvact": cvact.read,
        "vigor": lambda root: vigor.read(root, cross_area),
        "places": lambda root: places.read(root, utm_zone),
    }
    if name not in readers:
        raise DatasetError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such dataset folder")
    if cross_area and name != "vigor":
        raise DatasetError("cross_area is a VIGOR split; the other datasets have one each")
    if utm_zone and name != "places":
        raise DatasetError("utm_zone is for places datasets (file names with UTM positions)")
    rows, missing = readers[name](root)
    return DatasetSummary.write(name, rows, missing, root, Path(out))
