"""What made a result: the ``provenance`` of every evaluation's JSON, and the ``by``
breakdown (:mod:`.breakdowns`) when a layer is given.

:func:`recorded` wraps :func:`geovec.analyses.crossview.evaluate`: it reads the ``by``
layer before the work, notes the store's table versions, runs the evaluation, and then
records in ``result.provenance``:

- ``geovec_version``; ``store`` (its absolute path); ``tables``: the Lance version of
  ``ground``, ``overhead`` and ``map`` read (null: no such table);
- ``features``: per view, the provenance of each feature column used (weights and their
  sha256, preprocessing: :meth:`geovec.store.Store.provenance`), and ``head`` (its file's
  path and sha256) for a learned head;
- ``split`` (the queries' and candidates' rows) and ``isolation_radius_m`` (the radius
  that marked the isolated images, from the store; null when unknown);
- ``query_ids_sha256`` and ``candidate_ids_sha256``: :func:`id_digest` of the ids ranked
  (the queries of the per-query ranks, the candidates they were ranked among);
- ``metrics``: the definitions (rank rule, top-1 % cutoff, recall N, distance thresholds);
- ``by``: the layer (its path, sha256, the field naming its places and how that field was
  chosen, its polygons and CRS), null without one;
- ``arguments``: every argument of the call as given (paths made absolute), so that
  ``geovec evaluate --check RESULTS.json`` (:mod:`.recheck`) can run it again.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from pathlib import Path

from geovec.analyses.breakdowns import breakdown
from geovec.analyses.isolation import isolation_radius
from geovec.analyses.layers import PolygonLayer, read_layer
from geovec.analyses.metrics import RECALL_AT
from geovec.defaults import __version__
from geovec.errors import GeovecError
from geovec.heads.file import Head, as_head
from geovec.store.regions import region_label

TABLES = ("ground", "overhead", "map")
RANK_RULE = (
    "the candidates strictly closer (Euclidean, by the scored feature) to the query than its "
    "true candidate: 0 is first, ties do not hurt; null: the true candidate was not among "
    "the query's (outside its GPS prior), a miss at every cutoff"
)
PLACES_RANK_RULE = (
    "first_positive_rank: the database images strictly closer (Euclidean, by the feature) "
    "to the query than its nearest positive (a database image within threshold_m metres, "
    "WGS84 geodesic); null: no positive, a miss at every N"
)
TOP_RULE = (
    "rank < max(1, N // 100) of the query's N candidates "
    "(geovec.analyses.metrics.retrieved; the curve at p %: rank < max(1, floor(N * p / 100)))"
)
ERROR_RULE = (
    "WGS84 geodesic metres from the query's best candidate to its true position; "
    "within_m[t]: the share of queries with error_m <= t; median_error_m: their median"
)


def id_digest(ids) -> str:
    """sha256 (hex) of the ids, sorted, each followed by a newline (UTF-8): the same for
    the same set of ids in any order."""
    digest = hashlib.sha256()
    for ident in sorted(str(i) for i in ids):
        digest.update(ident.encode() + b"\n")
    return digest.hexdigest()


def id_digests(query_ids, candidate_ids) -> dict[str, str]:
    """The provenance's two digests: of the queries and of the candidates ranked."""
    return {
        "query_ids_sha256": id_digest(query_ids),
        "candidate_ids_sha256": id_digest(candidate_ids),
    }


def table_versions(store) -> dict[str, int | None]:
    """The Lance version of each table an evaluation reads (None: no such table)."""
    return {name: store.table(name).version if store.has(name) else None for name in TABLES}


