"""Recovery time of each fault, from the history and the database.

A fault has recovered at the first moment t after its end from which, over the next
`WINDOW` seconds, the transfers accepted (keys first answered 202/200) and the transfers
settled (database `settled_at`) each reach `SHARE` of the transfers offered (due) in the same
window, and throughout which no transfer created more than `STALE` seconds earlier is still
PENDING.
Recovery time = t - end of the fault; None when that never happened before the next fault
began (or the load ended).
"""

import bisect
from dataclasses import dataclass, field

from loadtests.chaos.checker import PendingAges

WINDOW = 5.0
SHARE = 0.9
STALE = 10.0
STEP = 0.25


@dataclass(frozen=True)
class Timeline:
    """Sorted wall-clock moments: offered (due), accepted (first 202/200 of a key), settled;
    and (created_at, settled_at or None) of every stored transfer of the load."""

    offered: list[float]
    accepted: list[float]
    settled: list[float]
    lifetimes: list[tuple[float, float | None]]
    _ages: PendingAges = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ages", PendingAges(self.lifetimes))

    def count(self, moments: list[float], start: float, end: float) -> int:
        return bisect.bisect_left(moments, end) - bisect.bisect_left(moments, start)

    def stale_pending(self, at: float) -> bool:
        """Whether a transfer created before at - STALE was still PENDING at `at`."""
        return self._ages.pending(created_before=at - STALE, at=at)

    def healthy(self, at: float) -> bool:
        offered = self.count(self.offered, at, at + WINDOW)
        if not offered:
            return False
        return (
            self.count(self.accepted, at, at + WINDOW) >= SHARE * offered
            and self.count(self.settled, at, at + WINDOW) >= SHARE * offered
            and not any(self.stale_pending(at + i * STEP) for i in range(int(WINDOW / STEP) + 1))
        )

    def after(self, end: float, until: float) -> str:
        """Offered / accepted / settled per WINDOW seconds from `end`, and whether a stale
        PENDING transfer existed at each window's start: the evidence behind a recovery time."""
        windows = []
        at = end
        while at + WINDOW <= until and len(windows) < 8:
            counts = [
                self.count(m, at, at + WINDOW) for m in (self.offered, self.accepted, self.settled)
            ]
            stale = " stale PENDING" if self.stale_pending(at) else ""
            windows.append(f"+{at - end:.0f}s {'/'.join(map(str, counts))}{stale}")
            at += WINDOW
        return "offered/accepted/settled per 5 s: " + ", ".join(windows)


def recovery_time(timeline: Timeline, *, end: float, until: float) -> float | None:
    """Seconds from `end` to the first healthy moment before `until`, or None."""
    at = end
    while at + WINDOW <= until:
        if timeline.healthy(at):
            return at - end
        at += STEP
    return None
