"""The one generation workflow: submit → wait → (pick a candidate → wait) → import.

The N-panel's pump, the blocking operators (console, ``blender -b``) and ``blender -c conjure``
all drive it. What happens is decided here, bpy-free; what touches Blender (sending through the
session, waiting with progress lines, importing, tagging uploaded objects) is done by a
``Steps`` object the Blender side passes in, so every branch is tested with plain pytest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from ..jobs.journal import JournalError
from ..jobs.model import Job, State
from ..providers import registry
from ..providers.errors import ServiceError
from ..providers.services import BY_ID
from . import formspec, requests


class ImportFailed(Exception):
    """Nothing of a result could be brought into the scene (the message says why)."""


class StoppedWaiting(Exception):
    """Ctrl-C during a blocking wait: the job goes on, only the waiting stopped."""


#: Errors whose text is already written for the user (the error taxonomy, the session's and the
#: importer's refusals); anything else is a bug and says so.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ServiceError, LookupError, ValueError, JournalError, NotImplementedError, ImportFailed,
    TimeoutError, OSError, StoppedWaiting)


def message(exc: BaseException) -> str:
    if isinstance(exc, USER_ERRORS):
        return str(exc)
    return f"Conjure failed unexpectedly ({type(exc).__name__}: {exc}); please report this"


def service_label(service_id: str) -> str:
    service = BY_ID.get(service_id)
    return service.label if service else service_id


def job_title(job: Job) -> str:
    """What the job was asked for (its prompt), else its operation's name."""
    prompt = formspec.job_prompt(job.service, job.operation, job.params).strip()
    if prompt:
        return prompt
    try:
        return registry.operation(job.service, job.operation).label
    except ServiceError:
        return ""


def collection_name(job: Job) -> str:
    """The collection a job's result is imported into."""
    title = job_title(job)
    label = service_label(job.service)
    return f"{label}: {title[:40]} ({job.id[:6]})" if title else f"{label} {job.id}"


def finished_problem(job: Job) -> str | None:
    """Words for a job that ended without a result, or None when it has one."""
    if job.state in (State.READY, State.IMPORTED):
        return None
    label = service_label(job.service)
    text = job.message or "no reason given"
    if job.state == State.CANCELLED:
        return f"{label} job {job.id} was cancelled: {text}"
    if job.state == State.UNKNOWN:
        return f"{label} job {job.id} is in an unknown state: {text}"
    return f"{label} job {job.id} failed: {text}"


def check_importable(job: Job, paths: list[Path]) -> None:
    """Refuses, in words, a job whose local files are not a model to import."""
    if job.state not in (State.READY, State.IMPORTED) and not has_lite(job):
        raise ValueError(f"Job {job.id} is {job.state}, so it has no result to import"
                         + (f": {job.message}" if job.message else ""))
    if not paths:
        raise ValueError(f"Job {job.id} finished with an answer, not a file to import"
                         + (f": {job.message}" if job.message else ""))
    if requests.is_candidates(job.result_files):
        raise ValueError(f"Job {job.id} delivered candidate pictures, not a model; pick one "
                         f"with conjure.pick_candidate(job_id='{job.id}', index=0..2)")


def has_lite(job: Job) -> bool:
    """A job still being finished whose quicker version of the result is here already
    (Thrixel's lite model while the full-quality one bakes): it can be shown meanwhile."""
    return (not job.finished and bool(job.result_files)
            and not requests.is_candidates(job.result_files))


def candidate_path(job: Job, paths: list[Path], index: int) -> Path:
    pictures = requests.candidate_files(paths)
    if not pictures:
        raise ValueError(f"Job {job.id} has no candidate pictures to pick from")
    if not 0 <= index < len(pictures):
        raise ValueError(f"index: pick a candidate from 0 to {len(pictures) - 1}, got {index}")
    return pictures[index]


