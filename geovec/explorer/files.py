"""Which files the explorer may send: only images that a store row names, never a path
taken from a request.

A row's path is served when it names a regular file with an image suffix, and neither
it nor any folder on the way is a symbolic link that leads out of the folder the row
names: a link inside a dataset to a file beside it is fine, a link to /etc/passwd is not.
"""

from __future__ import annotations

import os
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif"})
"""File suffixes the explorer sends (as images)."""


def servable(path: str | os.PathLike | None) -> Path | None:
    """The file at a row's ``path`` if the explorer may send it, else None. The path must
    be absolute as stored (geovec stores absolute paths), end in an image suffix and
    resolve to a regular file inside the folder it names."""
    if not path:
        return None
    given = Path(os.path.abspath(path))  # folds "..", keeps links
    if given.suffix.lower() not in IMAGE_SUFFIXES or not Path(path).is_absolute():
        return None
    try:
        real = given.resolve(strict=True)
        folder = given.parent.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if (
        not real.is_file()
        or not real.is_relative_to(folder)
        or real.suffix.lower() not in (IMAGE_SUFFIXES)
    ):
        return None
    return real
