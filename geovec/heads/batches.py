"""Which training pairs share a batch, epoch by epoch: a head's in-batch negatives.

``random`` (the default): every epoch a new shuffle of the pairs, cut into batches.
``gps``: pairs taken near each other share a batch, so that each pair's negatives are the
look-alikes of its own neighbourhood, the hard negatives by geography of Sample4Geo's GPS
sampling (Deuser et al., ICCV 2023). Every epoch, sql/gps_order.sql orders the pairs along
a Z-order curve over Earth-centred cubes of :data:`GPS_CELL_M` metres (the cube grid moved
by a new random vector, so the batch edges fall elsewhere), a random run of whole batches
is cut from that order, and the batches are shuffled. Pairs without a position are
batched among themselves, shuffled. The seed's generator draws everything: one seed, one
sequence of batches.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from geovec.errors import GeovecError
from geovec.store import Store
from geovec.store.queries import run_query

NEGATIVES = ("random", "gps")
GPS_CELL_M = 480.0
"""Side of the cubes of ``gps`` batches, metres: one 480 m tile of the paper's map; a batch
then holds the pairs of a run of neighbouring cubes along the curve."""


class BatchPlan:
    """The batches of positions (into the training pairs) of each epoch.

    Args:
      fit: the positions of the pairs trained on.
      lonlat: (all pairs, 2) their positions, decimal degrees, NaN where unknown (``gps``).
      batch: pairs per batch; each epoch has ``len(fit) // batch`` of them (the rest of
        the pairs wait for another epoch).
    """

    def __init__(
        self,
        store: Store,
        fit: np.ndarray,
        batch: int,
        negatives: str = "random",
        lonlat: np.ndarray | None = None,
        cell_m: float = GPS_CELL_M,
    ):
        if negatives not in NEGATIVES:
            raise GeovecError(f"negatives must be random or gps, got {negatives!r}")
        if not 10 <= cell_m < float("inf"):
            raise GeovecError(f"the gps cell must be at least 10 metres, got {cell_m}")
        self.store, self.fit, self.batch = store, np.asarray(fit, np.int64), batch
        self.negatives, self.cell_m = negatives, float(cell_m)
        self.steps = len(self.fit) // batch
        if negatives == "gps":
            where = np.asarray(lonlat, np.float64).reshape(-1, 2)[self.fit]
            known = np.isfinite(where).all(axis=1)
            if not known.any():
                raise GeovecError(
                    f"gps negatives need the pairs' positions: none of the {len(self.fit)} "
                    "training pairs has one (use --negatives random)"
                )
            self.points = pa.table(
                {
                    "position": pa.array(self.fit[known], pa.int64()),
                    "lon": pa.array(where[known, 0], pa.float64()),
                    "lat": pa.array(where[known, 1], pa.float64()),
                }
            )
            self.unlocated = self.fit[~known]

    def epoch(self, rng: np.random.Generator) -> list[np.ndarray]:
        """This epoch's batches (``steps`` arrays of ``batch`` positions), drawn with ``rng``."""
        if self.negatives == "random":  # as geovec trained before --negatives
            shuffled = rng.permutation(self.fit)
            return [shuffled[i * self.batch : (i + 1) * self.batch] for i in range(self.steps)]
        order = np.concatenate([self.curve_order(rng), rng.permutation(self.unlocated)])
        used = self.steps * self.batch
        start = int(rng.integers(0, len(order) - used + 1))
        groups = order[start : start + used].reshape(self.steps, self.batch)
        return list(groups[rng.permutation(self.steps)])

    def curve_order(self, rng: np.random.Generator) -> np.ndarray:
        """The located pairs' positions along the curve, the cube grid moved at random."""
        shift = rng.uniform(0.0, self.cell_m, 3)
        with self.store.cursor() as con:
            con.register("pairs", self.points)
            try:
                ordered = run_query(
                    con,
                    "gps_order",
                    cell_m=self.cell_m,
                    shift_x=float(shift[0]),
                    shift_y=float(shift[1]),
                    shift_z=float(shift[2]),
                )
            finally:
                con.unregister("pairs")
        return ordered.column("position").to_numpy().astype(np.int64)
