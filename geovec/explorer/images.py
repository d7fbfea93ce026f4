"""Row images (``/api/image/{view}``): the file a store row names, when it may be sent
(:func:`geovec.explorer.files.servable`), or a JPEG thumbnail of it."""

from __future__ import annotations

import io
from pathlib import Path

from geovec.explorer.files import servable
from geovec.explorer.requests import NotFound, RequestError
from geovec.store import Store
from geovec.store.filters import id_filter

VIEWS = ("ground", "overhead", "map")
"""The tables whose rows' images the explorer sends."""
MAX_THUMBNAIL_PX = 2048
"""Largest thumbnail side (pixels) a request may ask for."""


def image_file(store: Store, view: str, ident: str) -> Path:
    """The image file of row ``ident`` of ``view``, if it may be sent (NotFound else:
    no such row, no file, or a file outside the folder its row names)."""
    if view not in VIEWS:
        raise RequestError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    if not store.has(view):
        raise NotFound(f"the store has no {view} table")
    rows = store.read(view, ["path"], id_filter([ident])).column("path").to_pylist()
    if rows and rows[0] is None:
        raise NotFound(f"{view} {ident!r} has no image file (its features were imported)")
    path = servable(rows[0]) if rows else None
    if path is None:
        raise NotFound(f"no {view} image with id {ident!r}")
    return path


def thumbnail(path: Path, px: int) -> bytes:
    """The image at ``path`` shrunk to fit ``px`` x ``px`` pixels, as JPEG bytes."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            img.thumbnail((px, px))
            out = io.BytesIO()
            img.save(out, format="JPEG", quality=85)
    except (OSError, ValueError) as exc:
        raise NotFound(f"the image cannot be read ({exc})") from None
    return out.getvalue()
