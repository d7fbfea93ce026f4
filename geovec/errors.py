"""Exceptions raised by geovec.

Every error a user can cause derives from :class:`GeovecError`; the command line turns
each into a one-line message (exit code 1) instead of a traceback, and so does
:func:`user_message` with the errors from outside geovec that a user can cause (a
missing or read-only path, a full disk, a damaged store).
"""

import errno
import os
import re


class GeovecError(Exception):
    """Base exception of geovec: a problem the user can act on."""


class CaffeFormatError(GeovecError):
    """A .caffemodel or .binaryproto file is truncated, corrupt or not protobuf."""


class ArchitectureMismatchError(GeovecError):
    """Converted or decoded weights do not fit the network architecture."""


class WeightsNotFoundError(GeovecError):
    """Converted weights for a network are not in the weights directory."""


class ChecksumMismatchError(GeovecError):
    """A weights file's checksum differs from the published one."""


class LabelsError(GeovecError):
    """A category label file cannot be read or does not fit the network."""


class ImageDecodeError(GeovecError):
    """An image file cannot be decoded into RGB pixels."""


class ManifestError(GeovecError):
    """A manifest (CSV, Parquet, GeoJSON) or image folder cannot be read."""


class StoreError(GeovecError):
    """A geovec database directory or one of its tables is missing or unusable."""


class FeatureMissingError(StoreError):
    """A query names a feature column that the table does not hold."""


class QueryError(GeovecError):
    """An SQL query failed or was refused."""


class AerialSourceError(GeovecError):
    """An aerial source (raster, world-file image, tile folder, MBTiles) cannot be read."""


class DatasetError(GeovecError):
    """A cross-view dataset folder (CVUSA, CVACT, VIGOR) is missing a file or has a bad line."""


class HeadError(GeovecError):
    """A learned head file is unreadable, or does not fit the store's features."""


class VectorIndexError(GeovecError):
    """A vector index cannot be built, found or measured."""


class EncoderError(GeovecError):
    """An ONNX image encoder cannot be added or loaded: not one image input, not one 2-D
    output, a bad name or preprocessing, a model file changed or gone."""


class ExportError(GeovecError):
    """A GeoParquet, GeoTIFF or STAC export cannot be written as asked (an unknown view or
    file type, a raster too large, a folder with nothing to catalogue)."""


class LayerError(GeovecError):
    """A polygon layer (``evaluate --by``: GeoJSON or GeoParquet) cannot be read, holds
    something other than polygons, or lacks the field that names them."""


class ResultsError(GeovecError):
    """A results file (``evaluate --check``) cannot be read or re-run: not JSON, no
    provenance, or what it was made from is gone."""


class NonFiniteFeatureError(StoreError):
    """A stored feature vector holds NaN or infinity (a store written by an older geovec or
    by hand): no distance to it means anything."""


# one line for what a user (or the machine) caused ----------------------------------------

_RUST_PLACE = re.compile(r",?\s*[^\s,()]+\.rs:\d+:\d+")  # ", /root/.cargo/.../x.rs:258:9"
_LANCE_NOISE = re.compile(
    r"(lance error: |LanceError\(\w+\): |Generic N/A error: |Wrapped error: |Cloned error: "
    r"|stream next: |External error: )",
    re.I,
)
_OS_ERROR = re.compile(r"\(os error (\d+)\)")
_LANCE_USER = re.compile(
    r"LanceError\((IO|NotFound|DatasetNotFound|CommitConflict|RetryableCommitConflict)\)"
    r"|\(os error \d+\)|Not found: [^\s,()]+\.lance\b",
    re.I,
)
"""Lance errors of the files beneath (damaged, unreadable, full) or of other writers: not
bugs of geovec, unlike a Lance error of invalid input."""
_LANCE_PATH = re.compile(
    r'at path "([^"]+)"|Object at location (\S+) not found'
    r"|Not found: ([^\s,()]+\.lance\b[^\s,()]*)",
    re.I,
)
_LANCE_TABLE_GONE = re.compile(r"Table '([^']+)' was not found")
_DUCKDB_USER_ERRORS = {
    "IOException",
    "OutOfMemoryException",
    "PermissionException",
    "HTTPException",
}
_PLACELESS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
"""Errors that often come without a path: the store or file the command worked on is named."""
_HINTS = {
    errno.ENOENT: "no such file or directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted (a read-only or protected folder?)",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device (free some space and run it again)",
    errno.EDQUOT: "disk quota exceeded (free some space and run it again)",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOTDIR: "not a folder (a file stands where a folder is expected)",
    errno.EEXIST: "already exists",
    errno.ENOTEMPTY: "folder not empty",
    errno.EMFILE: "too many open files (raise the limit: ulimit -n)",
}


