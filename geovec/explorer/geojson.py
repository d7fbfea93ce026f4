"""GeoJSON pieces of the explorer's answers (coordinates lon, lat; decimal degrees)."""

from __future__ import annotations


def point(row: dict) -> dict:
    """A Feature of ``row`` at its lon/lat (no geometry when it has none); the row is its
    properties."""
    lon, lat = row.get("lon"), row.get("lat")
    geometry = {"type": "Point", "coordinates": [lon, lat]} if lon is not None else None
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": row}


def collection(features: list, total: int, next_offset: int | None) -> dict:
    """A FeatureCollection with the paging fields the API gives (``total``,
    ``next_offset``: None on the last page)."""
    return {
        "type": "FeatureCollection",
        "features": features,
        "total": total,
        "next_offset": next_offset,
    }


def union(regions: list[dict]):
    """The box (west, south, east, north) holding every region's bounds, or None."""
    boxes = [r for r in regions if r.get("west") is not None]
    if not boxes:
        return None
    return (
        min(r["west"] for r in boxes),
        min(r["south"] for r in boxes),
        max(r["east"] for r in boxes),
        max(r["north"] for r in boxes),
    )
