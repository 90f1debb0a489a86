"""Events from worker threads to the main thread.

Workers put a snapshot of the job after each change; the main thread drains the queue under a
time budget. Draining coalesces: of many snapshots of one job only the newest is kept, together
with the union of what changed, so a burst of progress events costs one UI update per job.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field

from .model import Job

#: What an event reports: a state change, progress or ETA, a message, a finished result file,
#: or the job leaving the list.
KINDS = ("state", "progress", "message", "file", "removed")


@dataclass
class Event:
    job: Job
    kinds: frozenset[str] = field(default_factory=frozenset)


class EventQueue:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()

    def put(self, job: Job, *kinds: str) -> None:
        self._queue.put(Event(job, frozenset(kinds)))

    def empty(self) -> bool:
        return self._queue.empty()

    def drain(self, budget_s: float = 0.001, max_events: int = 10_000) -> list[Event]:
        """Take queued events for at most ``budget_s`` seconds, coalesced per job, in order of
        each job's first event. What is left waits for the next drain."""
        deadline = time.perf_counter() + budget_s
        merged: dict[str, Event] = {}
        for _ in range(max_events):
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                break
            previous = merged.get(event.job.id)
            if previous is not None:
                event = Event(event.job, previous.kinds | event.kinds)
            merged[event.job.id] = event
            if time.perf_counter() >= deadline:
                break
        return list(merged.values())
