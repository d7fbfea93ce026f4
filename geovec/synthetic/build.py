"""``geovec synth DIR``: write a complete synthetic dataset with known truth.

For each region: the land-cover map (PNG + world file + .prj), the aerial reference
tiles of the grid over it, ground images (Flickr-like photos, a few of them indoor rooms,
and Street View-like panoramas cut into two side-facing 800x600 views), an aerial image
centred on every ground image, then DIR/manifest.csv (every image of every view) and
DIR/truth.csv (land-cover class at every location). Deterministic for a seed.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from pathlib import Path

from geovec.errors import GeovecError
from geovec.synthetic import DEFAULT_EXTENT_KM, DEFAULT_GROUND, DEFAULT_SEED
from geovec.synthetic.plan import plan_region
from geovec.synthetic.regions import REGIONS
from geovec.synthetic.render import render_jobs

MANIFEST_FIELDS = [
    "id",
    "path",
    "view",
    "lon",
    "lat",
    "region",
    "source",
    "pair",
    "split",
    "size_m",
]
TRUTH_FIELDS = ["id", "view", "lon", "lat", "region", "landcover", "colour"]
SETTINGS_VERSION = 3
"""Bumped when the same settings would render a different world."""


@dataclasses.dataclass
class SynthSummary:
    """What ``synth`` wrote."""

    directory: Path
    manifest: Path
    truth: Path
    ground: int
    overhead: int
    tiles: int
    reused: bool = False

    def line(self) -> str:
        """What was written (or found already written), in one line."""
        state = "reused" if self.reused else "wrote"
        return (
            f"{state} {self.ground} ground, {self.overhead} overhead, {self.tiles} map images; "
            f"manifest {self.manifest}, truth {self.truth}"
        )


def _finished(out: Path, settings: dict) -> SynthSummary | None:
    """The summary of a complete world with these settings in ``out``, if there is one."""
    marker = out / "synth.json"
    if not marker.exists():
        return None
    info = json.loads(marker.read_text())
    if info.get("settings") != settings:
        return None
    return SynthSummary(
        out,
        out / "manifest.csv",
        out / "truth.csv",
        info["ground"],
        info["overhead"],
        info["tiles"],
        True,
    )


def synth(
    directory: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    ground: int = DEFAULT_GROUND,
    extent_km: float = DEFAULT_EXTENT_KM,
    workers: int | None = None,
    progress: bool = False,
) -> SynthSummary:
    """Write the synthetic world to ``directory`` (reused when already complete with the
    same settings).

    Args:
      seed: makes everything deterministic.
      ground: ground locations per region (photos and panoramas; each panorama gives two
        ground images).
      extent_km: side of each square region in kilometres.
      workers: rendering processes (default: one per CPU, at most 8).
    """
    if ground < 4:
        raise GeovecError(f"ground must be at least 4 locations per region, got {ground}")
    if not 1.0 <= extent_km <= 50.0:
        raise GeovecError(f"extent_km must be between 1 and 50 km, got {extent_km:g}")
    out = Path(directory)
    settings = {"seed": seed, "ground": ground, "extent_km": extent_km, "version": SETTINGS_VERSION}
    if done := _finished(out, settings):
        return done
    out.mkdir(parents=True, exist_ok=True)
    plans = {
        style.name: plan_region(out, i, style, seed=seed, ground=ground, extent_km=extent_km)
        for i, style in enumerate(REGIONS.values())
    }
    render_jobs(
        [j for p in plans.values() for j in p.jobs],
        {name: p.world for name, p in plans.items()},
        workers,
        progress,
    )
    manifest = [row for p in plans.values() for row in p.manifest]
    _write_csv(out / "manifest.csv", MANIFEST_FIELDS, manifest)
    _write_csv(out / "truth.csv", TRUTH_FIELDS, [row for p in plans.values() for row in p.truth])
    counts = {v: sum(r["view"] == v for r in manifest) for v in ("ground", "overhead", "map")}
    (out / "synth.json").write_text(
        json.dumps(
            {
                "settings": settings,
                "ground": counts["ground"],
                "overhead": counts["overhead"],
                "tiles": counts["map"],
            }
        )
    )
    return SynthSummary(
        out,
        out / "manifest.csv",
        out / "truth.csv",
        counts["ground"],
        counts["overhead"],
        counts["map"],
    )


def _write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: (f"{v:.7f}" if isinstance(v, float) and k in ("lon", "lat") else v)
                    for k, v in row.items()
                }
            )
    os.replace(tmp, path)
