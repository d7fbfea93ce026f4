"""Feature vectors must be finite: a NaN makes every distance comparison false (a query
whose prediction is NaN ranks its true tile first), so ingest refuses such rows and
evaluations refuse to read them. One test, used by both."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geovec.errors import NonFiniteFeatureError

ROWS_PER_PASS = 8192
"""Rows tested at once: the boolean scratch stays a few tens of MB for any feature."""
SHOWN = 3
"""Ids named in the error message."""


def nonfinite_rows(matrix: np.ndarray) -> np.ndarray:
    """(N,) bool: True where a row of the (N, D) ``matrix`` holds a NaN or an infinity."""
    matrix = np.asarray(matrix)
    bad = np.zeros(len(matrix), bool)
    if matrix.dtype.kind not in "fc" or matrix.size == 0:
        return bad
    for start in range(0, len(matrix), ROWS_PER_PASS):
        block = matrix[start : start + ROWS_PER_PASS]
        bad[start : start + len(block)] = ~np.isfinite(block.reshape(len(block), -1)).all(axis=1)
    return bad


def require_finite(ids: Sequence[str], matrix: np.ndarray, what: str) -> None:
    """Nothing when every row of ``matrix`` is finite; else NonFiniteFeatureError naming a
    few of the ``ids`` (one per row) and the count. ``what``: e.g. ``ground.gist``."""
    bad = np.flatnonzero(nonfinite_rows(matrix))
    if len(bad):
        named = ", ".join(repr(ids[i]) for i in bad[:SHOWN])
        more = f" and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
        raise NonFiniteFeatureError(
            f"{what}: {len(bad)} of {len(matrix)} vectors hold NaN or infinity ({named}{more}); "
            "compute that feature again (geovec extract, or geovec embed for a head's), or "
            "ingest those images again into a new store (ingest now refuses such features)"
        )


def require_finite_columns(rows, what: str) -> None:
    """NonFiniteFeatureError unless every vector column (fixed-size list of floats) of the
    Arrow table ``rows`` is finite; ``what`` names the table (e.g. ``ground``). For writes
    of computed vectors (``update_columns``: a diverged head's embeddings)."""
    import pyarrow as pa

    ids = rows.column("id").to_pylist() if "id" in rows.column_names else []
    for field in rows.schema:
        if pa.types.is_fixed_size_list(field.type) and pa.types.is_floating(field.type.value_type):
            column = rows.column(field.name).combine_chunks()
            if column.null_count:
                column = column.filter(column.is_valid())
                kept = [i for i, v in zip(ids, rows.column(field.name).is_valid()) if v.as_py()]
            else:
                kept = ids
            matrix = column.values.to_numpy(zero_copy_only=False).reshape(len(column), -1)
            require_finite(
                kept or [str(i) for i in range(len(column))], matrix, f"{what}.{field.name}"
            )
