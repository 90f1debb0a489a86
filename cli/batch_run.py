"""One run of ``blender -c conjure batch`` over a CSV: keeps as many rows' jobs at the services as
``concurrency`` says (by default as many as each service allows an account at once), carries each
finished job on through the workflow (pick its candidate, or write its model file) and records
every step in the manifest (see ``batch``). One job is carried on per pass, between which the
session's news is read and freed slots are filled, so several jobs finishing together never
hold up the rest. bpy-free: the Blender side gives the job source and the workflow's steps."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ..jobs.model import Job
from ..providers.base import SlotGroup
from ..providers.prices import Estimate
from ..workflow import cost, requests, sequence, status
from . import batch


class JobSource(Protocol):
    """The session as the batch sees it."""

    def tick(self) -> int: ...

    def get(self, job_id: str) -> Job | None: ...

    def recent(self, limit: int) -> list[Job]: ...

    def slot_group(self, service: str, operation: str, params: dict[str, Any]) -> SlotGroup:
        """The jobs a service runs at once that a job of ``operation`` counts against."""
        ...


class BatchRun:
    """``concurrency``: at most this many rows' jobs at the services at once (None: as many as
    each service allows); ``caps``: the spending cap (``--max-cost``) by service id or
    ``cost.EVERY_SERVICE``; ``prices(service_id)``: the figures a service lists live (Thrixel),
    which win."""

    def __init__(self, rows: list[batch.Row], folder: Path, concurrency: int | None, fmt: str,
                 out: Callable[[str], None] = print, *, caps: Mapping[str, float] | None = None,
                 prices: Callable[[str], Mapping[str, float]] | None = None) -> None:
        self.rows = rows
        self.folder = folder
        self.concurrency = concurrency
        self.fmt = fmt
        self.out = out
        self.manifest = batch.Manifest(folder)
        self.outcomes: dict[int, batch.Outcome] = {}
        self.later: dict[int, dict[str, Any]] = {}
        #: Row number → the job being waited for.
        self.active: dict[int, str] = {}
        #: Row number → the service and slot group its jobs count against.
        self.groups: dict[int, tuple[str, str]] = {}
        #: Requests of rows not yet submitted, made when the row is first considered.
        self.requests: dict[int, requests.Request] = {}
        self.by_number = {row.number: row for row in rows}
        self.budget = cost.Budget(dict(caps or {}))
        self.prices = prices or (lambda service_id: {})
        #: Row number → (service id, what sending the row will cost).
        self.estimates: dict[int, tuple[str, Estimate]] = {}

    def output_for(self, job: Job) -> Path:
        """The model file of the row whose job this is (the steps write it)."""
        number = next(n for n, job_id in self.active.items() if job_id == job.id)
        return self.folder / self.by_number[number].output_name(self.fmt)

    def current(self, jobs: JobSource, job_id: str,
                shown: dict[str, tuple[str, int, str]]) -> Job:
        """The job as the journal has it now; prints its progress line when its state,
        progress or message changed."""
        job = jobs.get(job_id)
        assert job is not None, f"job {job_id} left the journal during the batch"
        if shown.get(job_id) != status.progress_key(job):
            shown[job_id] = status.progress_key(job)
            self.out(status.progress_line(job))
        return job

    def say(self, row: batch.Row, text: str) -> None:
        self.out(f"[batch] row {row.number}/{len(self.rows)} {row.service.upper()}: {text}")

    def done(self, row: batch.Row, ok: bool, text: str) -> None:
        self.outcomes[row.number] = batch.Outcome(row, ok, text)
        self.active.pop(row.number, None)
        self.say(row, text if ok else f"FAILED: {text}")

    def start(self, jobs: JobSource) -> list[batch.Row]:
        """Settle every row from the manifest and the journal; returns rows to submit."""
        journal_jobs = jobs.recent(2000)
        to_submit = []
        for row in self.rows:
            entry = self.manifest.entry(row)
            found = batch.adopt(entry, journal_jobs)
            if found is not None:
                self.manifest.submitted(row, found.id)
            action, job = batch.plan(row, entry, jobs.get,
                                     lambda p: (self.folder / p).is_file())
            if action == batch.DONE:
                self.done(row, True, f"already done ({entry.output})")
            elif action == batch.STUCK:
                assert job is not None
                self.done(row, False, sequence.finished_problem(job) or str(job.state))
            elif action in (batch.WAIT, batch.IMPORT):
                assert job is not None
                self.active[row.number] = job.id
                group = jobs.slot_group(job.service, job.operation, job.params)
                self.groups[row.number] = (job.service, group.name)
                self.say(row, f"continuing job {job.id} "
                              f"({status.state_words(job.state).lower()})")
            else:
                to_submit.append(row)
        return to_submit

    def estimate(self, rows: list[batch.Row]) -> None:
        """Price the rows to send and say what the batch will cost, before sending any."""
        live: dict[str, Mapping[str, float]] = {}
        for row in rows:
            try:
                request = requests.generation_request(row.service, mode=row.mode,
                                                      prompt=row.prompt, options=row.options)
            except sequence.USER_ERRORS:
                continue  # refused when it is sent, before anything is paid
            if request.service not in live:
                live[request.service] = self.prices(request.service)
            self.estimates[row.number] = (request.service,
                                          cost.request_estimate(request, live[request.service]))
        if rows:
            self.out(f"[batch] estimate for {len(rows)} rows to send: "
                     f"{cost.totals_words(self.estimates.values())}")
        if self.budget.caps:
            self.out("[batch] --max-cost: " + ", ".join(
                f"{amount:g} for {'each service' if name == cost.EVERY_SERVICE else name}"
                for name, amount in self.budget.caps.items()))

    def over_budget(self, row: batch.Row) -> str | None:
        """Why sending ``row`` would pass the cap, or None (it is then counted as sent)."""
        if row.number not in self.estimates:
            return None
        service_id, estimate = self.estimates[row.number]
        refusal = self.budget.refusal(service_id, estimate)
        if refusal is None:
            self.budget.take(service_id, estimate)
        return refusal

    def leave_unsent(self, rows: list[batch.Row], why: str) -> None:
        for row in rows:
            self.outcomes[row.number] = batch.Outcome(row, False, why, unsent=True)
        self.out(f"[batch] stopped at row {rows[0].number}: {why}")

    def request(self, row: batch.Row) -> requests.Request | None:
        """The row's request, or None when the row cannot be sent (recorded as failed)."""
        if row.number not in self.requests:
            try:
                request = requests.generation_request(row.service, mode=row.mode,
                                                      prompt=row.prompt, options=row.options)
            except sequence.USER_ERRORS as exc:
                self.done(row, False, sequence.message(exc))
                return None
            self.requests[row.number] = request
        return self.requests[row.number]

    def has_room(self, request: requests.Request, jobs: JobSource,
                 running: dict[int, Job]) -> bool:
        """Whether another job may go out now: fewer than ``concurrency`` rows' jobs are at the
        services, or, by default, fewer than the request's slot group allows at once."""
        if self.concurrency is not None:
            return len(running) < self.concurrency
        group = jobs.slot_group(request.service, request.operation, request.params)
        key = (request.service, group.name)
        return sum(self.groups.get(n) == key for n in running) < group.limit

    def submit(self, row: batch.Row, request: requests.Request, jobs: JobSource,
               steps: sequence.Steps) -> None:
        try:
            self.later[row.number] = request.later
            group = jobs.slot_group(request.service, request.operation, request.params)
            self.manifest.begin_submit(row, request.service, request.operation, request.params)
            job = steps.submit(request)
        except sequence.USER_ERRORS as exc:
            self.done(row, False, sequence.message(exc))
            return
        self.manifest.submitted(row, job.id)
        self.active[row.number] = job.id
        self.groups[row.number] = (request.service, group.name)
        self.say(row, f"submitted job {job.id}")

    def fill(self, queue: list[batch.Row], jobs: JobSource, steps: sequence.Steps,
             running: dict[int, Job]) -> list[batch.Row]:
        """Submit the queued rows that fit, in order; returns the rows still waiting."""
        waiting: list[batch.Row] = []
        for index, row in enumerate(queue):
            if row.number not in self.requests:  # the cap counts rows in order, once each
                over = self.over_budget(row)
                if over is not None:
                    self.leave_unsent(queue[index:], over)
                    return waiting
            request = self.request(row)
            if request is None:
                continue
            if self.has_room(request, jobs, running):
                self.submit(row, request, jobs, steps)
                running[row.number] = Job(request.service, request.operation)  # a placeholder
            else:
                waiting.append(row)
        return waiting

    def advance(self, row: batch.Row, job: Job, steps: sequence.Steps) -> None:
        """A job of ``row`` finished: pick a candidate, write the model, or record why not."""
        plan = sequence.Plan(candidate=row.candidate,
                             candidate_options=self.later.get(row.number))
        try:
            outcome = sequence.advance(job, plan, steps)
        except sequence.USER_ERRORS as exc:
            self.done(row, False, sequence.message(exc))
            return
        assert outcome is not None  # only finished jobs are advanced
        if not outcome.ok:
            self.done(row, False, outcome.message)
        elif outcome.follow is not None:
            self.manifest.picked(row, outcome.follow.id)
            self.active[row.number] = outcome.follow.id
            self.say(row, f"candidate {row.candidate} → job {outcome.follow.id}")
        else:
            assert outcome.imported is not None
            name = row.output_name(self.fmt)
            self.manifest.wrote(row, name)
            self.done(row, True, f"{outcome.imported.count} objects → {name}")

    def run(self, jobs: JobSource, steps: sequence.Steps, timeout: float | None) -> int:
        queue = self.start(jobs)
        self.estimate(queue)
        deadline = None if timeout is None else time.monotonic() + timeout
        shown: dict[str, tuple[str, int, str]] = {}
        while queue or self.active:
            jobs.tick()
            current = {number: self.current(jobs, job_id, shown)
                       for number, job_id in self.active.items()}
            running = {n: job for n, job in current.items() if not job.finished}
            queue = self.fill(queue, jobs, steps, running)
            finished = [n for n, job in current.items() if job.finished]
            if finished:  # one per pass: a pass never holds up the rest for more than one
                self.advance(self.by_number[finished[0]], current[finished[0]], steps)
            if deadline is not None and time.monotonic() > deadline:
                for number in list(self.active):
                    self.done(self.by_number[number], False, "still running when --timeout "
                              "passed; run the batch again to continue it")
                break
            if not finished:
                time.sleep(0.05)
        text, code = batch.summary([self.outcomes[r.number] for r in self.rows
                                    if r.number in self.outcomes])
        self.out(text)
        return code
