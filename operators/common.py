"""What every Conjure operator shares: submitting through the engine, waiting for a job on the
blocking path, importing its result, and telling the user what went wrong in words they can act
on. Main thread only; no HTTP here (the engine's workers do that)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bpy

from .. import engine, inputs, preferences
from ..importers import scene as scene_import
from ..jobs.journal import JournalError
from ..jobs.model import Job, State
from ..providers import registry
from ..providers.errors import ServiceError
from ..providers.services import BY_ID


class StoppedWaiting(Exception):
    """Ctrl-C during a blocking wait: the job goes on, only the waiting stopped."""


#: Errors whose text is already written for the user (the error taxonomy, the engine's and the
#: importer's refusals); anything else is a bug and says so.
USER_ERRORS = (ServiceError, LookupError, ValueError, JournalError, NotImplementedError,
               scene_import.ImportFailed, TimeoutError, OSError, StoppedWaiting)


def message(exc: BaseException) -> str:
    if isinstance(exc, USER_ERRORS):
        return str(exc)
    return f"Conjure failed unexpectedly ({type(exc).__name__}: {exc}); please report this"


def fail(op: bpy.types.Operator, exc: BaseException | str) -> set[str]:
    op.report({"ERROR"}, exc if isinstance(exc, str) else message(exc))
    return {"CANCELLED"}


def interactive(context: bpy.types.Context) -> bool:
    """True when a window's event loop will run the pump (so ``invoke`` may return at once);
    in ``blender -b`` and the bpy module ``INVOKE_DEFAULT`` must block like ``execute``."""
    return not bpy.app.background and getattr(context, "window", None) is not None


def forms_module() -> Any | None:
    """The panel's form helpers (``forms.selected`` / ``forms.values``), when present."""
    try:
        return importlib.import_module(f"{__package__.rsplit('.', 1)[0]}.forms")
    except ModuleNotFoundError:
        return None


def panel_request(context: bpy.types.Context, service_id: str | None = None,
                  operation: str | None = None) -> tuple[str, str, dict[str, Any]]:
    """The panel form's service, operation and values (``from_panel=True``)."""
    forms = forms_module()
    if forms is None or not hasattr(forms, "values"):
        raise ValueError("The Conjure panel's form is not available in this version; pass the "
                         "inputs as operator properties instead")
    if service_id is None or operation is None:
        service_id, operation = forms.selected(context)
    assert service_id is not None and operation is not None
    return service_id, operation, dict(forms.values(context, service_id, operation))


def job_of_object(ob: bpy.types.Object | None) -> Job:
    """The journal job an imported object came from (its ``conjure_job_id``)."""
    if ob is None:
        raise LookupError("Select a model that Conjure imported (or pass job_id)")
    job_id = ob.get("conjure_job_id")
    if not job_id:
        raise LookupError(f"{ob.name} did not come from Conjure; select a model Conjure "
                          "imported (or pass job_id)")
    try:
        return engine.job(str(job_id))
    except LookupError:
        # The job was removed from the list; the object still knows the service's id.
        remote = str(ob.get("conjure_remote_id", ""))
        provider = str(ob.get("conjure_provider", ""))
        if not remote or provider not in BY_ID:
            raise
        return Job(provider=provider, operation="", id=str(job_id), remote_id=remote,
                   state=State.IMPORTED)


def source_job(context: bpy.types.Context, job_id: str) -> Job:
    """``job_id`` when given, else the job of the active (or first selected) object."""
    if job_id.strip():
        return engine.job(job_id)
    ob = context.active_object
    if ob is None or not ob.get("conjure_job_id"):
        ob = next((o for o in getattr(context, "selected_objects", []) or []
                   if o.get("conjure_job_id")), ob)
    return job_of_object(ob)


def submit(request: inputs.Request) -> Job:
    return engine.submit(request.service, request.operation, request.params,
                         parent_id=request.parent_id)


def settings() -> scene_import.ImportSettings:
    return scene_import.ImportSettings.from_preferences(preferences.get())


def collection_name(job: Job) -> str:
    prompt = inputs_prompt(job)
    label = BY_ID[job.provider].label if job.provider in BY_ID else job.provider
    return f"{label}: {prompt[:40]} ({job.id[:6]})" if prompt else f"{label} {job.id}"


def inputs_prompt(job: Job) -> str:
    try:
        op = registry.operation(job.provider, job.operation)
    except ServiceError:
        return ""
    for role in ("prompt",):
        param = op.param_for(role)
        if param is not None and isinstance(job.params.get(param.name), str):
            return str(job.params[param.name]).strip()
    return op.label


