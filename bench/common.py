"""What every bench shares, so that each comparison is like with like: geovec and its peer
run in turn in the same run (a, b, a, b: both see the same load on a shared machine), each
warmed the same number of times and measured (never extrapolated), and one report that
prints both rates, their ratio, the threads each side used and the machine's cores and
load average.

    from bench.common import alternate, machine, report

    seconds = alternate({"geovec": ours, "peer": theirs}, rounds=3, warm=1)
    report("cutting", "images/s", ("geovec", n / seconds["geovec"], 3),
           ("rasterio loop", n / seconds["peer"], 3))
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def cores() -> int:
    """The machine's logical cores (``os.cpu_count()``)."""
    return os.cpu_count() or 1


def machine() -> str:
    """``"N cores, load average a b c"`` (1, 5 and 15 minutes), for every bench's output."""
    one, five, fifteen = os.getloadavg()
    return f"{cores()} cores, load average {one:.2f} {five:.2f} {fifteen:.2f}"


def alternate(
    sides: dict[str, Callable[[], object]], rounds: int = 3, warm: int = 1
) -> dict[str, float]:
    """Run every side ``warm`` times untimed, then all sides in turn ``rounds`` times;
    returns each side's best wall time in seconds (the least disturbed by other load)."""
    if rounds < 1 or warm < 0:
        raise ValueError(f"rounds must be >= 1 and warm >= 0, got {rounds}, {warm}")
    for _ in range(warm):
        for run in sides.values():
            run()
    best = {name: float("inf") for name in sides}
    for _ in range(rounds):
        for name, run in sides.items():
            started = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def report(
    what: str,
    unit: str,
    ours: tuple[str, float, int | str],
    peer: tuple[str, float, int | str],
) -> float:
    """Print geovec's and the peer's rate (``(label, rate, threads)``, higher is better),
    the ratio geovec / peer, the threads of each and the machine's cores and load; returns
    the ratio (above 1: geovec is faster)."""
    (ours_label, ours_rate, ours_threads), (peer_label, peer_rate, peer_threads) = ours, peer
    width = max(len(ours_label), len(peer_label))
    ratio = ours_rate / peer_rate if peer_rate > 0 else float("inf")
    print(f"{what}:")
    print(f"  {ours_label:<{width}} {ours_rate:10.2f} {unit}  (threads: {ours_threads})")
    print(f"  {peer_label:<{width}} {peer_rate:10.2f} {unit}  (threads: {peer_threads})")
    verdict = "geovec faster" if ratio > 1 else "peer faster" if ratio < 1 else "even"
    print(f"  ratio geovec / peer {ratio:.2f} ({verdict}); {machine()}")
    return ratio
