"""VIGOR (Zhu et al. 2021): four cities, panoramas and satellite images whose file names
carry their coordinates (``<prefix>,<lat>,<lon>,.jpg``, ``satellite_<lat>_<lon>.png``), in
either layout in use (``{City}/panorama|satellite/`` or ``ground|satellite/{City}/``).
``splits/{City}/satellite_list.txt`` lists the aerials; a panorama line of
``same_area_balanced_train.txt``, ``_test.txt`` or ``pano_label_balanced.txt`` is the
panorama, its positive satellite image, then three semi-positive ones, each followed by
two offset columns.

Same-area: train and test panoramas of every city, every aerial a candidate for both
(their split stays null). Cross-area: NewYork and Seattle train, Chicago and SanFrancisco
test, panoramas and aerials alike.
"""

from __future__ import annotations

from pathlib import Path

from geovec.errors import DatasetError
from geovec.ingestion.datasets.manifest import Missing

CITIES = ("Chicago", "NewYork", "SanFrancisco", "Seattle")
CROSS_AREA = {"NewYork": "train", "Seattle": "train", "Chicago": "test", "SanFrancisco": "test"}
COLUMNS = 13  # panorama, then 4 x (satellite, offset, offset)


def _folders(root: Path, city: str) -> tuple[Path, Path]:
    """(panorama folder, satellite folder) of a city, in whichever layout is there."""
    for ground, aerial in (
        (root / city / "panorama", root / city / "satellite"),
        (root / "ground" / city, root / "satellite" / city),
    ):
        if ground.is_dir() and aerial.is_dir():
            return ground, aerial
    raise DatasetError(
        f"{root}: no images of {city} ({city}/panorama and {city}/satellite, or "
        f"ground/{city} and satellite/{city})"
    )


def _text_lines(path: Path) -> list[tuple[int, list[str]]]:
    if not path.is_file():
        raise DatasetError(f"{path}: missing (is this VIGOR's splits folder?)")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(n, line.split()) for n, line in enumerate(lines, start=1) if line.strip()]


def satellite_position(name: str, where: str) -> tuple[float, float]:
    """(lon, lat) from ``satellite_<lat>_<lon>.png``."""
    try:
        _, lat, lon = Path(name).stem.split("_")
        return float(lon), float(lat)
    except ValueError:
        raise DatasetError(f"{where}: {name!r} is not satellite_<lat>_<lon>.png") from None


def panorama_position(name: str, where: str) -> tuple[float, float]:
    """(lon, lat) from ``<prefix>,<lat>,<lon>,.jpg``."""
    parts = Path(name).stem.split(",")
    try:
        return float(parts[2]), float(parts[1])
    except (ValueError, IndexError):
        raise DatasetError(f"{where}: {name!r} is not <prefix>,<lat>,<lon>,.jpg") from None


def read(root: Path, cross_area: bool = False) -> tuple[list[dict], list[Missing]]:
    rows, missing = [], []
    splits = root / "splits"
    for city in CITIES:
        ground_dir, aerial_dir = _folders(root, city)
        aerial_split = CROSS_AREA[city] if cross_area else None
        listed = set()
        for number, fields in _text_lines(splits / city / "satellite_list.txt"):
            where = f"splits/{city}/satellite_list.txt:{number}"
            name = fields[0]
            if not (aerial_dir / name).is_file():
                missing.append(Missing(str(aerial_dir.relative_to(root) / name), where))
                continue
            lon, lat = satellite_position(name, where)
            listed.add(Path(name).stem)
            rows.append(
                dict(
                    id=Path(name).stem,
                    path=str(aerial_dir.relative_to(root) / name),
                    view="overhead",
                    lon=lon,
                    lat=lat,
                    region=city,
                    pair=None,  # the panoramas name their aerials (one aerial, many panoramas)
                    split=aerial_split,
                    semi_pairs=None,
                )
            )
        lists = (
            {CROSS_AREA[city]: "pano_label_balanced.txt"}
            if cross_area
            else {"train": "same_area_balanced_train.txt", "test": "same_area_balanced_test.txt"}
        )
        for split, name in lists.items():
            for number, fields in _text_lines(splits / city / name):
                where = f"splits/{city}/{name}:{number}"
                if len(fields) != COLUMNS:
                    raise DatasetError(
                        f"{where}: expected {COLUMNS} columns (panorama, then satellite and "
                        f"two offsets, four times), got {len(fields)}"
                    )
                pano, positive, semis = fields[0], fields[1], fields[4::3]
                path = ground_dir / pano
                unknown = [s for s in (positive, *semis) if Path(s).stem not in listed]
                if not path.is_file() or unknown:
                    missing.append(
                        Missing(
                            str(path.relative_to(root)) if not path.is_file() else unknown[0], where
                        )
                    )
                    continue
                lon, lat = panorama_position(pano, where)
                rows.append(
                    dict(
                        id=Path(pano).stem,
                        path=str(path.relative_to(root)),
                        view="ground",
                        lon=lon,
                        lat=lat,
                        region=city,
                        pair=Path(positive).stem,
                        split=split,
                        semi_pairs=[Path(s).stem for s in semis],
                    )
                )
    return rows, missing
