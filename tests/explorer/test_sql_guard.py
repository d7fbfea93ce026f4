"""The SQL box's table guard (``check_table_references``) against what DuckDB reads.

Hypothesis builds nested queries that mix WITH (recursive too), subqueries in FROM, IN
and the select list, lateral joins, set operations, and names drawn from one pool: the
store's tables, WITH names, and quoted file names (a Lance dataset elsewhere, a path with
a colon). Each query is also run on an oracle: a plain DuckDB holding only empty tables
named like the store's views, with file access and Python scans off and no lance
extension. There a name that is neither a table nor a WITH name in scope cannot bind
(DuckDB reports a missing table or refuses the file). So:

- every query the guard allows binds on the oracle: it reads nothing but the store's
  tables and its own WITH names (before issue 19 the guard took a WITH name from anywhere
  in the query, so a file read outside that WITH's scope passed);
- every query that names no file, reads each of its WITH entries (DuckDB does not bind
  the others) and binds on the oracle is allowed: the guard is not just refusing all.
"""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geovec.errors import QueryError
from geovec.store.sql import check_table_references

TABLES = {"ground", "overhead", "map", "failures"}
WITH_NAMES = ["a", "b", "t", "ground"]
FILES = ['"/elsewhere/db/ground.lance"', "'/elsewhere/db/map.lance'", '"x.lance"', '"c:d"']
READS_ELSEWHERE = ("catalog error", "does not exist", "file system", "external access")


@pytest.fixture(scope="module")
def oracle():
    con = duckdb.connect()
    for table in sorted(TABLES):
        con.execute(f"CREATE TABLE {table} (id INTEGER)")
    con.execute("INSERT INTO ground VALUES (1), (2)")
    con.execute("SET enable_external_access = false")
    con.execute("SET python_enable_replacements = false")
    con.execute("SET lock_configuration = true")
    return con


names = st.sampled_from(sorted(TABLES)[:2] + WITH_NAMES + FILES)


@st.composite
def queries(draw, depth: int = 3) -> tuple[str, bool]:
    """A query of one INTEGER column ``id``, and whether each of its WITH entries (at
    every level) is read by its own query's body: DuckDB binds only those that are, so
    only then does the oracle check all of them."""
    ctes, defined, all_used = [], [], True
    if depth > 0 and draw(st.booleans()):
        recursive = draw(st.booleans())
        for _ in range(draw(st.integers(1, 2))):
            name = draw(names)
            defined.append(name)
            if recursive and draw(st.booleans()):
                inner = draw(names)  # itself, or any other name
                body = f"SELECT 1 AS id UNION ALL SELECT id + 1 FROM {inner} WHERE id < 3"
                ctes.append(f"{name}(id) AS ({body})")
            else:
                text, used = draw(queries(depth - 1))
                ctes.append(f"{name} AS ({text})")
                all_used &= used
        head = "WITH RECURSIVE " if recursive else "WITH "
        prefix = head + ", ".join(ctes) + " "
    else:
        prefix = ""
    body, used = draw(bodies(depth))
    all_used &= used
    if defined and draw(st.booleans()):  # read every entry in the body
        joins = " ".join(f"JOIN {n} AS u{i} ON u{i}.id = m.id" for i, n in enumerate(defined))
        body = f"SELECT m.id FROM ({body}) AS m {joins}"
    elif defined:
        all_used = False
    return prefix + body, all_used


@st.composite
def bodies(draw, depth: int) -> tuple[str, bool]:
    kinds = ["plain"] + (["setop", "in", "scalar", "lateral", "from_query"] if depth else [])
    kind = draw(st.sampled_from(kinds))
    source = draw(names)
    if kind == "plain":
        return f"SELECT s.id FROM {source} AS s", True
    sub, used = draw(queries(depth - 1))
    if kind == "setop":
        op = draw(st.sampled_from(["UNION ALL", "UNION", "EXCEPT", "INTERSECT"]))
        return f"(SELECT s.id FROM {source} AS s) {op} ({sub})", used
    if kind == "in":
        return f"SELECT s.id FROM {source} AS s WHERE s.id IN ({sub})", used
    if kind == "scalar":
        text = f"SELECT (SELECT max(q.id) FROM ({sub}) AS q) AS id, s.id AS x FROM {source} AS s"
        return text, used
    if kind == "lateral":
        text = (
            f"SELECT s.id FROM {source} AS s, LATERAL (SELECT q.id FROM ({sub}) AS q "
            "WHERE q.id = s.id) AS l"
        )
        return text, used
    return f"SELECT q.id FROM ({sub}) AS q JOIN {source} AS s ON q.id = s.id", used


def verdicts(oracle, query: str) -> tuple[bool, str | None]:
    """(the guard allows it, the oracle's first error line or None)."""
    try:
        check_table_references(query, TABLES)
        allowed = True
    except QueryError:
        allowed = False
    try:
        oracle.execute(query).fetchall()
        failed = None
    except duckdb.Error as exc:
        failed = str(exc).splitlines()[0]
    return allowed, failed


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(queries())
def test_the_guard_allows_only_what_reads_the_store(oracle, built):
    query, every_with_read = built
    allowed, failed = verdicts(oracle, query)
    reads_elsewhere = failed is not None and any(w in failed.lower() for w in READS_ELSEWHERE)
    if allowed:
        assert not reads_elsewhere, f"allowed, yet DuckDB reads elsewhere: {failed}\n{query}"
    if failed is None and every_with_read and not any(f in query for f in FILES):
        assert allowed, f"refused, yet DuckDB reads only the store's tables:\n{query}"


@pytest.mark.parametrize(
    "query",
    [  # WITH names out of their scope, each one a read of a file by DuckDB
        "select (with \"/o/g.lance\" as (select 1) select 1), * from '/o/g.lance'",
        "select * from '/o/g.lance' where exists (with \"/o/g.lance\" as (select 1) select 1)",
        'with a as (select * from "/o/g.lance"), "/o/g.lance" as (select 1) select * from a',
        'with x as (with "/o/g.lance" as (select 1) select 1) select * from "/o/g.lance"',
        'with recursive "/o/g.lance" as (select * from "/o/g.lance") select * from "/o/g.lance"',
        "(with b as (select 1 id) select id from b) union all select id from b",
        "with a as (select 1) select * from a, (select * from b) s, "
        "(with b as (select 1) select * from b) u",
    ],
)
def test_with_names_out_of_scope_are_refused(oracle, query):
    """Each fails on the oracle where the name is looked up outside its WITH: a missing
    table, or (WITH RECURSIVE without a UNION) a "circular reference" once no table or
    scan answers to the name: ``with recursive ground as (select * from ground)`` reads
    the table ground."""
    allowed, failed = verdicts(oracle, query)
    elsewhere = (*READS_ELSEWHERE, "circular reference")
    assert failed and any(w in failed.lower() for w in elsewhere), failed
    assert not allowed


@pytest.mark.parametrize(
    "query",
    [
        "with a as (select 1 id) select * from a union all select * from a",
        "with a as (select 1 id), b as (select * from a) select * from b",
        "with recursive t(id) as (select 1 union all select id + 1 from t where id < 3) "
        "select * from t",
        "with a as (select 1 id) select g.id from ground g, lateral (select * from a) s",
        "with ground as (select * from ground) select * from ground",
        "select * from GROUND",
        "with a as (select 1 id) select * from (with b as (select * from a) select * from b) s",
    ],
)
def test_scoped_with_names_and_store_tables_are_allowed(oracle, query):
    allowed, failed = verdicts(oracle, query)
    assert failed is None and allowed
