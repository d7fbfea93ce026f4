"""Which files the explorer may send: only images that a store row names, never a path
taken from a request.

A row's path is served when it is absolute, ends in an image suffix and its real path
(every symbolic link on the way resolved, the folders' too) is a regular file inside the
folder the row names, as the row writes it. Ingest stores real paths, so a row's file is
sent as long as nothing was swapped for a link since: a link inside a dataset to a file
beside it is fine; a link to /etc/passwd, or a row's folder that became a link to
another folder (``t/imgs -> secret/``), is not.
"""

from __future__ import annotations

import os
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif"})
"""File suffixes the explorer sends (as images)."""


def servable(path: str | os.PathLike | None) -> Path | None:
    """The real file at a row's ``path`` if the explorer may send it, else None. The path
    must be absolute as stored (geovec stores real absolute paths), end in an image
    suffix and resolve (``Path.resolve(strict=True)``: links along the whole path) to a
    regular file with an image suffix inside the folder the path names (``..`` folded,
    links not followed)."""
    if not path or not Path(path).is_absolute():
        return None
    given = Path(os.path.abspath(path))  # folds "..", keeps links
    if given.suffix.lower() not in IMAGE_SUFFIXES:
        return None
    try:
        real = given.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if (
        not real.is_relative_to(given.parent)
        or not real.is_file()
        or real.suffix.lower() not in IMAGE_SUFFIXES
    ):
        return None
    return real
