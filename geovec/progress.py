"""Progress bars (rich, on stderr) with a rate in images per second.

The bar fits the terminal: it gives up its own width before the counts, the rate and the
times are cut, and what a long run says as it goes (``describe``: the latest loss) sits
on a line of its own under the bar. The rate shows from the first update on (items done
over the time so far until rich has two samples to measure a speed from), and nothing,
rather than a dash, before it."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

BAR_WIDTH = 40
"""The bar's widest (characters); it narrows to leave the rest of the line whole."""


class RateColumn(ProgressColumn):
    """Items per second, e.g. ``84.2 images/s``; empty until the first item is done."""

    def __init__(self, unit: str = "images"):
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        if not speed and task.completed and task.elapsed:
            speed = task.completed / task.elapsed  # one sample yet: rich has no speed
        return Text(f"{speed:.1f} {self.unit}/s" if speed else "")


class _Bars(Progress):
    """Progress whose tasks' ``detail`` field is a line under their bar."""

    def get_renderables(self):
        yield self.make_tasks_table(self.tasks)
        for task in self.tasks:
            if task.fields.get("detail"):
                yield Text(f"  {task.fields['detail']}", overflow="ellipsis", no_wrap=True)


class ProgressReporter:
    """A context manager around one rich task; does nothing when ``enabled`` is False.
    ``console``: where to draw (default stderr)."""

    def __init__(
        self,
        label: str,
        total: int,
        *,
        enabled: bool = True,
        unit: str = "images",
        console: Console | None = None,
    ):
        self.enabled = enabled and total > 0
        self._progress = None
        if self.enabled:
            self._progress = _Bars(
                TextColumn("[bold]{task.description}"),
                BarColumn(bar_width=None, table_column=Column(max_width=BAR_WIDTH)),
                MofNCompleteColumn(),
                RateColumn(unit),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console or Console(stderr=True),
                transient=False,
            )
            self._task = self._progress.add_task(escape(label), total=total, detail="")

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
        """Say ``text`` (e.g. the latest loss) on the line under the bar."""
        if self._progress:
            self._progress.update(self._task, detail=text)
