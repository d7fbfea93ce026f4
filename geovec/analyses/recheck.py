"""``geovec evaluate --check RESULTS.json``: run an evaluation again with the arguments its
results file records (:mod:`.provenance`) and say whether the numbers are the same.

A difference is any number (or other value) of the result that is not identical, a key
present on one side only, or another set of queries or candidates (their ids' sha256);
each is one line, ``recall.1: 0.25 -> 0.3``. What changed without changing a number is a
note: the store's table versions, the feature columns' provenance, the head file, the
layer file, geovec's version. A file holding several results (``--json`` of several
features) is checked result by result.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from geovec.analyses.crossview import evaluate
from geovec.analyses.metrics import curve_columns
from geovec.counts import count
from geovec.errors import ResultsError
from geovec.store import Store

DIGESTS = {"query_ids_sha256": "the queries", "candidate_ids_sha256": "the candidates"}
TUPLES = ("within_m", "recall_at")


@dataclasses.dataclass
class CheckResult:
    """The verdict of one results file."""

    path: Path
    results: int  # evaluations checked
    differences: list[str]
    notes: list[str]

    @property
    def identical(self) -> bool:
        return not self.differences

    def lines(self) -> list[str]:
        """The differences (one line each) and notes, then the verdict."""
        verdict = (
            f"identical: {self.path} ({count(self.results, 'result')}) gives the same numbers"
            if self.identical
            else f"different: {self.path}: {count(len(self.differences), 'difference')}"
        )
        return [*self.differences, *(f"note: {n}" for n in self.notes), verdict]

    def as_dict(self) -> dict:
        return {
            "path": str(self.path),
            "identical": self.identical,
            "results": self.results,
            "differences": self.differences,
            "notes": self.notes,
        }


def check_results(path: str | Path, store: str | Path | None = None) -> CheckResult:
    """Re-run every evaluation of the results file ``path`` (on ``store``, default the one
    it records) and compare (see the module).

    Raises:
      ResultsError: not JSON, or no provenance to re-run from.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file") from None
    except (json.JSONDecodeError, UnicodeDecodeError, IsADirectoryError) as exc:
        raise ResultsError(f"{path}: not a JSON results file ({exc})") from None
    entries = data if isinstance(data, list) else [data]
    differences, notes = [], []
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("curve"), list):
            entry = {**entry, "curve": curve_columns(entry["curve"])}  # as an older geovec wrote it
        provenance = entry.get("provenance") if isinstance(entry, dict) else None
        if not isinstance(provenance, dict) or "arguments" not in provenance:
            raise ResultsError(
                f"{path}: no provenance to re-run from (an evaluate result of geovec "
                "0.1 or later, from --json or --out, holds one)"
            )
        label = f"{_name(entry)}: " if len(entries) > 1 else ""
        again = _rerun(path, provenance, store)
        differences += [label + line for line in compare(entry, again)]
        notes += [label + line for line in changes(provenance, again["provenance"])]
    return CheckResult(path, len(entries), differences, notes)


def _name(entry: dict) -> str:
    return str(entry.get("feature") or entry.get("ground_feature") or entry.get("protocol"))


def _rerun(path: Path, provenance: dict, store) -> dict:
    arguments = dict(provenance["arguments"])
    for name in TUPLES:
        if isinstance(arguments.get(name), list):
            arguments[name] = tuple(arguments[name])
    head = provenance.get("head") or {}
    if head and head.get("path") is None:
        raise ResultsError(
            f"{path}: made with a head given as an object, not a file: nothing to re-run with"
        )
    where = store if store is not None else provenance.get("store")
    if where is None:
        raise ResultsError(f"{path}: its provenance names no store; give the database")
    with Store(where, create=False) as opened:
        result = evaluate(opened, **arguments)
        return json.loads(json.dumps(result.as_dict(), default=_plain))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _flat(values: dict, prefix: str = ""):
    for key, value in values.items():
        if isinstance(value, dict) and value:
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return (type(a) is type(b) or (_number(a) and _number(b))) and a == b


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare(before: dict, after: dict) -> list[str]:
    """One line per value of the results (all but the provenance) that differs, and one
    per set of ids (queries, candidates) whose digest differs."""
    old = dict(_flat({k: v for k, v in before.items() if k != "provenance"}))
    new = dict(_flat({k: v for k, v in after.items() if k != "provenance"}))
    lines = []
    for key in dict.fromkeys([*old, *new]):
        if key not in new:
            lines.append(f"{key}: {_text(old[key])} -> (absent)")
        elif key not in old:
            lines.append(f"{key}: (absent) -> {_text(new[key])}")
        elif not _same(old[key], new[key]):
            a, b = old[key], new[key]
            if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and len(a) > 4:
                differ = sum(not _same(x, y) for x, y in zip(a, b))
                lines.append(f"{key}: {differ} of {len(a)} entries differ")
            else:
                lines.append(f"{key}: {_text(a)} -> {_text(b)}")
    for key, what in DIGESTS.items():
        a, b = (before.get("provenance") or {}).get(key), after["provenance"].get(key)
        if a != b:
            lines.append(f"provenance.{key}: {what} are other rows ({_short(a)} -> {_short(b)})")
    return lines


def changes(before: dict, after: dict) -> list[str]:
    """Notes: what changed in the provenance besides the ids."""
    notes = []
    old_tables, new_tables = before.get("tables") or {}, after.get("tables") or {}
    moved = [
        f"{t} {old_tables.get(t)} -> {new_tables.get(t)}"
        for t in dict.fromkeys([*old_tables, *new_tables])
        if old_tables.get(t) != new_tables.get(t)
    ]
    if moved:
        notes.append("the store's tables changed since (Lance versions " + ", ".join(moved) + ")")
    for key, what in (
        ("features", "the feature columns' provenance"),
        ("head", "the head file"),
        ("by", "the by layer"),
        ("geovec_version", "geovec's version"),
        ("isolation_radius_m", "the isolation radius"),
    ):
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            old, new = dict(_flat(a)), dict(_flat(b))
            keys = [k for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]
            notes.append(f"{what} changed ({', '.join(keys)})")
        else:
            notes.append(f"{what} changed: {_text(a)} -> {_text(b)}")
    return notes


def _short(digest) -> str:
    return "none" if digest is None else str(digest)[:12]


def _text(value) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
