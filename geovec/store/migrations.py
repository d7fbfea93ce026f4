"""Stores written by an older geovec, read and written as today's.

The ``failures`` table's time column was called ``at``, a reserved word of SQL
(``SELECT path, at FROM failures`` is a syntax error); it is ``failed_at`` now. An old
store is read with the new name (its DuckDB view and :meth:`Store.read` rename it) and
renamed in place (a Lance schema change, no data rewritten) the first time failures are
recorded in it. Its rows keep the paths they were written with (relative ones among
them: today's are absolute)."""

from __future__ import annotations

import pyarrow as pa

OLD_NAMES = {"at": "failed_at"}
"""Old column of ``failures``: its name today."""


def renamed_columns(names: list[str]) -> dict[str, str]:
    """{old: new} for the old columns among ``names`` (a failures table's columns)."""
    return {old: new for old, new in OLD_NAMES.items() if old in names and new not in names}


def select_list(names: list[str]) -> str:
    """The DuckDB select list exposing the failures table (columns ``names``) by today's
    names: ``*``, or ``* RENAME ("at" AS failed_at)``."""
    renames = renamed_columns(names)
    if not renames:
        return "*"
    pairs = ", ".join(f'"{old}" AS {new}' for old, new in renames.items())
    return f"* RENAME ({pairs})"


def read_columns(names: list[str], columns: list[str] | None) -> list[str] | None:
    """The stored names to read for the columns asked for by today's names."""
    if columns is None:
        return None
    back = {new: old for old, new in renamed_columns(names).items()}
    return [back.get(c, c) for c in columns]


def renamed(data: pa.Table) -> pa.Table:
    """``data`` read from a failures table, its old columns under today's names."""
    renames = renamed_columns(data.column_names)
    if not renames:
        return data
    return data.rename_columns([renames.get(c, c) for c in data.column_names])


def upgrade_failures(table) -> bool:
    """Rename the old columns of the LanceDB failures ``table`` in place; whether any was.
    Run under the store's commit lock."""
    renames = renamed_columns(table.schema.names)
    for old, new in renames.items():
        table.alter_columns({"path": old, "rename": new})
    return bool(renames)
