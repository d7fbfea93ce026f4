"""Why an analysis found nothing to do, in one line that names what is missing and the
command that supplies it: the refusals of the map protocol (no query scored, a view
missing) and the warning of an isolation that leaves no training image."""

from __future__ import annotations

from geovec.analyses.isolation import isolation_radius
from geovec.counts import count
from geovec.store import Store
from geovec.store.database import adding_view


def all_isolated(located: int, isolated: int, radius_m: float | None) -> str | None:
    """The line for an isolation that marked every located photo (None: some are left to
    train on). ``radius_m``: the isolation radius, metres."""
    if not located or isolated < located:
        return None
    at = f"{radius_m:g} m" if radius_m else "the isolation radius"
    which = f"all {located} photos are" if located > 1 else "the one photo is"
    return (  # a photo with another within the radius trains: a larger radius gives some
        f"{which} isolated at {at}: none is left to train on; add photos within {at} of "
        "each other, or raise --radius-m past the distance between neighbouring photos "
        "(geovec isolate DB --radius-m METRES)"
    )


def missing_view(store: Store, view: str, feature: str) -> str:
    """The refusal of the map protocol for a store without ``view`` rows: a pairs dataset
    (ground photos linked to aerials, no map tiles) points at ``--protocol pairs``."""
    db = store.path
    if view == "map" and store.count("ground") and store.count("overhead"):
        return (
            f"{db} has no map images; cross-view on the map protocol needs all three views. "
            f"Ground photos paired with aerials (CVUSA, CVACT, VIGOR) are ranked with "
            f"--protocol pairs (geovec evaluate {db} --protocol pairs --feature {feature}); "
            "map tiles come from geovec grid + geovec aerial, then geovec ingest"
        )
    return f"{db} has no {view} images; cross-view needs all three views: {adding_view(db, view)}"


def no_training(store: Store, aerial_feature: str) -> str:
    """Why the store has no training pair (a non-isolated photo whose overhead image has
    ``aerial_feature``): every photo isolated, or the training photos without one."""
    db = store.path
    located = store.count("ground", "lon IS NOT NULL")
    isolated = store.count("ground", "isolated AND lon IS NOT NULL")
    if located and isolated == located:
        return all_isolated(located, isolated, isolation_radius(store))
    return (
        f"none of the {count(located - isolated, 'training photo')} has an overhead "
        f"image with {aerial_feature} (ground.pair): cut them with geovec aerial SOURCE "
        f"points.csv --view overhead --out aerial and geovec ingest {db} "
        f"aerial/manifest.csv, or geovec extract {db} --features {aerial_feature} "
        "--view overhead"
    )


def no_query_scored(
    store: Store, data: list, ground_feature: str, aerial_feature: str, training: bool
) -> str:
    """Why no isolated query of ``data`` (:class:`~geovec.analyses.region_data.RegionData`
    of every region) was scored: no isolated photo, every photo isolated, no training pair,
    the queries without the feature, or outside every map tile; each with its command.
    ``training``: the method needs training pairs (knn-average)."""
    db = store.path
    radius = isolation_radius(store)
    at = f"{radius:g} m" if radius else "the isolation radius"
    isolated = store.count("ground", "isolated AND lon IS NOT NULL")
    head = "no isolated query has a feature, a training set and a containing tile: "
    if not isolated:
        return head + (
            f"no photo is isolated at {at} (each has another within it): add photos farther "
            f"apart, or isolate at a smaller radius (geovec isolate {db} --radius-m R)"
        )
    if training and not any(len(d.train_ids) for d in data):
        return head + no_training(store, aerial_feature)
    with_feature = store.count("ground", f"isolated AND {ground_feature} IS NOT NULL")
    if not with_feature:
        return head + (
            f"none of the {count(isolated, 'isolated photo')} has {ground_feature}: "
            f"geovec extract {db} --features {ground_feature} --view ground"
        )
    return head + (
        f"none of the {count(with_feature, 'isolated photo')} with {ground_feature} lies in "
        f"a map tile of its region with {aerial_feature}: cut tiles over them (geovec grid "
        f"--bbox W,S,E,N + geovec aerial, then geovec ingest {db} tiles/manifest.csv) or "
        f"geovec extract {db} --features {aerial_feature} --view map"
    )
