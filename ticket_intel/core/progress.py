"""Progress of a long stage as a line with a bar, count, rate and ETA (tqdm's meter), reported
every few seconds: the Dagster run log shows the lines, the command line redraws them in place."""

from __future__ import annotations

import time
from collections.abc import Callable

EVERY_SECONDS = 5.0
MARK = "\u23f3 "  # starts every progress line, so a console can redraw it in place


class Progress:
    """Counts work done on a stage of known size and reports a meter line at most every `every` s."""

    def __init__(self, stage: str, total: int, report: Callable[[str], None], unit: str = "tickets",
                 every: float = EVERY_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.stage, self.total, self.report, self.unit, self.every, self.clock = stage, total, report, unit, every, clock
        self.done = 0
        self.started = self.last = clock()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if self.done >= self.total or now - self.last >= self.every:
            self.last = now
            self.report(self.line(now))

    def line(self, now: float) -> str:
        from tqdm import tqdm

        return MARK + tqdm.format_meter(self.done, self.total, now - self.started, prefix=self.stage,
                                        unit=f" {self.unit}", ncols=80)
