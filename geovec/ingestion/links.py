"""The one link between a ground image and its overhead image: ``ground.pair``, the id of
the overhead row. Every reader follows it alone (search, training pairs, the explorer,
both evaluation protocols); this module is where it is filled in.

A manifest links the two views either way: a ground row's ``pair`` names its overhead
image (the datasets, the synthetic world), or an overhead row's ``pair`` names its ground
image (``geovec aerial --view overhead``, which also names each aerial after its photo).
After every ingest, :func:`link_pairs` sets the ``pair`` of each ground image that has none
yet, whichever view was ingested first:

1. to the overhead image whose manifest row names it (this ingest's overhead rows);
2. else to the overhead image of the same id: an aerial cut by ``geovec aerial`` for a
   photo ingested later, and the link that stores made by an older geovec relied on (their
   next ingest, even one that finds every image already stored, writes it down once).

A ``pair`` already set is never changed; an overhead image that is not stored (a failed
cut, a row not ingested yet) is never linked to.

>>> link_pairs(demo_store)   # the demo world's manifest links every photo already
0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyarrow as pa

from geovec.store import Store


def overhead_claims(records: Iterable) -> dict[str, str]:
    """{ground id: overhead id} from a manifest's overhead records (``pair`` = the id of
    the ground image they show); the first claim on a ground image wins."""
    claims: dict[str, str] = {}
    for r in records:
        if r.view == "overhead" and r.pair:
            claims.setdefault(r.pair, r.id)
    return claims


def link_pairs(store: Store, claims: Mapping[str, str] | None = None) -> int:
    """Set ``ground.pair`` where it is null (see the module): to the overhead id that
    ``claims`` ({ground id: overhead id}) gives it, else to an overhead image of the ground
    image's own id, when that overhead image is stored. Returns how many were linked (one
    commit)."""
    if not (store.has("ground") and store.has("overhead")):
        return 0
    unlinked = store.read("ground", ["id"], "pair IS NULL").column("id").to_pylist()
    if not unlinked:
        return 0
    overhead = store.ids("overhead")
    claims = claims or {}
    links: dict[str, str] = {}
    for ident in unlinked:
        claimed = claims.get(ident)
        if claimed is not None and claimed in overhead:
            links[ident] = claimed
        elif ident in overhead:
            links[ident] = ident
    if links:
        store.update_columns(
            "ground",
            pa.table(
                {
                    "id": pa.array(list(links), pa.string()),
                    "pair": pa.array(list(links.values()), pa.string()),
                }
            ),
        )
    return len(links)


def relink_hint(store: Store) -> str:
    """For an error message that found no pair: where ground images have no ``pair`` but
    an overhead image of their own id (a store made by an older geovec, which linked them
    by equal ids), a sentence saying so and how to link them; else an empty string."""
    if not (store.has("ground") and store.has("overhead")):
        return ""
    unlinked = set(store.read("ground", ["id"], "pair IS NULL").column("id").to_pylist())
    waiting = len(unlinked & store.ids("overhead"))
    if not waiting:
        return ""
    return (
        f"; {waiting} ground images have no pair but an overhead image of their id (a store "
        f"made by an older geovec): run geovec ingest {store.path} on their manifest or "
        "folder again to link them (nothing is ingested twice)"
    )
