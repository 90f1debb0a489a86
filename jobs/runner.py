"""The runner: worker threads that drive jobs through submit → poll → download.

Every step starts by reading the job from the journal and ends by writing what changed, so the
journal is the only state that matters: a runner started after a crash (or in another process)
continues each job from its last written state. Workers never touch bpy; they post snapshots to
an ``EventQueue`` that the main thread drains.

Money rules, in order of importance:
- A submit request is sent only from ``pending``, after ``submitting`` is written. A job found in
  ``submitting`` after a crash becomes ``unknown`` and is never sent again by the runner.
- A submit is put back to ``pending`` only when the request certainly did not create a job (the
  connection never opened, the service refused it with 429, or online access is off). A client
  waiting to retry a connection that never opened waits with the job ``pending``; ``submitting``
  is written again immediately before each further attempt.
- The remote id is written the moment the submit returns.
- Every write for a job is a compare-and-set on the job, this runner's claim and the state it
  last wrote (``Journal.update_claimed``): a runner that stalled past its lease and lost the job
  to another stops at its next write without sending or overwriting anything. The claim is
  re-checked in the transaction that writes ``submitting``, immediately before a paid request.
- A paid result is never deleted; it is written under its final name only when whole. A job
  whose result could not be saved (the download kept failing, or broke a download limit) keeps
  its remote id, and ``download_again`` fetches the result from the service once more.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..providers import errors, http
from ..providers.base import Client, Feed, Phase, RemoteStatus, ResultFile
from ..providers.redaction import log
from .events import EventQueue
from .journal import ClaimLost, Journal
from .model import ACTIVE, Job, State, can_download_again
from .polling import Durations, PollPolicy
from .results import (
    SizeLimits,
    StopRequested,
    job_folder,
    remove_partials,
    write_preview,
    write_result,
)

_PHASE_STATE = {Phase.QUEUED: State.QUEUED, Phase.RUNNING: State.RUNNING}
#: States that hold a slot at the service (counted against ``Client.slot_group``).
_HOLDING_SLOT = (State.SUBMITTING, State.QUEUED, State.RUNNING)
#: How often a job waiting for a slot looks again, for slots freed by another process (one
#: freed here wakes it at once).
_SLOT_RECHECK_S = 1.0
#: Threads beyond the services' caps, for submits, downloads and jobs waiting for a slot.
_SPARE_THREADS = 2
#: Progress from a held-open feed is written at most this often (its state at once).
_FEED_WRITE_S = 0.5
#: Longest wait before opening a dropped feed again.
_FEED_RETRY_MAX_S = 60.0


def _ledger(status: RemoteStatus | None) -> dict[str, Any]:
    """The job's ledger fields from what the service said it charged; none when it said
    nothing (what was recorded before stays)."""
    charge = status.charge if status is not None else None
    if charge is None:
        return {}
    return {"charged": charge.amount, "charge_unit": charge.unit, "refunded": charge.refunded}


@dataclass
class _Watch:
    """In-memory bookkeeping of one job for the stall watchdog and retry counts."""

    last_answer: float = field(default_factory=time.monotonic)
    last_news: float = field(default_factory=time.monotonic)
    stalled: bool = False
    failures: int = 0
    last_upload_report: float = 0.0
    #: Status requests made for the job (by this runner), against the poll policy's budget.
    polls: int = 0
    #: When the submit was answered (wall clock); None for a job resumed after a restart.
    sent_at: float | None = None
    #: The first progress figure seen while running, and when: (wall clock, 0-1).
    first_progress: tuple[float, float] | None = None
    #: The service's push channel (``Client.feed``): drops in a row, when to open it again
    #: (monotonic), and whether it told the job's end (it is not opened again then).
    feed_drops: int = 0
    feed_retry_at: float = 0.0
    feed_over: bool = False
    last_feed_write: float = 0.0
    lite_failures: int = 0


class _NoSlot(Exception):
    """The service's job slots filled up while a submit waited to retry; try again later."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"no free slot; trying again in {delay:.1f} s")
        self.delay = delay


class _SubmitAttempts:
    """What the journal says between the attempts of one submit (``http.PaidAttempts``).

    An attempt whose connection never opened cannot have reached the service, so the job reads
    ``pending`` while the client waits to retry: a crash in that wait leaves a job that is safe
    to send, not one the user must check. ``submitting`` is written again immediately before
    the next attempt.
    """

    def __init__(self, runner: Runner, job: Job, client: Client) -> None:
        self.runner = runner
        #: The job as last written.
        self.job = job
        self.client = client

    def unsent(self, error: errors.ConnectionFailedError) -> None:
        self.job = self.runner._set(self.job, state=State.PENDING,
                                    message=f"Not sent yet: {error}; trying again")
        self.runner._checkpoint("submit-not-sent")

    def resending(self) -> None:
        sending = self.runner._start_sending(self.job, self.client)
        if isinstance(sending, float):
            raise _NoSlot(sending)
        self.job = sending


