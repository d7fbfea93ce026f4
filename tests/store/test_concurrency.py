"""One store, many threads: readers sharing a fresh Store while others write, writers of
the same ids, and column updates racing appends (issue 18, item 3). Each test runs in a
few seconds; the subprocess ones are in tests/ingestion/test_concurrent_ingest.py."""

from __future__ import annotations

import collections
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pytest

import geovec
from geovec.errors import StoreError
from geovec.store.schema import feature_field
from tests.stores import add_rows

EVERYWHERE = {"west": -180.0, "south": -90.0, "east": 180.0, "north": 90.0}


def _rows(ids: list[str]) -> list[dict]:
    return [{"id": i, "region": "r", "lon": 0.001 * k, "lat": 0.0} for k, i in enumerate(ids)]


def _ground(store, ids: list[str]) -> None:
    add_rows(store, "ground", _rows(ids), {"gist": np.ones((len(ids), 4), np.float32)})


def _in_threads(jobs, workers: int):
    """Run every job at once (a barrier starts them together); their results, in order."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        return job()

    with ThreadPoolExecutor(workers) as pool:
        return [f.result() for f in [pool.submit(run, job) for job in jobs]]


def test_a_fresh_store_serves_many_threads_at_first_use(tmp_path):
    """The explorer's page load: eight threads ask a Store that has made no view yet, at
    the same moment, while another thread appends. Every answer comes, none is "table
    ground does not exist"."""
    _ground(geovec.open(tmp_path / "db"), [f"g{i}" for i in range(20)])
    writer = geovec.open(tmp_path / "db")
    for round_ in range(10):
        store = geovec.open(tmp_path / "db")  # no schema, no views yet

        def count(store=store):
            return store.sql("SELECT count(*) FROM ground").fetchone()[0]

        def page(store=store):
            return store.query("ground_points", **EVERYWHERE, offset=0, limit=1000).num_rows

        def append(round_=round_):
            _ground(writer, [f"r{round_}_{i}" for i in range(3)])
            return None

        jobs = [count, page] * 4 + [append]
        answers = _in_threads(jobs, workers=len(jobs))
        assert all(a >= 20 + 3 * round_ for a in answers[:-1]), answers
        store.close()


def test_a_table_made_after_the_first_query_gets_its_view(tmp_path):
    store = geovec.open(tmp_path / "db")
    _ground(store, ["g0"])
    assert store.sql("SELECT count(*) FROM ground").fetchone() == (1,)
    other = geovec.open(tmp_path / "db")
    add_rows(other, "overhead", _rows(["g0", "g1"]), {"gist": np.ones((2, 4), np.float32)})
    assert store.sql("SELECT count(*) FROM overhead").fetchone() == (2,)


def _ground_table(tmp_path, ids: list[str]) -> pa.Table:
    """Ground rows with ``ids`` as Arrow, made in a scratch store."""
    scratch = geovec.open(tmp_path / "scratch")
    _ground(scratch, ids)
    return scratch.read("ground")


