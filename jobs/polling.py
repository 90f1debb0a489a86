"""When to ask a service about a job again, and when a job counts as stalled."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class PollPolicy:
    """Cadence without a hint from the service: every 2 s for the first 30 s, every 5 s until
    2 min, then every 10 s. A server ETA or ``Retry-After`` takes precedence. ``scale`` shrinks
    every delay (tests and the fast sandbox)."""

    steps: tuple[tuple[float, float], ...] = ((30.0, 2.0), (120.0, 5.0))
    slowest: float = 10.0
    fastest: float = 1.0
    jitter: float = 0.1
    scale: float = 1.0
    #: After this long with neither an answer nor any change, the job is reported as stalled.
    stall_after: float = 600.0
    #: "warn" keeps polling with a message; "fail" gives the job up as failed.
    on_stall: str = "warn"

    def delay(self, elapsed: float, *, eta_s: float | None = None,
              poll_after: float | None = None) -> float:
        if poll_after is not None:
            return max(0.0, poll_after) * self.scale
        if eta_s is not None and eta_s > 0:
            base = min(max(eta_s, self.fastest), self.slowest)
        else:
            base = next((every for until, every in self.steps if elapsed < until), self.slowest)
        return base * random.uniform(1 - self.jitter, 1 + self.jitter) * self.scale
