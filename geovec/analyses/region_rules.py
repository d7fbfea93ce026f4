"""Regions for data of your own: one name for every row (``--region NAME``), or the name of
the polygon of a layer that holds each row's position (``--regions LAYER.geojson|.parquet
[--region-field F]``), for ``geovec ingest``, ``grid``, ``aerial`` and ``regions``.

The layer is read and joined as ``geovec evaluate --by LAYER`` reads and joins it
(:func:`geovec.analyses.layers.read_layer`, sql/polygon_membership.sql): any CRS, polygons
across the antimeridian, the field ``name`` or else the first text field. A position in
no polygon, or a row without a position, gets no region (null, shown as ``no region``:
:mod:`geovec.store.regions`) and is counted; a position in several polygons of different
names takes the first of them in the layer's order. A polygon whose field is null names
no region, as does one named ``""``, blank or ``no region``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from geovec.counts import count
from geovec.errors import GeovecError
from geovec.store.regions import check_name, set_regions, stored_region


@dataclasses.dataclass
class RegionRule:
    """How rows get their region: ``name`` for all, or the polygons of ``layer``."""

    name: str | None = None
    layer: object | None = None  # a geovec.analyses.layers.PolygonLayer

    @classmethod
    def of(
        cls, name: str | None = None, layer: str | Path | None = None, field: str | None = None
    ) -> RegionRule | None:
        """The rule of ``--region NAME`` or ``--regions LAYER [--region-field F]``; None
        when neither is given.

        Raises:
          GeovecError: both given, a field without a layer, an empty name.
          LayerError: the layer cannot be read, or has no such field.
        """
        if name is not None and layer is not None:
            raise GeovecError("give --region NAME or --regions LAYER, not both")
        if field is not None and layer is None:
            raise GeovecError("--region-field names a field of the --regions LAYER; give one")
        if name is not None:
            return cls(name=check_name(name))
        if layer is not None:
            from geovec.analyses.layers import read_layer

            return cls(layer=read_layer(layer, field))
        return None

    def assign(self, lon, lat) -> RegionAssignment:
        """The region of each position (decimal degrees; None or NaN: no position)."""
        lon = np.array([np.nan if v is None else v for v in lon], np.float64)
        lat = np.array([np.nan if v is None else v for v in lat], np.float64)
        located = np.isfinite(lon) & np.isfinite(lat)
        if self.layer is None:
            return RegionAssignment([self.name] * len(lon), 0, 0)
        from geovec.analyses.layers import NO_VALUE
        from geovec.store.sql import shared_database

        regions: list[str | None] = [None] * len(lon)
        with shared_database().cursor() as con:
            points, polygons = self.layer.members(con, lon, lat)
        for point, polygon in zip(points[::-1], polygons[::-1]):  # the first polygon wins
            value = self.layer.values[polygon]
            regions[point] = None if value == NO_VALUE else stored_region(value)
        inside = np.zeros(len(lon), bool)
        inside[np.asarray(points, np.int64)] = True
        outside = int((located & ~inside).sum())
        unnamed = sum(1 for i, r in enumerate(regions) if r is None and inside[i])
        return RegionAssignment(regions, outside, int((~located).sum()), unnamed=unnamed)

    def describe(self) -> str:
        """The rule in words, for a summary line."""
        if self.layer is None:
            return f"region {self.name}"
        return f"from {self.layer.path.name}, field {self.layer.field}"


@dataclasses.dataclass
class RegionAssignment:
    """Each row's region and how many got none: ``outside`` (a position in no polygon),
    ``unlocated`` (no position), ``unnamed`` (in a polygon whose field is empty)."""

    regions: list[str | None]
    outside: int = 0
    unlocated: int = 0
    unlocated_kept: bool = False  # rows without a position kept the region they had
    unnamed: int = 0  # a position in a polygon whose field is empty

    def named(self) -> int:
        return sum(r is not None for r in self.regions)

    def line(self, things: str = "row") -> str:
        """'12 rows in 2 regions, 3 in no polygon (no region)'."""
        names = {r for r in self.regions if r is not None}
        text = f"{count(self.named(), things)} in {count(len(names), 'region')}"
        if self.outside:
            text += f", {self.outside} in no polygon (no region)"
        if self.unnamed:
            text += f", {self.unnamed} in a polygon without a name (no region)"
        if self.unlocated:
            kept = "kept their region" if self.unlocated_kept else "no region"
            text += f", {self.unlocated} without a position ({kept})"
        return text


TABLE_CHOICES = {
    "ground": ("ground",),
    "aerial": ("overhead", "map"),
    "all": ("ground", "overhead", "map"),
}
"""``geovec regions --table``: which tables it (re)assigns."""


@dataclasses.dataclass
class RegionsSummary:
    """What :func:`assign_regions` set, per table."""

    rule: str
    tables: dict[str, RegionAssignment]

    def lines(self) -> list[str]:
        if not self.tables:
            return ["no rows to name: the store has none of those tables yet"]
        things = {"ground": "ground image", "overhead": "overhead image", "map": "map tile"}
        return [
            f"{table}: {found.line(things[table])}; {self.rule}"
            for table, found in self.tables.items()
        ]

    def as_dict(self) -> dict:
        from geovec.store.regions import region_label

        return {
            "rule": self.rule,
            "tables": {
                table: {
                    "rows": len(found.regions),
                    "regions": {
                        region_label(r): found.regions.count(r)
                        for r in dict.fromkeys(sorted(found.regions, key=lambda r: (r is None, r)))
                    },
                    "outside": found.outside,
                    "unlocated": found.unlocated,
                }
                for table, found in self.tables.items()
            },
        }


def assign_regions(store, rule: RegionRule, *, tables: str = "all") -> RegionsSummary:
    """(Re)assign the region of every row of ``tables`` (``ground``, ``aerial``: overhead
    and map, or ``all``) of ``store`` by ``rule``: one name for all, or the polygon of a
    layer holding each row's position (none: no region; a row without a position, as in
    pair-only datasets, keeps its region). One commit per table."""
    if tables not in TABLE_CHOICES:
        raise GeovecError(f"--table is one of {', '.join(TABLE_CHOICES)}, got {tables!r}")
    out = {}
    for table in TABLE_CHOICES[tables]:
        if not store.count(table):
            continue
        rows = store.read(table, ["id", "lon", "lat"])
        found = rule.assign(rows.column("lon").to_pylist(), rows.column("lat").to_pylist())
        ids = rows.column("id").to_pylist()
        keep = [
            i
            for i, (lo, la) in enumerate(zip(rows.column("lon"), rows.column("lat")))
            if rule.layer is None or (lo.is_valid and la.is_valid)
        ]
        set_regions(store, table, [ids[i] for i in keep], [found.regions[i] for i in keep])
        found.unlocated_kept = rule.layer is not None
        out[table] = found
    return RegionsSummary(rule.describe(), out)
