"""CVACT (Liu & Li 2019): ``ACT_data.mat`` holds ``panoIds``, ``utm`` (easting, northing in
UTM zone 55 south, metres) and the splits ``trainSet.trainInd`` and ``valSet.valInd``
(1-based indices into ``panoIds``); images are
``ANU_data_small/streetview/{id}_grdView.jpg`` and
``ANU_data_small/satview_polish/{id}_satView_polish.jpg``. The validation set is the
benchmark's test split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyproj import Transformer

from geovec.errors import DatasetError
from geovec.ingestion.datasets.manifest import Missing

MAT = "ACT_data.mat"
SPLITS = {"train": ("trainSet", "trainInd"), "test": ("valSet", "valInd")}
UTM_55S = "EPSG:32755"
GROUND = "ANU_data_small/streetview/{}_grdView.jpg"
AERIAL = "ANU_data_small/satview_polish/{}_satView_polish.jpg"
REGION = "canberra"


def _ids(value) -> list[str]:
    """panoIds as loadmat gives them: a char matrix (array of str) or a cell array."""
    flat = np.asarray(value).ravel()
    return [str(v if isinstance(v, str) else np.asarray(v).ravel()[0]).strip() for v in flat]


def _indices(mat: dict, struct: str, field: str, n: int) -> np.ndarray:
    try:
        values = np.asarray(mat[struct][field][0, 0]).ravel().astype(np.int64)
    except (KeyError, ValueError, IndexError, TypeError):
        raise DatasetError(f"{MAT}: no {struct}.{field} (1-based indices)") from None
    bad = values[(values < 1) | (values > n)]
    if len(bad):
        raise DatasetError(f"{MAT}: {struct}.{field} holds {bad[0]}, outside 1..{n}")
    return values - 1


def read(root: Path) -> tuple[list[dict], list[Missing]]:
    from scipy.io import loadmat

    path = root / MAT
    if not path.is_file():
        raise DatasetError(f"{root}: no {MAT} (is this CVACT?)")
    try:
        mat = loadmat(path)
    except Exception as exc:  # noqa: BLE001 - scipy's parser raises many kinds on bad bytes
        raise DatasetError(f"{path}: not a readable MATLAB file ({exc!r})") from None
    if "panoIds" not in mat or "utm" not in mat:
        raise DatasetError(f"{path}: needs panoIds and utm")
    ids = _ids(mat["panoIds"])
    utm = np.asarray(mat["utm"], np.float64).reshape(len(ids), -1)[:, :2]
    if np.median(utm[:, 0]) > 1e6 > np.median(utm[:, 1]):  # northing first: swap
        utm = utm[:, ::-1]
    lon, lat = Transformer.from_crs(UTM_55S, "EPSG:4326", always_xy=True).transform(
        utm[:, 0], utm[:, 1]
    )
    rows, missing = [], []
    for split, (struct, field) in SPLITS.items():
        for i in _indices(mat, struct, field, len(ids)):
            ident = ids[i]
            ground, aerial = GROUND.format(ident), AERIAL.format(ident)
            absent = [p for p in (ground, aerial) if not (root / p).is_file()]
            if absent:
                missing += [Missing(p, f"{MAT}:{struct}[{i + 1}]") for p in absent]
                continue
            where = dict(
                lon=float(lon[i]),
                lat=float(lat[i]),
                region=REGION,
                split=split,
                semi_pairs=None,
                pair=ident,  # both views share the panorama's id: each names the other
            )
            rows.append(dict(id=ident, path=ground, view="ground", **where))
            rows.append(dict(id=ident, path=aerial, view="overhead", **where))
    return rows, missing
