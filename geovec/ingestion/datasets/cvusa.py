"""CVUSA, the subset the community uses (Zhai et al. 2017): ``splits/train-19zl.csv`` and
``splits/val-19zl.csv``, no header, each line
``bingmap/19/0000001.jpg,streetview/panos/0000001.jpg,<annotation path>``. It has no
coordinates: ground and overhead rows keep null positions, linked by ``pair``. The
validation list is the benchmark's test split."""

from __future__ import annotations

import csv
from pathlib import Path

from geovec.errors import DatasetError
from geovec.ingestion.datasets.manifest import Missing

SPLITS = {"train": "splits/train-19zl.csv", "test": "splits/val-19zl.csv"}
REGION = "cvusa"


def read(root: Path) -> tuple[list[dict], list[Missing]]:
    rows, missing = [], []
    for split, name in SPLITS.items():
        path = root / name
        if not path.is_file():
            raise DatasetError(f"{root}: no {name} (is this the CVUSA subset?)")
        with open(path, newline="", encoding="utf-8") as fh:
            for number, fields in enumerate(csv.reader(fh), start=1):
                if not fields or all(not f.strip() for f in fields):
                    continue
                if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
                    raise DatasetError(
                        f"{path}:{number}: expected aerial,ground[,annotation] paths, "
                        f"got {','.join(fields)!r}"
                    )
                aerial, ground = fields[0].strip(), fields[1].strip()
                absent = [p for p in (aerial, ground) if not (root / p).is_file()]
                if absent:
                    missing += [Missing(p, f"{name}:{number}") for p in absent]
                    continue
                ground_id, aerial_id = Path(ground).stem, Path(aerial).stem
                rows.append(_row(ground_id, ground, "ground", split, aerial_id))
                rows.append(_row(aerial_id, aerial, "overhead", split, ground_id))
    return rows, missing


def _row(ident: str, path: str, view: str, split: str, pair: str) -> dict:
    """A manifest row; ``pair`` links the two views (a ground row: its aerial's id; an
    aerial: its ground image's id, which also lets the row go without a position)."""
    return dict(
        id=ident,
        path=path,
        view=view,
        lon=None,
        lat=None,
        region=REGION,
        pair=pair,
        split=split,
        semi_pairs=None,
    )
