"""bench/: every comparison is like with like and says so (bench/common.py): both sides
run in turn after the same warm-up, and the report prints both rates, the ratio, the
threads of each side and the machine's cores. No bench is run here (no timing in tests)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bench.common import alternate, machine, report

BENCH = Path(__file__).resolve().parents[1] / "bench"
ON_COMMON = {"aerial.py", "head.py", "isolation.py", "ray_ingest.py", "serve.py"}
"""Benches that report through :func:`bench.common.report` (add yours)."""
NO_CORES_YET: set[str] = set()
"""Benches that do not print the core count yet: take a name off once it does."""


def test_report_prints_both_rates_the_ratio_threads_and_cores(capsys):
    ratio = report("cutting", "images/s", ("geovec", 30.0, 3), ("loop", 20.0, "1 + 2"))
    out = capsys.readouterr().out
    assert ratio == pytest.approx(1.5)
    assert re.search(r"geovec\s+30\.00 images/s\s+\(threads: 3\)", out)
    assert re.search(r"loop\s+20\.00 images/s\s+\(threads: 1 \+ 2\)", out)
    assert "ratio geovec / peer 1.50 (geovec faster)" in out
    assert f"{os.cpu_count()} cores, load average" in out
    report("slower", "req/s", ("geovec", 1.0, 1), ("peer", 4.0, 1))
    assert "ratio geovec / peer 0.25 (peer faster)" in capsys.readouterr().out


def test_alternate_warms_each_side_then_runs_them_in_turn():
    calls = []
    best = alternate({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 2, 1)
    assert calls == ["a", "b"] * 3
    assert set(best) == {"a", "b"} and all(s >= 0 for s in best.values())
    with pytest.raises(ValueError):
        alternate({"a": lambda: None}, rounds=0)


def test_machine_names_the_cores():
    assert machine().startswith(f"{os.cpu_count()} cores")


BENCHES = sorted(p.name for p in BENCH.glob("*.py") if p.name not in {"common.py", "__init__.py"})


@pytest.mark.parametrize("name", [n for n in BENCHES if n not in NO_CORES_YET])
def test_every_bench_prints_the_core_count_and_a_ratio(name):
    text = (BENCH / name).read_text()
    if "from bench.common import" in text:
        assert "report(" in text, name
    else:
        assert "cpu_count()" in text and "ratio" in text.lower(), name


@pytest.mark.parametrize("name", sorted(ON_COMMON))
def test_these_benches_report_through_common(name):
    text = (BENCH / name).read_text()
    assert "from bench.common import" in text and "report(" in text, name
