"""Writing a dataset's manifest: one Parquet file of ground and overhead rows, paths
relative to the manifest's folder, and beside it <name>_missing.csv for the pairs left
out because an image file is missing. Both are written whole or not at all."""

from __future__ import annotations

import collections
import csv
import dataclasses
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from geovec.counts import count
from geovec.errors import DatasetError

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("view", pa.string(), nullable=False),
        pa.field("lon", pa.float64()),
        pa.field("lat", pa.float64()),
        pa.field("region", pa.string()),
        pa.field("source", pa.string()),
        pa.field("pair", pa.string()),
        pa.field("split", pa.string()),
        pa.field("semi_pairs", pa.list_(pa.string())),
    ]
)


@dataclasses.dataclass
class Missing:
    """A pair left out: the image that is not there, and where the dataset names it."""

    image: str
    where: str  # "file:line"


@dataclasses.dataclass
class DatasetSummary:
    """What an import wrote."""

    dataset: str
    ground: int
    overhead: int
    splits: dict[str, int]  # ground images per split
    left_out: int
    manifest: Path
    missing: Path | None

    def line(self) -> str:
        splits = ", ".join(f"{k} {v}" for k, v in sorted(self.splits.items()))
        left = f"; left out {count(self.left_out, 'pair')} missing an image ({self.missing})"
        return (
            f"{self.dataset}: {self.ground} ground and {self.overhead} overhead images "
            f"({splits}) in {self.manifest}" + (left if self.left_out else "")
        )

    @classmethod
    def write(cls, dataset: str, rows: list[dict], missing: list[Missing], root: Path, out: Path):
        if out.suffix.lower() != ".parquet":
            raise DatasetError(f"{out}: the manifest is a .parquet file")
        if not any(r["view"] == "ground" for r in rows):
            raise DatasetError(f"{root}: no ground image of {dataset} found there")
        out.parent.mkdir(parents=True, exist_ok=True)
        base = out.parent.resolve()
        for row in rows:
            row["path"] = os.path.relpath(root.resolve() / row["path"], base)
            row["source"] = dataset
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
        tmp = out.with_name(f".{out.name}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, out)
        missing_path = None
        if missing:
            missing_path = out.with_name(f"{out.stem}_missing.csv")
            with open(missing_path, "w", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(["image", "where"])
                writer.writerows((m.image, m.where) for m in missing)
        views = collections.Counter(r["view"] for r in rows)
        splits = collections.Counter(r["split"] for r in rows if r["view"] == "ground")
        return cls(
            dataset,
            views["ground"],
            views["overhead"],
            dict(splits),
            len(missing),
            out,
            missing_path,
        )