def _left(expected: float | None, elapsed: float) -> float | None:
    """Seconds left until an ``expected`` end (seconds after the job was written), ``elapsed``
    seconds into the job; None without an estimate or once it has passed."""
    if expected is None or expected <= elapsed:
        return None
    return round(expected - elapsed, 1)


class Runner:
    """Drives the journal's jobs with a pool of worker threads: ``workers`` at first, more
    while every one is busy, up to the jobs the services allow at once (their ``max_active``)
    and a few spare, since most of a thread's time is spent waiting on the network."""

    def __init__(
        self,
        journal: Journal,
        clients: Mapping[str, Client],
        results_root: str | Path,
        *,
        events: EventQueue | None = None,
        workers: int = 4,
        policy: PollPolicy | None = None,
        max_failures: int = 5,
        checkpoint: Callable[[str], None] | None = None,
        limits: SizeLimits | None = None,
    ) -> None:
        self.journal = journal
        self.clients = dict(clients)
        self.results_root = Path(results_root)
        #: How large a result file may be; replaced whole when the preferences change, and
        #: read once per file.
        self.limits = limits or SizeLimits()
        self.events = events
        self.policy = policy or PollPolicy()
        #: How long each service's recent jobs took, by operation: when later ones should end.
        self.durations = Durations()
        self.max_failures = max_failures
        self._checkpoint = checkpoint or (lambda point: None)
        self._workers = workers
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, str]] = []
        self._due: dict[str, float] = {}
        self._busy: set[str] = set()
        self._stop_flags: dict[str, threading.Event] = {}
        #: Feeds held open by workers, by job: closed at a cancel or a stop.
        self._feeds: dict[str, Feed] = {}
        self._watch: dict[str, _Watch] = {}
        self._seq = 0
        self._threads: list[threading.Thread] = []
        #: Workers waiting in ``_next`` for a job to come due.
        self._idle = 0
        #: Jobs waiting for a free slot at their service: job id → service.
        self._waiting_slot: dict[str, str] = {}
        self._stopping = False
        #: Wakes the lease heartbeat at stop; it must not wait on ``_cond``, or a ``notify``
        #: meant for an idle worker could wake it instead and the job would sit unnoticed.
        self._stopped = threading.Event()
        self._slot_lock = threading.Lock()
        #: Ready jobs whose service picture is being fetched (``picture_pending``).
        self._pictures: set[str] = set()

    # -- public API (any thread) --------------------------------------------------------------

    def start(self, *, resume: bool = True) -> list[Job]:
        """Start the workers; with ``resume``, pick up every unfinished job (see ``resume``)."""
        self._stopping = False
        self._stopped.clear()
        http.stopping.clear()
        self._threads = [threading.Thread(target=self._heartbeat, name="conjure-lease",
                                          daemon=True)]
        self._threads[0].start()
        with self._cond:
            for _ in range(self._workers):
                self._add_worker_locked()
        return self.resume() if resume else []

    def resume(self) -> list[Job]:
        """Claim the unfinished jobs no live runner holds and continue them.

        A job that was being submitted when its process died may or may not exist at the
        service; it becomes ``unknown`` and is left for the user to decide.
        """
        resumed = []
        for job in self.journal.claim_active():
            with self._cond:
                if job.id in self._due or job.id in self._busy:
                    continue  # already driven by this runner
            if job.state == State.SUBMITTING and not job.remote_id:
                try:
                    self._set(job, state=State.UNKNOWN, error_code="submit_interrupted", message=(
                        "Conjure stopped while sending this job, so it may or may not exist at "
                        f"{job.service}. It was not sent again (that could charge twice); "
                        "check your account there, then remove it or generate again."))
                except ClaimLost:
                    continue
                self.journal.release(job.id)
                continue
            resumed.append(job)
            self._schedule(job.id, 0.0)
        return resumed

    def submit(self, service: str, operation: str, params: dict[str, Any] | None = None,
               *, parent_id: str | None = None, origin: str = "") -> Job:
        """Write a new job to the journal and queue it; returns at once."""
        if service not in self.clients:
            raise ValueError(f"unknown service {service!r}; known: {sorted(self.clients)}")
        job = self.journal.add(Job(service=service, operation=operation,
                                   params=dict(params or {}), parent_id=parent_id,
                                   origin=origin))
        self._checkpoint("job-written")
        self._emit(job, "state")
        self._schedule(job.id, 0.0)
        return job

    def cancel(self, job_id: str) -> Job:
        """Stop local work on the job at once and ask the service to cancel it where it can."""
        job = self.journal.require(job_id)
        if not job.finished:
            job = self.journal.update(job_id, cancel_requested=True)
            self._stop_flag(job_id).set()
            with self._cond:
                feed = self._feeds.get(job_id)
            if feed is not None:
                feed.close()
            self._schedule(job_id, 0.0)
        return job

    def download_again(self, job_id: str) -> Job:
        """Fetch the result of a job whose download failed (``can_download_again``) from the
        service once more: the job goes back to ``downloading`` and asks for fresh locations.
        ``ValueError`` in words when it cannot."""
        job = self.journal.require(job_id)
        if not can_download_again(job.state, job.remote_id, job.error_code):
            raise ValueError(f"Job {job.id} is {job.state}"
                             + (f" ({job.error_code})" if job.error_code else "")
                             + "; only a job whose result could not be downloaded can be "
                               "downloaded again")
        if not self.journal.claim(job_id):
            raise ValueError(f"Job {job.id} is being handled by another Conjure process")
        self._watch.pop(job_id, None)
        job = self._set(job, state=State.DOWNLOADING, message="Downloading the result again…",
                        error_code=None, eta_s=None)
        self._schedule(job_id, 0.0)
        return job

    def wait(self, job_id: str, timeout: float | None = None, poll: float = 0.02) -> Job:
        """Block until the job is finished (or ``timeout`` passes) and return it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.journal.require(job_id)
            if job.finished or (deadline is not None and time.monotonic() >= deadline):
                return job
            time.sleep(poll)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the workers (after their current step) and release the jobs' leases."""
        with self._cond:
            self._stopping = True
            held = list(self._due) + list(self._busy)
            self._cond.notify_all()
        self._stopped.set()
        http.stopping.set()
        for flag in self._stop_flags.values():
            flag.set()
        with self._cond:
            feeds = list(self._feeds.values())
        for feed in feeds:
            feed.close()
        for thread in self._threads:
            thread.join(timeout)
        http.stopping.clear()  # a process-wide signal: other clients' waits are not ours to end
        self._threads = []
        for job_id in set(held):
            self.journal.release(job_id)

    def picture_pending(self, job_id: str) -> bool:
        """Whether the service's picture of a ready job is still being fetched (its preview is
        then not drawn here)."""
        with self._cond:
            return job_id in self._pictures

    def wait_picture(self, job_id: str, timeout: float) -> bool:
        """Wait at most ``timeout`` s for the service's picture of a ready job to be fetched
        (or given up); False when it is still being fetched."""
        with self._cond:
            return self._cond.wait_for(lambda: job_id not in self._pictures, timeout)

    @property
    def pending_work(self) -> bool:
        with self._cond:
            return bool(self._due or self._busy)

    # -- scheduling ---------------------------------------------------------------------------

    def _schedule(self, job_id: str, delay: float) -> None:
        with self._cond:
            self._schedule_locked(job_id, delay)

    def _schedule_locked(self, job_id: str, delay: float) -> None:
        due = time.monotonic() + delay
        if self._stopping or (job_id in self._due and self._due[job_id] <= due):
            return
        self._due[job_id] = due
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, job_id))
        self._cond.notify()

    def _next(self) -> str | None:
        with self._cond:
            self._idle += 1
            try:
                while not self._stopping:
                    now = time.monotonic()
                    while self._heap and (self._due.get(self._heap[0][2]) != self._heap[0][0]):
                        heapq.heappop(self._heap)  # superseded by an earlier schedule
                    if self._heap and self._heap[0][0] <= now:
                        job_id = self._heap[0][2]
                        if job_id in self._busy:
                            self._cond.wait(0.05)
                            continue
                        heapq.heappop(self._heap)
                        del self._due[job_id]
                        self._busy.add(job_id)
                        return job_id
                    self._cond.wait(self._heap[0][0] - now if self._heap else None)
                return None
            finally:
                self._idle -= 1
                if self._idle == 0 and not self._stopping:
                    self._add_worker_locked()

    def _add_worker_locked(self) -> None:
        """Start one more worker, unless the pool is as large as the services' caps allow."""
        workers = len(self._threads) - 1  # the lease heartbeat is not a worker
        most = max(self._workers,
                   sum(c.max_active for c in self.clients.values()) + _SPARE_THREADS)
        if workers >= most:
            return
        thread = threading.Thread(target=self._work, name=f"conjure-worker-{workers}",
                                  daemon=True)
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while (job_id := self._next()) is not None:
            http.this_thread.interrupt = self._stop_flag(job_id)
            try:
                delay = self._step(job_id)
            except ClaimLost as lost:
                log.warning("job %s: %s; this process leaves it alone", job_id, lost)
                self._checkpoint("claim-lost")
                delay = None
            except Exception:
                log.exception("job %s: step failed unexpectedly; retrying later", job_id)
                delay = 5.0
            with self._cond:
                # One lock hold, so ``resume`` never sees the job as neither busy nor due.
                self._busy.discard(job_id)
                if delay is not None:
                    self._schedule_locked(job_id, delay)
            if delay is None:
                self._forget(job_id)

    def _heartbeat(self) -> None:
        interval = self.journal.lease_s / 3
        while not self._stopped.wait(interval):
            with self._cond:
                held = set(self._due) | self._busy
            try:
                self.journal.renew(held)
                # Adopt jobs whose runner went away since start-up (its lease ran out).
                self.resume()
            except Exception:
                log.exception("could not renew or adopt job leases")

    def _forget(self, job_id: str) -> None:
        with self._cond:
            self._waiting_slot.pop(job_id, None)
        self._watch.pop(job_id, None)
        self._stop_flags.pop(job_id, None)
        self.journal.release(job_id)

    def _stop_flag(self, job_id: str) -> threading.Event:
        return self._stop_flags.setdefault(job_id, threading.Event())

    # -- journal + events ---------------------------------------------------------------------

    def _emit(self, job: Job, *kinds: str) -> None:
        if self.events is not None:
            self.events.put(job, *kinds)

    def _set(self, job: Job, **fields: Any) -> Job:
        """Write ``fields`` (only what differs) and post an event naming what changed."""
        changed = {k: v for k, v in fields.items() if getattr(job, k) != v}
        if not changed:
            return job
        before = job.state
        job = self.journal.update_claimed(job.id, job.state, **changed)
        if before in _HOLDING_SLOT and job.state not in _HOLDING_SLOT:
            self._slot_freed(job.service)
        kinds = set()
        if "state" in changed:
            kinds.add("state")
        if changed.keys() & {"progress", "eta_s"}:
            kinds.add("progress")
        if changed.keys() & {"message", "error_code"}:
            kinds.add("message")
        if "result_files" in changed:
            kinds.add("file")
        self._emit(job, *kinds)
        return job

    def _fail(self, job: Job, error: errors.ServiceError | str, code: str | None = None,
              **ledger: Any) -> None:
        message = str(error)
        code = code or getattr(error, "code", "failed")
        self._set(job, state=State.FAILED, error_code=code, message=message, eta_s=None,
                  **ledger)

    # -- the steps ----------------------------------------------------------------------------

    def _step(self, job_id: str) -> float | None:
        """Advance one job by one step; returns seconds until the next step, or None."""
        if not self.journal.claim(job_id):
            return None  # another runner took the job over (this one was presumed gone)
        self._checkpoint("claimed")
        job = self.journal.get(job_id)
        if job is None or job.state not in ACTIVE:
            return None
        client = self.clients.get(job.service)
        if client is None:
            self._fail(job, f"no client for service {job.service!r} in this Conjure version",
                       "unknown_service")
            return None
        if job.cancel_requested:
            self._cancel_now(job, client)
            return None
        if job.state == State.PENDING:
            return self._submit(job, client)
        if job.state == State.SUBMITTING:
            # Only reachable when another runner's submit died; same rule as on resume.
            self._set(job, state=State.UNKNOWN, error_code="submit_interrupted",
                      message="The submit of this job was interrupted; it was not sent again.")
            return None
        if job.state == State.DOWNLOADING:
            return self._download(job, client, None)
        return self._poll(job, client)

    def _watch_of(self, job_id: str) -> _Watch:
        return self._watch.setdefault(job_id, _Watch())

    def _submit(self, job: Job, client: Client) -> float | None:
        self._checkpoint("before-submitting")
        sending = self._start_sending(job, client)
        if isinstance(sending, float):
            return sending
        self._checkpoint("before-submit")
        watch = self._watch_of(job.id)
        client.on_upload = self._upload_progress
        attempts = _SubmitAttempts(self, sending, client)
        http.this_thread.paid_attempts = attempts
        try:
            submitted = client.submit(sending)
        except _NoSlot as wait:
            return wait.delay
        except ClaimLost:
            raise
        except Exception as exc:
            return self._submit_failed(attempts.job, exc, watch)
        finally:
            http.this_thread.paid_attempts = None
        self._checkpoint("after-submit-response")
        watch.failures = 0
        watch.sent_at = time.time()
        status = submitted.status or RemoteStatus(Phase.QUEUED)
        job = self._record_answer(attempts.job, state=_PHASE_STATE.get(status.phase, State.QUEUED),
                                  remote_id=submitted.remote_id,
                                  message=status.message or "Queued", progress=status.progress,
                                  eta_s=status.eta_s, **_ledger(status))
        self._checkpoint("after-remote-id")
        if job.cancel_requested or self._stop_flag(job.id).is_set():
            return 0.0
        return self._after_status(job, client, status)

    def _record_answer(self, job: Job, **fields: Any) -> Job:
        """Write a submit's answer. When this runner lost the job while the request was out and
        the runner that adopted it could only call it ``unknown``, the answer takes it back:
        the job was sent once and its remote id must not be lost."""
        try:
            return self._set(job, **fields)
        except ClaimLost:
            taken = self.journal.take_back(job.id, **fields)
            if taken is None:
                raise
        log.warning("job %s: its submit was answered after another Conjure process had given "
                    "it up; the remote id is kept and the job continues here", job.id)
        self._emit(taken, "state", "progress", "message")
        return taken

    def _start_sending(self, job: Job, client: Client) -> Job | float:
        """Write ``submitting`` when the job's slot group at the service has room: the job as
        written, or the seconds to wait for a slot (the job stays ``pending``, and a slot freed
        by this runner wakes it sooner)."""
        group = client.slot_group(job.operation, job.params)
        with self._slot_lock:
            active = self._holding(job.service, client, group.name)
            with self._cond:
                if active >= group.limit:
                    self._waiting_slot[job.id] = job.service
                else:
                    self._waiting_slot.pop(job.id, None)
            if active >= group.limit:
                what = job.service if group.name == job.service else f"{job.service} {group.name}"
                self._set(job, message=f"Waiting: {active} {what} jobs already running")
                return _SLOT_RECHECK_S * self.policy.scale
            return self._set(job, state=State.SUBMITTING, message="Sending…")

    def _holding(self, service: str, client: Client, group: str) -> int:
        """Jobs of ``service`` holding a slot of ``group``, across every process."""
        if group == service:  # the whole service is one group
            return self.journal.count(service, _HOLDING_SLOT)
        return sum(1 for j in self.journal.jobs(_HOLDING_SLOT) if j.service == service
                   and client.slot_group(j.operation, j.params).name == group)

    def _slot_freed(self, service: str) -> None:
        """A job of ``service`` left its slot: the jobs waiting for one look again now."""
        with self._cond:
            for job_id, waiting_for in list(self._waiting_slot.items()):
                if waiting_for == service:
                    self._schedule_locked(job_id, 0.0)

    def _submit_failed(self, job: Job, exc: Exception, watch: _Watch) -> float | None:
        """Record why a submit did not return a job (``job`` as last written) and say when to
        try again, if ever."""
        if isinstance(exc, errors.OfflineError | errors.ConnectionFailedError
                      | errors.RateLimitedError):
            # Certainly not created at the service: safe to send again later. Only a service
            # that cannot be reached counts towards giving up; being offline or asked to wait
            # (a rate limit, a concurrency cap) is a known wait, however long.
            if isinstance(exc, errors.ConnectionFailedError):
                watch.failures += 1
                if watch.failures > self.max_failures:
                    self._fail(job, exc)
                    return None
            self._set(job, state=State.PENDING, message=f"Not sent yet: {exc}")
            return exc.retry_after if exc.retry_after is not None else self._backoff(watch)
        if job.state == State.PENDING:
            # Failed between attempts, with nothing in flight: the worker logs it and the job
            # is tried again later.
            raise exc
        if isinstance(exc, errors.InvalidRequestError) and exc.status is None:
            # Refused by the client itself before anything was sent (e.g. a local image
            # too large): nothing can exist at the service, so it is a plain failure.
            self._fail(job, exc)
        elif isinstance(exc, errors.ServiceError) and exc.status is not None:
            self._fail(job, exc)
        elif isinstance(exc, errors.ServiceError):
            self._set(job, state=State.UNKNOWN, error_code="submit_unanswered", message=(
                f"No answer to the submit ({exc}); the job may exist at {job.service}. "
                "It was not sent again (that could charge twice); check your account."))
        else:
            log.error("job %s: submit raised", job.id, exc_info=exc)
            self._set(job, state=State.UNKNOWN, error_code="submit_crashed",
                      message=f"Sending failed inside Conjure ({type(exc).__name__}); the job "
                              "may exist at the service and was not sent again.")
        return None

    def _upload_progress(self, job_id: str, sent: int, total: int) -> None:
        """Shows an upload's progress on its ``submitting`` job, at most twice a second."""
        watch = self._watch_of(job_id)
        now = time.monotonic()
        if sent < total and now - watch.last_upload_report < 0.5:
            return
        watch.last_upload_report = now
        job = self.journal.require(job_id)
        if job.state == State.SUBMITTING and total > 0:
            try:
                self._set(job, progress=min(1.0, sent / total),
                          message=f"Uploading {sent / 1e6:.1f} of {total / 1e6:.1f} MB")
            except ClaimLost:
                pass  # the upload goes on; what its answer means is settled once it arrives

    def _poll(self, job: Job, client: Client) -> float | None:
        watch = self._watch_of(job.id)
        if (client.feeds(job) and not watch.feed_over
                and time.monotonic() >= watch.feed_retry_at):
            return self._follow(job, client, watch)
        return self._ask(job, client)

    def _ask(self, job: Job, client: Client) -> float | None:
        """One status request, and what follows from its answer."""
        watch = self._watch_of(job.id)
        self._checkpoint("before-poll")
        watch.polls += 1
        try:
            status = client.poll(job)
        except errors.NotFoundError as exc:
            self._fail(job, exc)
            return None
        except errors.ServiceError as exc:
            watch.failures += 1
            hint = "; fix the key in Preferences, Conjure keeps checking" if isinstance(
                exc, errors.AuthenticationError) else "; retrying"
            job = self._set(job, message=f"Status check failed: {exc}{hint}")
            if self._stalled_out(job, watch):
                return None
            return exc.retry_after if exc.retry_after is not None else self._backoff(watch)
        self._checkpoint("after-poll")
        watch.last_answer = time.monotonic()
        watch.failures = 0
        return self._after_status(job, client, status)

    def _after_status(self, job: Job, client: Client, status: RemoteStatus) -> float | None:
        watch = self._watch_of(job.id)
        if status.phase == Phase.SUCCEEDED:
            if status.took_s is not None:
                self.durations.add(job.service, job.operation, status.took_s)
            return self._download(job, client, status)
        if status.phase == Phase.FAILED:
            self._fail(job, status.message or "the service reported a failure",
                       status.error_code or "service_failed", **_ledger(status))
            return None
        if status.phase == Phase.CANCELLED:
            self._set(job, state=State.CANCELLED,
                      message=status.message or "Cancelled at the service", **_ledger(status))
            return None
        before = (job.state, job.progress)
        elapsed = time.time() - job.created_at
        expected = self._expected_end(job, status, elapsed)
        job = self._set(job, state=_PHASE_STATE[status.phase], progress=status.progress,
                        eta_s=_left(expected, elapsed), message=status.message or job.message)
        if (job.state, job.progress) != before:
            watch.last_news = time.monotonic()
            watch.stalled = False
        if status.lite and not job.result_files and watch.lite_failures < 3:
            job = self._fetch_lite(job, status.lite, watch)
        if self._stalled_out(job, watch):
            return None
        if client.feeds(job) and not watch.feed_over:
            # Hold the feed open from now on (or when it may be opened again).
            return max(0.0, watch.feed_retry_at - time.monotonic())
        return self.policy.delay(elapsed, expected=expected, polls=watch.polls,
                                 every=client.poll_every, poll_after=status.poll_after)

    def _expected_end(self, job: Job, status: RemoteStatus, elapsed: float) -> float | None:
        """When the job should end, in seconds after it was written, by the best estimate at
        hand: the service's ETA, the rate of its progress figure, or how long its last jobs
        of the kind took by its own clock. None without one. The job's ``eta_s`` is written
        from it, so the panel and the console say the same as the polls are timed by."""
        watch = self._watch_of(job.id)
        if status.eta_s is not None and status.eta_s >= 0:
            return elapsed + status.eta_s
        now = time.time()
        progress = status.progress
        if status.phase == Phase.RUNNING and progress is not None and progress < 1:
            if watch.first_progress is None:
                watch.first_progress = (now, progress)
            seen_at, first = watch.first_progress
            if progress > first and now - seen_at >= 1.0:
                rate = (progress - first) / (now - seen_at)
                return elapsed + (1 - progress) / rate
        typical = self.durations.typical(job.service, job.operation)
        if typical is None or watch.sent_at is None:
            return None
        return watch.sent_at - job.created_at + typical

    def _stalled_out(self, job: Job, watch: _Watch) -> bool:
        """Report a stall once (no answer, or no change, for ``stall_after``); True when the
        policy gave the job up for it."""
        now = time.monotonic()
        silent = now - watch.last_answer
        still = now - watch.last_news
        limit = self.policy.stall_after
        if watch.stalled or max(silent, still) < limit:
            return False
        watch.stalled = True
        minutes = max(silent, still) / 60
        why = "has not answered" if silent >= limit else "reports no change"
        text = f"{job.service} {why} for {minutes:.0f} min"
        if self.policy.on_stall == "fail":
            self._fail(job, f"{text}; given up (stall policy)", "stalled")
            return True
        self._set(job, message=f"{text}; still waiting")
        return False

    def _download(self, job: Job, client: Client, status: RemoteStatus | None) -> float | None:
        watch = self._watch_of(job.id)
        if job.state != State.DOWNLOADING:
            job = self._set(job, state=State.DOWNLOADING, message="Downloading result…",
                            progress=1.0 if job.progress is not None else None, eta_s=None)
        self._checkpoint("before-download")
        try:
            if status is None:  # resumed, or locations expired: ask again for fresh ones
                watch.polls += 1
                status = client.poll(job)
            if status.phase == Phase.SUCCEEDED and status.no_files and not status.results:
                self._set(job, state=State.READY, result_files=[], progress=1.0, eta_s=0.0,
                          message=status.message or "Finished", error_code=None,
                          **_ledger(status))
                return None
            if status.phase != Phase.SUCCEEDED or not status.results:
                raise errors.UnexpectedResponseError(
                    f"the service reports {status.phase} with {len(status.results)} files for "
                    "a finished job", service=job.service)
            saved = self._save(job, status.results)
            if status.picture is not None:
                with self._cond:  # before the job reads ready, so nobody draws one meanwhile
                    self._pictures.add(job.id)
        except StopRequested:
            return 0.0
        except errors.DownloadLimitError as exc:
            # The same file meets the same limit: nothing to retry until the user raises it.
            self._fail(job, f"Result not saved: {exc}. {job.service} keeps the result "
                            f"(remote job {job.remote_id}): then press Download Again in the "
                            "Jobs panel", exc.code)
            return None
        except (errors.ResultNotReadyError, errors.ResultExpiredError) as exc:
            watch.failures += 1
            if watch.failures > 4 * self.max_failures:
                self._fail(job, f"result never became available: {exc}", "download_failed")
                return None
            self._set(job, message=f"Waiting for the result file: {exc}")
            return exc.retry_after if exc.retry_after is not None else self._backoff(watch)
        except errors.ServiceError as exc:
            watch.failures += 1
            if watch.failures > self.max_failures:
                self._fail(job, f"result could not be downloaded: {exc} (remote job "
                                f"{job.remote_id} at {job.service} is still there; Download "
                                "Again in the Jobs panel tries once more)", "download_failed")
                return None
            self._set(job, message=f"Download failed ({exc}); retrying")
            return self._backoff(watch)
        try:
            job = self._set(job, state=State.READY, result_files=saved, progress=1.0, eta_s=0.0,
                            message="Ready to import", error_code=None, **_ledger(status))
        finally:
            if status.picture is not None and job.state != State.READY:
                self._picture_done(job.id)
        if status.picture is not None:
            self._save_picture(job, status.picture)
        return None

    def _save_picture(self, job: Job, picture: ResultFile) -> None:
        """Save the service's picture of a ready job as its preview. It is a nicety: whatever
        goes wrong is logged, and the preview is then drawn from the model instead. No event
        says it arrived: the job may have been imported meanwhile, and this snapshot of it
        would show it as ready again (the main thread looks, ``picture_pending``)."""
        try:
            write_preview(picture.open(), job_folder(self.results_root, job.service, job.id),
                          limits=self.limits, should_stop=self._stop_flag(job.id).is_set)
        # Anything at all: the job is ready already, and must stay so.
        except Exception as exc:
            log.warning("job %s: the service's picture of the result was not saved (%s); one "
                        "is drawn from the model instead", job.id, exc)
        finally:
            self._picture_done(job.id)

    def _picture_done(self, job_id: str) -> None:
        with self._cond:
            self._pictures.discard(job_id)
            self._cond.notify_all()

    def _save(self, job: Job, files: list[ResultFile]) -> list[str]:
        """Write ``files`` to the job's folder; their names there."""
        folder = job_folder(self.results_root, job.service, job.id)
        remove_partials(folder)
        stop = self._stop_flag(job.id)
        saved: list[str] = []
        for result in files:
            path = write_result(result.open(), folder, result.name, kinds=result.kinds,
                                limits=self.limits, should_stop=stop.is_set,
                                checkpoint=self._checkpoint)
            if path.name in saved:
                raise errors.UnexpectedResponseError(
                    f"two result files are both named {path.name}", service=job.service)
            saved.append(path.name)
            self._checkpoint("file-saved")
        return saved

    def _fetch_lite(self, job: Job, files: list[ResultFile], watch: _Watch) -> Job:
        """Download a running job's lite model (``RemoteStatus.lite``) once; it becomes the
        job's result files until the result replaces them. A failure is tried again at the next
        answer, a few times; the result itself does not depend on it."""
        try:
            saved = self._save(job, files)
        except StopRequested:
            return job
        except errors.ServiceError as exc:
            watch.lite_failures += 1
            log.warning("job %s: the lite model could not be downloaded: %s", job.id, exc)
            return job
        return self._set(job, result_files=saved)

    # -- a held-open feed ------------------------------------------------------------------

    def _follow(self, job: Job, client: Client, watch: _Watch) -> float | None:
        """Hold the job's feed open, writing its news, until it ends or drops; then read the
        job's status (the end's truth, or whether it ended while the feed was down)."""
        self._checkpoint("before-feed")
        try:
            feed = client.feed(job)
        except errors.NotFoundError as exc:
            self._fail(job, exc)
            return None
        except errors.ServiceError as exc:
            return self._feed_dropped(job, client, watch, str(exc))
        stop = self._stop_flag(job.id)
        with self._cond:
            self._feeds[job.id] = feed
        if stop.is_set():
            feed.close()  # cancelled while it opened
        unwritten: RemoteStatus | None = None
        try:
            for news in feed:
                watch.last_answer = time.monotonic()
                watch.feed_drops = 0
                if news is not None:
                    written = self._feed_news(job, news, watch)
                    unwritten = news if written is job else None
                    job = written
                if self._stalled_out(job, watch):
                    return None
        finally:
            with self._cond:
                self._feeds.pop(job.id, None)
            feed.close()
        if stop.is_set():
            return 0.0
        if unwritten is not None:  # the last news came too soon after the one before
            job = self._feed_news(job, unwritten, watch, now=True)
        if not feed.ended:
            return self._feed_dropped(job, client, watch, "the stream closed early")
        watch.feed_over = True
        return self._ask(job, client)

    def _feed_news(self, job: Job, news: RemoteStatus, watch: _Watch, *,
                   now: bool = False) -> Job:
        """Write what a feed said: a new state at once, progress at most every
        ``_FEED_WRITE_S`` (unless ``now``). Returns ``job`` itself when nothing was written."""
        state = _PHASE_STATE.get(news.phase, job.state)
        when = time.monotonic()
        if not now and state == job.state and when - watch.last_feed_write < _FEED_WRITE_S:
            return job
        before = (job.state, job.progress)
        progress = job.progress if news.progress is None else news.progress
        elapsed = time.time() - job.created_at
        expected = self._expected_end(job, replace(news, progress=progress), elapsed)
        job = self._set(job, state=state, message=news.message or job.message,
                        progress=progress, eta_s=_left(expected, elapsed))
        watch.last_feed_write = when
        if (job.state, job.progress) != before:
            watch.last_news = when
            watch.stalled = False
        return job

    def _feed_dropped(self, job: Job, client: Client, watch: _Watch, why: str) -> float | None:
        """The feed could not be opened or closed before the job's end: ask for the status
        once (it may have ended meanwhile) and open the feed again after a back-off, which
        grows while it keeps failing; until then the status is not asked again."""
        watch.feed_drops += 1
        wait = min(_FEED_RETRY_MAX_S, 2.0 ** (watch.feed_drops - 1))
        wait *= random.uniform(0.75, 1.25) * self.policy.scale
        watch.feed_retry_at = time.monotonic() + wait
        log.info("job %s: %s; asking for its status, and listening again in %.2f s", job.id,
                 why, wait)
        # A job still running is asked about again when the feed is (``_after_status``).
        return self._ask(job, client)

    def _cancel_now(self, job: Job, client: Client) -> None:
        if job.remote_id and job.state in (State.QUEUED, State.RUNNING):
            if client.can_cancel:
                try:
                    stopped = client.cancel(job)
                    why = "" if stopped else "it refused"
                except errors.ServiceError as exc:
                    stopped, why = False, str(exc)
                message = ("Cancelled; the service stopped the job." if stopped else
                           f"Stopped here; the service did not cancel it ({why}), so it may "
                           "still finish and be charged.")
            else:
                message = (f"Stopped here; {job.service} offers no cancel, so the job may still "
                           "finish and be charged.")
        elif job.state == State.DOWNLOADING:
            message = "Download stopped; the finished job stays at the service."
        else:
            message = "Cancelled before it was sent."
        self._set(job, state=State.CANCELLED, message=message, eta_s=None)

    def _backoff(self, watch: _Watch) -> float:
        base = min(60.0, 2.0 * 2 ** min(watch.failures, 5))
        return base * random.uniform(0.75, 1.25) * self.policy.scale
