"""Progress bars (rich, on stderr) with a rate in images per second."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second, e.g. ``84.2 images/s``."""

    def __init__(self, unit: str = "images"):
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} {self.unit}/s" if speed else f"- {self.unit}/s")


class ProgressReporter:
    """A context manager around one rich task; does nothing when ``enabled`` is False."""

    def __init__(self, label: str, total: int, *, enabled: bool = True, unit: str = "images"):
        self.enabled = enabled and total > 0
        self._progress = None
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                RateColumn(unit),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._task = self._progress.add_task(label, total=total)

    def __enter__(self) -> ProgressReporter:
        if self._progress:
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress:
            self._progress.stop()

    def advance(self, n: int = 1) -> None:
        if self._progress:
            self._progress.advance(self._task, n)

    def describe(self, text: str) -> None:
        """Replace the bar's label (e.g. with the latest loss)."""
        if self._progress:
            self._progress.update(self._task, description=text)
