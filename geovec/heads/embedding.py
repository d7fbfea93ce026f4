"""Write a head's embeddings into the store as feature columns: ``<head>_ground`` on
``ground``, ``<head>_overhead`` on ``overhead`` and ``map``, through the same store code as
every extracted feature (typed column, provenance in its metadata, one commit per chunk),
so that every analysis, ``search``, ``sql`` and the vector search take them like any
feature. Rows are read and written in chunks; re-embedding with a retrained head
overwrites the columns."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pyarrow as pa

from geovec.errors import GeovecError
from geovec.heads.file import TOWER_OF_VIEW, Head, load_head
from geovec.nets.convert import file_digests
from geovec.progress import ProgressReporter
from geovec.store import Store
from geovec.store.schema import feature_field, vectors_to_arrow

CHUNK_ROWS = 8192
"""Rows embedded and committed at a time."""


@dataclasses.dataclass
class EmbedSummary:
    """Rows embedded per view and the columns written."""

    head: str
    rows: dict[str, int]
    columns: dict[str, str]
    seconds: float

    def line(self) -> str:
        done = ", ".join(f"{n} {v} -> {v}.{self.columns[v]}" for v, n in self.rows.items())
        total = sum(self.rows.values())
        rate = total / self.seconds if self.seconds > 0 else 0.0
        return f"embedded with {self.head}: {done} ({self.seconds:.1f} s, {rate:.0f} rows/s)"


def embed(store: Store, head: str | Path | Head, *, progress: bool = False) -> EmbedSummary:
    """Embed every row of ``ground``, ``overhead`` and ``map`` that has the head's input
    feature, into ``<head>_ground`` / ``<head>_overhead``.

    Raises:
      HeadError: the head's feature names or lengths do not match the store's.
    """
    started = time.perf_counter()
    source = None
    if not isinstance(head, Head):
        source = Path(head)
        head = load_head(source)
    views = [v for v in TOWER_OF_VIEW if store.count(v)]
    if "ground" not in views and "overhead" not in views:
        raise GeovecError(f"{store.path} has no ground or overhead images to embed")
    head.check_store(store, [v for v in ("ground", "overhead") if v in views])
    provenance = {
        "head": head.name,
        "sha256": file_digests(source)["sha256"] if source else "",
        "ground_feature": head.ground_feature,
        "overhead_feature": head.overhead_feature,
    }
    rows, columns = {}, {}
    for view in views:
        side = TOWER_OF_VIEW[view]
        feature, column = head.feature(side), head.column(side)
        if feature not in store.features(view):
            continue  # e.g. map tiles without the overhead feature yet
        field = feature_field(column, head.dim, {**provenance, "tower": side})
        store.ensure_features(view, [field])
        store.set_field_metadata(
            view, column, {k.decode(): v.decode() for k, v in field.metadata.items()}
        )
        total = store.count(view, f"{feature} IS NOT NULL")
        reader = (
            store.table(view)
            .search()
            .where(f"{feature} IS NOT NULL", prefilter=True)
            .select(["id", feature])
            .limit(None)
            .to_batches(CHUNK_ROWS)
        )
        with ProgressReporter(f"embed {view}", total, enabled=progress, unit="rows") as bar:
            for batch in _rebatch(reader, CHUNK_ROWS):
                values = batch.column(feature).combine_chunks()
                x = values.values.to_numpy(zero_copy_only=False).reshape(-1, values.type.list_size)
                update = pa.table(
                    {"id": batch.column("id"), column: vectors_to_arrow(head.embed(side, x))}
                )
                store.update_columns(view, update)
                bar.advance(batch.num_rows)
        rows[view], columns[view] = total, column
    return EmbedSummary(head.name, rows, columns, time.perf_counter() - started)


def _rebatch(reader: pa.RecordBatchReader, rows: int):
    """Tables of ``rows`` rows (the last one shorter) from a reader's batches, read as
    they come: the whole column is never held."""
    pending, held = [], 0
    for batch in reader:
        pending.append(batch)
        held += batch.num_rows
        if held >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending)
