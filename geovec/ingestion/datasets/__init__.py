"""The public cross-view datasets as geovec manifests: CVUSA (:mod:`.cvusa`), CVACT
(:mod:`.cvact`) and VIGOR (:mod:`.vigor`), read from the folders users already have, in
the datasets' own layouts, and written as one Parquet manifest of ground and overhead rows
linked by ``pair`` (:mod:`.manifest`): every ground row's ``pair`` is the id of its aerial,
which ingest stores as ``ground.pair``, the one link every analysis follows
(:mod:`geovec.ingestion.links`)."""

from __future__ import annotations

from pathlib import Path

from geovec.errors import DatasetError
from geovec.ingestion.datasets.manifest import DatasetSummary

DATASETS = ("cvusa", "cvact", "vigor")


def import_dataset(
    name: str, root: str | Path, out: str | Path, *, cross_area: bool = False
) -> DatasetSummary:
    """Write the manifest of dataset ``name`` ("cvusa", "cvact" or "vigor") found at
    ``root`` to ``out`` (Parquet). ``cross_area`` picks VIGOR's cross-area split."""
    from geovec.ingestion.datasets import cvact, cvusa, vigor

    readers = {"cvusa": cvusa.read, "cvact": cvact.read, "vigor": vigor.read}
    if name not in readers:
        raise DatasetError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such dataset folder")
    if cross_area and name != "vigor":
        raise DatasetError("cross_area is a VIGOR split; CVUSA and CVACT have one split each")
    rows, missing = readers[name](root, cross_area) if name == "vigor" else readers[name](root)
    return DatasetSummary.write(name, rows, missing, root, Path(out))