def import_job(context: bpy.types.Context, job: Job) -> list[bpy.types.Object]:
    """Import a ready (or earlier imported) job from its local files and mark it imported.
    Works offline and after the service's links expired: only the result folder is read."""
    if job.state not in (State.READY, State.IMPORTED):
        raise ValueError(f"Job {job.id} is {job.state}, so it has no result to import"
                         + (f": {job.message}" if job.message else ""))
    paths = engine.result_paths(job)
    if not paths:
        raise ValueError(f"Job {job.id} finished with an answer, not a file to import"
                         + (f": {job.message}" if job.message else ""))
    if inputs.is_candidates(job.result_files):
        raise ValueError(f"Job {job.id} delivered candidate pictures, not a model; pick one "
                         f"with conjure.pick_candidate(job_id='{job.id}', index=0..2)")
    objects = scene_import.import_result(
        context, provider=job.provider, job_id=job.id, remote_id=job.remote_id or "",
        paths=paths, name=collection_name(job), settings=settings())
    engine.mark_imported(job)
    return objects


def wait(job_ids: list[str], echo: Callable[[str], None] = print) -> list[Job]:
    """The blocking path's wait. Ctrl-C stops waiting, not the job: the pump imports it later."""
    try:
        return engine.run_blocking(job_ids, echo=echo)
    except KeyboardInterrupt:
        if engine.auto_import_enabled():
            for job_id in job_ids:
                engine.want_import(job_id)
        raise StoppedWaiting(
            f"Stopped waiting for job {', '.join(job_ids)}; it continues in the background and "
            "appears in the Jobs list (import it from there when it is ready)") from None


def finished_problem(job: Job) -> str | None:
    """Words for a job that ended without a result, or None when it has one."""
    if job.state in (State.READY, State.IMPORTED):
        return None
    label = BY_ID[job.provider].label if job.provider in BY_ID else job.provider
    text = job.message or "no reason given"
    if job.state == State.CANCELLED:
        return f"{label} job {job.id} was cancelled: {text}"
    if job.state == State.UNKNOWN:
        return f"{label} job {job.id} is in an unknown state: {text}"
    return f"{label} job {job.id} failed: {text}"


def candidate_path(job: Job, index: int) -> Path:
    pictures = inputs.candidate_files(engine.result_paths(job))
    if not pictures:
        raise ValueError(f"Job {job.id} has no candidate pictures to pick from")
    if not 0 <= index < len(pictures):
        raise ValueError(f"index: pick a candidate from 0 to {len(pictures) - 1}, got {index}")
    return pictures[index]


def pick(job: Job, index: int, options: str | dict[str, Any] | None) -> Job:
    """Submit the model job for candidate ``index`` of a finished candidates job."""
    if job.state not in (State.READY, State.IMPORTED):
        raise ValueError(f"Job {job.id} is {job.state}; its candidates are not ready")
    request = inputs.candidate_request(job.provider, job.operation, candidate_path(job, index),
                                       parent_job_id=job.id, options=options)
    return submit(request)


def run_to_scene(op: bpy.types.Operator, context: bpy.types.Context, job: Job, *,
                 candidate_index: int = -1,
                 candidate_options: str | dict[str, Any] | None = None) -> set[str]:
    """The blocking path: wait for ``job`` (and the model job of its candidate, where it
    delivered candidates), import the model, report."""
    [job] = wait([job.id])
    problem = finished_problem(job)
    if problem:
        return fail(op, problem)
    if inputs.is_candidates(job.result_files):
        if candidate_index < 0:
            op.report({"INFO"}, f"Candidates of job {job.id} are ready in "
                                f"{engine.result_paths(job)[0].parent}; voxelize one with "
                                f"bpy.ops.conjure.pick_candidate(job_id='{job.id}', index=0)")
            return {"FINISHED"}
        child = pick(job, candidate_index, candidate_options)
        [job] = wait([child.id])
        problem = finished_problem(job)
        if problem:
            return fail(op, problem)
    objects = import_job(context, job)
    op.report({"INFO"}, f"Imported {len(objects)} objects from job {job.id} into "
                        f"{objects[0].users_collection[0].name}")
    return {"FINISHED"}


def start_async(op: bpy.types.Operator, context: bpy.types.Context, job: Job, *,
                candidate_index: int = -1,
                candidate_options: str | dict[str, Any] | None = None) -> set[str]:
    """The interactive path: the job runs on; the pump imports it when ready."""
    from . import pump

    if engine.auto_import_enabled():
        engine.want_import(job.id)
    if candidate_index >= 0:
        pump.pick_when_ready(job.id, candidate_index, candidate_options)
    pump.ensure_running(context)
    label = BY_ID[job.provider].label if job.provider in BY_ID else job.provider
    op.report({"INFO"}, f"{label} job {job.id} started; it appears in the Jobs list and is "
                        + ("imported when ready" if engine.auto_import_enabled()
                           else "ready to import when done"))
    return {"FINISHED"}