def test_writers_of_the_same_ids_store_each_once(tmp_path):
    """Four writers (each its own Store, as separate ingests are) append the same ids chunk
    by chunk at once: each id is stored exactly once, and the rows they say they wrote add
    up to the rows stored."""
    rows = _ground_table(tmp_path, [f"g{i}" for i in range(120)])
    geovec.open(tmp_path / "db").ensure_features("ground", [feature_field("gist", 4)])

    def writer(seed: int) -> int:
        store = geovec.open(tmp_path / "db")
        order = np.random.default_rng(seed).permutation(rows.num_rows // 8)
        return sum(store.append("ground", rows.slice(8 * k, 8)) or 0 for k in order)

    written = _in_threads([lambda s=s: writer(s) for s in range(4)], workers=4)
    stored = geovec.open(tmp_path / "db").read("ground", ["id"]).column("id").to_pylist()
    twice = [i for i, n in collections.Counter(stored).items() if n > 1]
    assert not twice, f"{len(stored) - len(set(stored))} rows written twice, e.g. {twice[:3]}"
    assert set(stored) == set(rows.column("id").to_pylist())
    assert sum(written) == 120


def test_append_leaves_out_ids_already_stored(tmp_path):
    store = geovec.open(tmp_path / "db")
    _ground(store, ["a", "b"])
    assert store.append("ground", _ground_table(tmp_path, ["b", "c", "d"])) == 2
    assert sorted(store.read("ground", ["id"]).column("id").to_pylist()) == ["a", "b", "c", "d"]
    assert store.append("ground", _ground_table(tmp_path / "again", ["a", "d"])) == 0


def test_updates_metadata_and_new_columns_race_appends(tmp_path):
    """isolate and embed while an ingest appends: one thread appends chunks, one sets a
    column of the first rows again and again (merge_insert), one adds columns, one sets
    column metadata. Nothing fails; no row, update, column or metadata is lost."""
    first = [f"g{i}" for i in range(40)]
    _ground(geovec.open(tmp_path / "db"), first)

    def append():
        store = geovec.open(tmp_path / "db")
        for k in range(15):
            _ground(store, [f"n{k}_{i}" for i in range(4)])

    def update():
        store = geovec.open(tmp_path / "db")
        for k in range(8):
            flags = pa.array([(i + k) % 2 == 0 for i in range(len(first))], pa.bool_())
            store.update_columns("ground", pa.table({"id": first, "isolated": flags}))
        return k

    def columns():  # embed: a new column with its provenance
        store = geovec.open(tmp_path / "db")
        for k in range(4):
            store.ensure_features("ground", [feature_field(f"emb{k}", 2, {"head": f"h{k}"})])

    def metadata():  # isolate: the split column says who wrote it
        store = geovec.open(tmp_path / "db")
        for k in range(8):
            store.set_field_metadata("ground", "split", {"written_by": f"run {k}"})

    _in_threads([append, update, columns, metadata], workers=4)
    store = geovec.open(tmp_path / "db")
    rows = store.read("ground", ["id", "isolated"]).to_pylist()
    assert len(rows) == len({r["id"] for r in rows}) == 40 + 15 * 4
    last = {f"g{i}": (i + 7) % 2 == 0 for i in range(len(first))}
    assert {r["id"]: r["isolated"] for r in rows if r["id"] in last} == last
    assert all(r["isolated"] is None for r in rows if r["id"] not in last)
    assert {"emb0", "emb1", "emb2", "emb3"} <= set(store.features("ground"))
    assert store.provenance("ground", "emb3") == {"head": "h3"}
    assert store.field_metadata("ground", "split") == {"written_by": "run 7"}


def test_queries_read_one_version_while_rows_arrive(tmp_path):
    """A query that reads ground twice (a self-join, two subqueries) sees one version of
    it, however many appends land while it runs."""
    _ground(geovec.open(tmp_path / "db"), [f"g{i}" for i in range(50)])
    store = geovec.open(tmp_path / "db")
    done = threading.Event()

    def append():
        writer = geovec.open(tmp_path / "db")
        try:
            for k in range(25):
                _ground(writer, [f"n{k}_{i}" for i in range(2)])
        finally:
            done.set()

    def read():
        answers = []
        while not done.is_set():
            answers.append(
                store.sql(
                    "SELECT (SELECT count(*) FROM ground), (SELECT count(*) FROM ground), "
                    "(SELECT count(*) FROM ground a JOIN ground b USING (id))"
                ).fetchone()
            )
        return answers

    answers = sum(_in_threads([append, read, read], workers=3)[1:], [])
    assert answers and all(a == b == c for a, b, c in answers), [
        x for x in answers if len(set(x)) > 1
    ][:3]


def test_a_writer_that_keeps_conflicting_gives_up_in_one_line(tmp_path, monkeypatch):
    """Lance commits optimistically: a commit preempted by another writer is tried again,
    and after the last try the error is one line naming the store and the table."""
    from geovec.store import commits

    store = geovec.open(tmp_path / "db")
    _ground(store, ["g0"])
    calls = []
    real = type(store.table("ground")).merge_insert

    def conflicting(self, on):
        calls.append(on)
        if len(calls) <= 2:  # preempted twice, then through
            raise RuntimeError(
                "lance error: Retryable commit conflict for version 7: This Update "
                "transaction was preempted by concurrent transaction Append at version 7."
            )
        return real(self, on)

    monkeypatch.setattr(type(store.table("ground")), "merge_insert", conflicting)
    monkeypatch.setattr(commits, "BACKOFF_S", 0.001)
    store.update_columns("ground", pa.table({"id": ["g0"], "isolated": [True]}))
    assert store.read("ground", ["isolated"]).column(0).to_pylist() == [True]
    assert len(calls) == 3

    calls.clear()
    monkeypatch.setattr(commits, "COMMIT_TRIES", 2)
    with pytest.raises(StoreError) as info:
        store.update_columns("ground", pa.table({"id": ["g0"], "isolated": [False]}))
    message = str(info.value)
    assert len(message.splitlines()) == 1 and str(store.path) in message
    assert "ground" in message and "2 tries" in message
    assert store.read("ground", ["isolated"]).column(0).to_pylist() == [True]