@dataclass(frozen=True)
class Plan:
    """What to do with a job's result besides importing it, decided when it was submitted."""

    #: Candidate picture to turn into a model without asking; -1 offers them in the panel.
    candidate: int = -1
    #: Options for that model job (Voxel-AI's voxelize settings given to ``generate``).
    candidate_options: str | dict[str, Any] | None = None
    #: The objects an upload job sent: tagged with the job when it is done, nothing imported.
    uploaded: tuple[str, ...] = ()


class Step(StrEnum):
    WAIT = "wait"
    FAIL = "fail"
    PICK = "pick"
    OFFER = "offer"
    TAG = "tag"
    IMPORT = "import"


def decide(job: Job, plan: Plan) -> Step:
    """What a job needs next."""
    if not job.finished:
        return Step.WAIT
    if finished_problem(job):
        return Step.FAIL
    if plan.uploaded:
        return Step.TAG
    if requests.is_candidates(job.result_files):
        return Step.PICK if plan.candidate >= 0 else Step.OFFER
    return Step.IMPORT


@dataclass
class Imported:
    count: int
    collection: str
    #: The model's objects (the Blender side's; opaque here).
    objects: Sequence[Any] = ()
    #: Says what happened when it was more than an import (a result applied in place).
    summary: str = ""


class Steps(Protocol):
    """What the Blender side does for the workflow."""

    def submit(self, request: requests.Request) -> Job: ...

    def wait(self, job_ids: list[str]) -> list[Job]:
        """Block until the jobs are finished (the blocking path only)."""
        ...

    def result_paths(self, job: Job) -> list[Path]: ...

    def import_job(self, job: Job) -> Imported: ...

    def tag(self, job: Job, names: tuple[str, ...]) -> int:
        """Mark the uploaded objects as the job's model; returns how many were found."""
        ...


@dataclass
class Outcome:
    ok: bool
    message: str
    job: Job
    #: The job to wait for next (the model job of a picked candidate).
    follow: Job | None = None
    imported: Imported | None = field(default=None)


def pick(job: Job, index: int, options: str | dict[str, Any] | None, steps: Steps) -> Job:
    """Submit the model job for candidate ``index`` of a finished candidates job."""
    if job.state not in (State.READY, State.IMPORTED):
        raise ValueError(f"Job {job.id} is {job.state}; its candidates are not ready")
    path = candidate_path(job, steps.result_paths(job), index)
    request = requests.candidate_request(job.service, job.operation, path,
                                         parent_job_id=job.id, options=options)
    return steps.submit(request)


def advance(job: Job, plan: Plan, steps: Steps) -> Outcome | None:
    """Carry out what a job needs now; None while it is still running."""
    step = decide(job, plan)
    if step == Step.WAIT:
        return None
    if step == Step.FAIL:
        return Outcome(False, finished_problem(job) or "", job)
    if step == Step.TAG:
        found = steps.tag(job, plan.uploaded)
        return Outcome(True, f"Uploaded {found} objects as {service_label(job.service)} job "
                             f"{job.id} ({job.remote_id})", job)
    if step == Step.OFFER:
        folder = steps.result_paths(job)[0].parent
        return Outcome(True, f"Candidates of job {job.id} are ready in {folder}; voxelize one "
                             f"with bpy.ops.conjure.pick_candidate(job_id='{job.id}', index=0)",
                       job)
    if step == Step.PICK:
        child = pick(job, plan.candidate, plan.candidate_options, steps)
        return Outcome(True, f"candidate {plan.candidate} of job {job.id} → job {child.id}",
                       job, follow=child)
    imported = steps.import_job(job)
    return Outcome(True, imported.summary or f"Imported {imported.count} objects from job "
                                             f"{job.id} into {imported.collection}", job,
                   imported=imported)


def run_to_end(job: Job, plan: Plan, steps: Steps) -> Outcome:
    """The blocking path: wait for ``job`` and carry out each step until there is a result (or
    a refusal): the model in the scene, the candidates offered, the upload tagged."""
    while True:
        [job] = steps.wait([job.id])
        outcome = advance(job, plan, steps)
        assert outcome is not None  # wait() returns finished jobs only
        if outcome.follow is None:
            return outcome
        job, plan = outcome.follow, Plan()
