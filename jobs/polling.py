"""When to ask a service about a job again, and when a job counts as stalled.

Without an estimate of a job's end, the usual cadence: every 2 s for the first 30 s, every 5 s
until 2 min, then every 10 s, or the service's own recommended interval. With one (the service's
ETA, the rate of its progress figure, or how long its last jobs of the kind took by its own
clock), polls before the expected end are sparser than usual and the ones around it close
together, for a bounded time; the usual cadence takes over again when the job runs past it. In
either case a job never makes a poll before the usual cadence would have made as many: the
polls saved early are the ones spent near the end.
"""

from __future__ import annotations

import math
import random
import statistics
import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class PollPolicy:
    """``scale`` shrinks every delay (tests and the fast sandbox)."""

    steps: tuple[tuple[float, float], ...] = ((30.0, 2.0), (120.0, 5.0))
    slowest: float = 10.0
    jitter: float = 0.1
    scale: float = 1.0
    #: Around a job's expected end: poll this often (or as often as the polls saved allow),
    #: from ``near_lead`` before it (services' timestamps are often whole seconds) until
    #: ``near_for`` after it.
    near_every: float = 0.4
    near_lead: float = 1.0
    near_for: float = 3.0
    #: Polls kept for around the end: with fewer saved, none are spent before it.
    near_polls: int = 4
    #: After this long with neither an answer nor any change, the job is reported as stalled.
    stall_after: float = 600.0
    #: "warn" keeps polling with a message; "fail" gives the job up as failed.
    on_stall: str = "warn"

    def usual_every(self, elapsed: float, every: float | None = None) -> float:
        """The usual interval ``elapsed`` seconds into a job: the service's own recommendation
        (``every``), else the steps."""
        if every is not None:
            return every
        return next((step for until, step in self.steps if elapsed < until), self.slowest)

    def usual_count(self, elapsed: float, every: float | None = None) -> float:
        """How many polls the usual cadence makes in a job's first ``elapsed`` seconds."""
        if every is not None:
            return max(0.0, elapsed) / every
        count, start = 0.0, 0.0
        for until, step in self.steps:
            if elapsed <= until:
                return count + max(0.0, elapsed - start) / step
            count += (until - start) / step
            start = until
        return count + (elapsed - start) / self.slowest

    def usual_time(self, polls: float, every: float | None = None) -> float:
        """When the usual cadence has made ``polls`` polls (``usual_count``'s inverse)."""
        if every is not None:
            return polls * every
        start = count = 0.0
        for until, step in self.steps:
            span = (until - start) / step
            if polls <= count + span:
                return start + (polls - count) * step
            count += span
            start = until
        return start + (polls - count) * self.slowest

    def delay(self, elapsed: float, *, expected: float | None = None, polls: int = 0,
              every: tuple[float, float] | None = None,
              poll_after: float | None = None) -> float:
        """Seconds until the next poll of a job written ``elapsed`` seconds ago.

        ``poll_after``: the service asked for exactly this wait. ``expected``: when (seconds
        after the job was written) it should end; None without an estimate. ``polls``: polls
        made so far. ``every``: the service's recommended interval (shortest, longest).
        """
        if poll_after is not None:
            return max(0.0, poll_after) * self.scale
        shortest = every[0] if every else None
        usual = self.usual_every(elapsed, shortest)
        # Never ahead of the usual cadence: the next poll waits until it has made as many.
        allowed = self.usual_time(polls + 1, shortest) - elapsed
        if expected is None:
            return max(self._jittered(usual), allowed * self.scale)
        left = expected - elapsed
        spare = math.floor(self.usual_count(expected + self.near_for, shortest)) - polls
        if left > self.near_lead + self.near_every:
            # Far from the end: sparser than usual, to spend the polls saved around the end;
            # none at all when only a few are left for it.
            sparse = every[1] if every else min(2 * usual, self.slowest)
            wanted = left - self.near_lead
            if spare - 1 >= self.near_polls:
                wanted = min(sparse, wanted)
        elif left >= -self.near_for:
            # Around the end: the polls saved, spread over what is left of the window, but
            # never further apart than usual.
            wanted = min(usual, max(self.near_every, (left + self.near_for) / max(spare, 1)))
        else:
            wanted = usual  # past the estimate: it was wrong, back to the usual cadence
        return max(wanted, allowed) * self.scale

    def _jittered(self, seconds: float) -> float:
        return seconds * random.uniform(1 - self.jitter, 1 + self.jitter) * self.scale


class Durations:
    """How long a service's recent jobs of each operation took, by the service's own clock
    (thread-safe): the estimate of a job's end when the service gives no other."""

    def __init__(self, keep: int = 5) -> None:
        self._keep = keep
        self._seen: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def add(self, service: str, operation: str, seconds: float) -> None:
        if not math.isfinite(seconds) or seconds < 0:
            return
        with self._lock:
            self._seen.setdefault((service, operation), deque(maxlen=self._keep)).append(seconds)

    def typical(self, service: str, operation: str) -> float | None:
        """The median of the recent durations, or None when none was seen."""
        with self._lock:
            seen = self._seen.get((service, operation))
            return statistics.median(seen) if seen else None
