"""Where a result stands in its model's lineage, and which follow-ups its service accepts on it.

bpy-free. A follow-up names its parent by the service's id of a *model*: for most jobs that is
the job's remote id, but a Thrixel conversion's remote id names the conversion (its ``job_id``),
so its results stand for the submission that was converted. The refusals here are the ones the
services answer with an error after the request was made (Thrixel's 422, Tripo's 2006); saying
them first keeps the user from waiting for a refusal.
"""

from __future__ import annotations

from collections.abc import Callable

from ..jobs.model import Job
from ..providers.tripo.operations import DEFAULT_MODEL_VERSION

#: The Thrixel phase of the model each operation makes; a conversion keeps its source's.
THRIXEL_PHASES = {"create": 1, "refine": 2, "edit": 3, "detail": 4, "upload": 5}
_PHASE_WORDS = {1: "a new", 2: "an auto-refined", 3: "an edited", 4: "a detailed",
                5: "an uploaded"}
#: Thrixel auto-refine takes these phases (uploads included: the service's Phase 5 text
#: offers uploads to phases 2, 3 and 4).
THRIXEL_REFINABLE = frozenset({1, 2, 5})
#: Tripo operations whose results are drafts, the only tasks ``refine_model`` takes.
TRIPO_DRAFTS = ("text_to_model", "image_to_model", "multiview_to_model")
#: The first Tripo model version whose drafts ``refine_model`` refuses (error 2006).
TRIPO_REFINE_BEFORE = (2, 0)

#: Looks a job up in the journal by id (None when it is not there).
Find = Callable[[str], "Job | None"]


def submission_id(job: Job) -> str:
    """The service's id of the model this job's result is: what its follow-ups send as their
    parent. Empty while the job has none."""
    if job.service == "thrixel" and job.operation == "convert":
        return str(job.params.get("parent_submission_id") or "")
    return job.remote_id or ""


def thrixel_phase(job: Job, find: Find) -> int | None:
    """The phase of the Thrixel model ``job`` delivered; None when it cannot be told (a job
    known only from an object's tags, or a conversion whose source left the journal)."""
    seen: set[str] = set()
    while job.operation == "convert" and job.parent_id and job.id not in seen:
        seen.add(job.id)
        parent = find(job.parent_id)
        if parent is None:
            return None
        job = parent
    return THRIXEL_PHASES.get(job.operation)


def _version_number(version: str) -> tuple[int, ...] | None:
    """``v1.4-20240625`` → (1, 4); None for names without a number (Turbo, P1: newer
    families)."""
    if not version.startswith("v"):
        return None
    try:
        return tuple(int(p) for p in version[1:].split("-")[0].split("."))
    except ValueError:
        return None


def refusal(source: Job, operation: str, find: Find) -> str | None:
    """Why the service would refuse ``operation`` on ``source``'s result, or None (also when
    the source's own operation is not known: the service then has the last word)."""
    if not source.operation:
        return None
    if source.service == "thrixel":
        phase = thrixel_phase(source, find)
        if operation == "refine" and phase is not None and phase not in THRIXEL_REFINABLE:
            return (f"Thrixel auto-refines only new, auto-refined and uploaded models; this "
                    f"is {_PHASE_WORDS[phase]} model")
        if operation == "edit" and phase == 4:
            return ("Thrixel cannot edit a detailed model; edit the model it was detailed "
                    "from instead")
    if source.service == "tripo" and operation == "refine_model":
        if source.operation not in TRIPO_DRAFTS:
            return ("Tripo3D refines only drafts: results of text, image or multiview to "
                    "model")
        version = str(source.params.get("model_version") or DEFAULT_MODEL_VERSION)
        number = _version_number(version)
        if number is None or number >= TRIPO_REFINE_BEFORE:
            return (f"Tripo3D refines only drafts made with a model before v2.0; this one was "
                    f"made with {version}")
    return None
