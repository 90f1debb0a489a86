"""The job record and its states.

A job is one paid (or free) request to a service, from the moment the user asks for it until its
result is in a scene. Its life, as written to the journal:

    pending ─► submitting ─► queued ─► running ─► downloading ─► ready ─► imported
       │            │          └──────────┴────────────┴──► failed / cancelled
       │            └─► unknown   (died while the submit was in flight; never re-sent on its own)
       │                      └─► queued / running / downloading  (that submit's answer came
       │                          after all, to a process that had only been presumed dead)
       └─► cancelled
    failed ─► downloading   (only a job whose result could not be downloaded, when asked to
                             download it again: ``can_download_again``)

``pending`` means the request has not left this machine, so it is safe to send after a restart;
``submitting`` means it may have, so a restart must not send it again.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    PENDING = "pending"
    SUBMITTING = "submitting"
    QUEUED = "queued"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    READY = "ready"
    IMPORTED = "imported"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


#: States in which the runner still has work to do for the job.
ACTIVE = frozenset({State.PENDING, State.SUBMITTING, State.QUEUED, State.RUNNING,
                    State.DOWNLOADING})
#: States in which the service holds a job we are waiting for.
REMOTE = frozenset({State.QUEUED, State.RUNNING, State.DOWNLOADING})
FINISHED = frozenset({State.READY, State.IMPORTED, State.FAILED, State.CANCELLED, State.UNKNOWN})

#: Allowed transitions; the journal refuses any other, so a bug cannot skip a write-ahead step.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.SUBMITTING, State.CANCELLED, State.FAILED}),
    State.SUBMITTING: frozenset({State.QUEUED, State.RUNNING, State.DOWNLOADING, State.FAILED,
                                 State.CANCELLED, State.UNKNOWN, State.PENDING}),
    State.QUEUED: frozenset({State.RUNNING, State.DOWNLOADING, State.FAILED, State.CANCELLED}),
    State.RUNNING: frozenset({State.QUEUED, State.DOWNLOADING, State.FAILED, State.CANCELLED}),
    State.DOWNLOADING: frozenset({State.READY, State.FAILED, State.CANCELLED}),
    State.READY: frozenset({State.IMPORTED}),
    State.IMPORTED: frozenset(),
    State.FAILED: frozenset({State.DOWNLOADING}),
    State.CANCELLED: frozenset(),
    State.UNKNOWN: frozenset({State.FAILED, State.CANCELLED, State.QUEUED, State.RUNNING,
                              State.DOWNLOADING}),
}


#: Error codes of a job that the service finished but whose result could not be saved (the
#: download kept failing, or broke a download limit): the result is still at the service.
DOWNLOAD_ERRORS = frozenset({"download_failed", "download_limit"})


def can_download_again(state: str, remote_id: str | None, error_code: str | None) -> bool:
    """True for a job (its ``state``, ``remote_id`` and ``error_code``) whose result can be
    fetched from the service again: it failed only in the download."""
    return state == State.FAILED and bool(remote_id) and error_code in DOWNLOAD_ERRORS


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class Job:
    """One generation request. ``params`` never holds a secret; keys live in preferences."""

    service: str
    operation: str
    params: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_job_id)
    state: State = State.PENDING
    remote_id: str | None = None
    #: 0–1, or None when the service does not say.
    progress: float | None = None
    #: Seconds left as estimated when the job was last written (``updated_at``): the service's
    #: ETA, the rate of its progress figure or how long its last jobs of the kind took; None
    #: without an estimate.
    eta_s: float | None = None
    message: str = ""
    error_code: str | None = None
    #: Result files, relative to the job's result folder.
    result_files: list[str] = field(default_factory=list)
    parent_id: str | None = None
    #: The file that asked for the job (its path, or a token of a Blender session whose file
    #: was never saved): its result is imported on its own only there. Empty: not known.
    origin: str = ""
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    cancel_requested: bool = False
    #: What the service says it charged for the job, in ``charge_unit`` (its own unit); None
    #: while it has not said.
    charged: float | None = None
    charge_unit: str = ""
    #: The service gave the charge back (a failure it does not bill); ``charged`` is then 0.
    refunded: bool = False

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
