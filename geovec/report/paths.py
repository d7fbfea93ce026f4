"""Where a figure or result file goes: checked before it is written (and by the command
line before the work starts), so that a folder where a file should be, or a file where
a folder should be, is one clear error."""

from __future__ import annotations

from pathlib import Path

from geovec.errors import GeovecError


def output_file(path: str | Path, suffixes: set[str] | None = None, *, make: bool = True) -> Path:
    """``path``, ready to be written: its missing folders made (unless not ``make``).

    Raises:
      GeovecError: ``path`` is a folder, one of its folders is a file, or its suffix is
        not one of ``suffixes`` (lower case, with the dot) when given.
    """
    path = Path(path)
    if path.is_dir():
        raise GeovecError(f"{path}: is a folder; name the file to write, e.g. {path / 'out.png'}")
    _no_file_above(path)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise GeovecError(f"{path}: name the file with one of {', '.join(sorted(suffixes))}")
    if make:
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def output_folder(path: str | Path, *, make: bool = True) -> Path:
    """The folder ``path``, made when missing (unless not ``make``).

    Raises:
      GeovecError: ``path`` or one of its folders is a file.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise GeovecError(f"{path}: is a file, not a folder")
    _no_file_above(path)
    if make:
        path.mkdir(parents=True, exist_ok=True)
    return path


def _no_file_above(path: Path) -> None:
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise GeovecError(f"{parent}: is a file, not a folder (for {path})")
            return