def recorded(evaluate):
    """Wrap an evaluation function (``evaluate(store, feature, *, ..., by, by_field)``) so
    that its result carries ``by`` and ``provenance`` (see the module)."""
    signature = inspect.signature(evaluate)

    @functools.wraps(evaluate)
    def run(store, *args, **kwargs):
        bound = signature.bind(store, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        layer = None
        if arguments.get("by") is not None:  # a bad layer stops before the work
            layer = read_layer(arguments["by"], arguments.get("by_field"))
        elif arguments.get("by_field") is not None:
            raise GeovecError("by_field names a field of the by layer: give the layer (by) too")
        versions = table_versions(store)
        result = evaluate(store, *args, **kwargs)
        if layer is not None:
            result.by = breakdown(store, result, layer)
        made = describe(store, result, arguments, versions, layer)
        result.provenance = {**made, **(result.provenance or {})}
        return result

    return run


def describe(store, result, arguments: dict, versions: dict, layer: PolygonLayer | None) -> dict:
    """The provenance of ``result`` (see the module)."""
    head = arguments.get("head")
    return {
        "geovec_version": __version__,
        "store": str(Path(store.path).resolve()),
        "tables": versions,
        "features": _features(store, result.protocol, arguments, head),
        "head": _head(head),
        "split": _split(result.protocol, arguments),
        "isolation_radius_m": isolation_radius(store),
        "metrics": _definitions(result),
        "by": layer.describe() if layer is not None else None,
        "arguments": _plain_arguments(arguments, layer),
    }


def _features(store, protocol: str, arguments: dict, head) -> dict[str, dict]:
    """{view: {feature: its provenance}} of the feature columns the evaluation read."""
    feature = arguments.get("feature")
    ground = arguments.get("ground_feature") or feature
    aerial = arguments.get("overhead_feature") or feature
    if head is not None:
        loaded = as_head(head)
        ground, aerial = loaded.ground_feature, loaded.overhead_feature
    views = {"ground": ground}
    if protocol != "places":
        views["overhead"] = aerial
    if protocol == "map":
        views["map"] = aerial
    out: dict[str, dict] = {}
    for view, name in views.items():
        if name and name in store.features(view):
            out[view] = {name: store.provenance(view, name)}
    return out


def _head(head) -> dict | None:
    if head is None:
        return None
    if isinstance(head, Head):  # given as an object: no file to record
        return {"name": head.name, "path": None, "sha256": None}
    path = Path(head).resolve()
    loaded = as_head(path)
    return {
        "name": loaded.name,
        "path": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def _split(protocol: str, arguments: dict) -> dict:
    """Which rows are the queries and which the candidates."""
    if protocol == "places":
        return {
            "queries": f"ground split {arguments.get('query_split')!r}",
            "candidates": f"ground split {arguments.get('database_split')!r}",
        }
    if protocol == "pairs":
        split = arguments.get("split")
        return {
            "queries": f"ground split {split!r} (with their aerial)",
            "candidates": f"overhead split {split!r} or none",
        }
    region = arguments.get("region")
    return {
        "queries": "isolated ground images"
        + (f" of region {region_label(region)!r}" if region is not None else ""),
        "candidates": "the map tiles of each query's region",
        "training": "ground images not isolated, with their aerial",
    }


def _definitions(result) -> dict:
    """The rules behind the numbers."""
    recall = [int(k) for k in getattr(result, "recall", {})] or list(RECALL_AT)
    out = {
        "rank": PLACES_RANK_RULE if result.protocol == "places" else RANK_RULE,
        "top_1_percent": TOP_RULE,
        "recall_at": recall,
        "distance": "WGS84 geodesic (pyproj Geod)",
    }
    within = getattr(result, "within_m", None)
    if within:
        out["within_m"] = [float(t) for t in within]
        out["error_m"] = ERROR_RULE
    if result.protocol == "places":
        out["threshold_m"] = result.threshold_m
    return out


def _plain_arguments(arguments: dict, layer: PolygonLayer | None) -> dict:
    """The call's arguments as JSON values (the store as a path, a head as its file)."""
    out = {}
    for name, value in arguments.items():
        if name == "store":
            continue
        if name == "head" and value is not None:
            value = None if isinstance(value, Head) else str(Path(value).resolve())
        elif name == "by" and value is not None:
            value = str(layer.path)
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out