def user_message(exc: BaseException, where: object = None) -> str | None:
    """The one line to print for an error that the user or the machine caused, or None for
    a programming error (a bug, whose traceback should show).

    User-caused: a :class:`GeovecError`; an operating-system error (a missing, unreadable
    or read-only path, a file where a folder should be, a full disk: the errno in words
    and the path); a Lance or DuckDB input/output error from a damaged, unreadable or
    unwritable store (a deleted data file: what is missing, and where); running out of
    memory. ``where``: the store or file the command worked on, named when the error
    itself names no path.
    """
    text = str(exc)
    if isinstance(exc, GeovecError):  # a Lance failure inside (e.g. SQL over a damaged store)
        return _lance_message(text, where) if _LANCE_USER.search(text) else _condense(text)
    if isinstance(exc, MemoryError):
        return "out of memory (try a smaller --batch-size, or fewer --workers)"
    if isinstance(exc, RuntimeError | OSError | ValueError) and _LANCE_USER.search(text):
        return _lance_message(text, where)
    unopenable = _LANCE_TABLE_GONE.fullmatch(text) if isinstance(exc, ValueError) else None
    if unopenable:  # listed (its folder is there) but without a readable version
        table = f"{where}/{unopenable.group(1)}.lance" if where is not None else "a table"
        return f"damaged store: {table} cannot be opened (no readable version in _versions)"
    if isinstance(exc, OSError):
        return _os_message(exc, where)
    module = type(exc).__module__.split(".")[0]
    if module in ("duckdb", "_duckdb") and (
        type(exc).__name__ in _DUCKDB_USER_ERRORS or _LANCE_USER.search(text)
    ):
        return _lance_message(text, where)
    return None


def _condense(text: str) -> str:
    """One line of a message: Lance's wrapped errors and source places taken out."""
    if "lance" in text.lower():
        text = _RUST_PLACE.sub("", _LANCE_NOISE.sub("", text))
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "failed (no message)"


def _lance_message(text: str, where: object) -> str:
    """What a Lance (or DuckDB-over-Lance) error says, in one line: errno in words and the
    path it names; a data file that is gone means a damaged store."""
    code = _OS_ERROR.search(text)
    found = _LANCE_PATH.search(text)
    path = next((g for g in found.groups() if g), None) if found else None
    if path and not path.startswith("/") and os.path.isdir("/" + path.split("/")[0]):
        path = "/" + path  # Lance's object store names local files without the root
    if code:
        words = _HINTS.get(int(code.group(1))) or os.strerror(int(code.group(1))).lower()
    elif found:
        words = "no such file or directory"
    else:  # a truncated or garbled file: Lance's words, and which store
        detail = _condense(text)
        return f"{where}: cannot read the store ({detail})" if where is not None else detail
    if path and words == _HINTS[errno.ENOENT] and ".lance" in path:
        return (
            f"damaged store: {path} is missing (restore the store from a copy, "
            "or ingest into a new one)"
        )
    place = path or (where if int(code.group(1) if code else 0) in _PLACELESS else None)
    return f"{place}: {words}" if place is not None else words


def _os_message(exc: OSError, where: object) -> str:
    """An operating-system error as 'path: what' (the errno in words)."""
    if exc.errno in _HINTS:
        words = _HINTS[exc.errno]
    elif exc.strerror:  # e.g. socket's "Name or service not known"
        words = exc.strerror[:1].lower() + exc.strerror[1:]
    else:  # no errno, e.g. Pillow's "image file is truncated"
        words = _condense(str(exc)) if str(exc) else type(exc).__name__
    if exc.filename is not None:
        names = f"{exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 else "")
        return f"{names}: {words}"
    return f"{where}: {words}" if where is not None and exc.errno in _PLACELESS else words
