"""Runtime properties on the WindowManager: the UI's mirror of the journal, and how jobs are
copied into it.

They hold no secrets and are rebuilt from the journal after every file load, so what a .blend
happens to carry of them is never trusted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import bpy
from bpy.props import BoolProperty, CollectionProperty, FloatProperty, IntProperty, StringProperty

from ..jobs.model import Job
from ..workflow import cost, formspec, status


class ConjureJobItem(bpy.types.PropertyGroup):
    job_id: StringProperty(name="Job")
    service: StringProperty(name="Service")
    operation: StringProperty(name="Operation")
    state: StringProperty(name="State")
    #: 0–1, or -1 when the service gives no progress.
    progress: FloatProperty(name="Progress", default=-1.0)
    #: Seconds left as estimated at ``eta_at`` (see ``Job.eta_s``), or -1.
    eta_s: FloatProperty(name="Time Left", default=-1.0)
    #: Unix seconds when ``eta_s`` was estimated, so the panel counts down between changes.
    eta_at: IntProperty(name="Estimated At")
    message: StringProperty(name="Message")
    remote_id: StringProperty(name="Remote ID")
    #: What the job was asked for (its prompt), shown as its name.
    prompt: StringProperty(name="Prompt")
    error_code: StringProperty(name="Error Code")
    parent_id: StringProperty(name="Parent Job")
    #: The file that asked for the job (see ``Job.origin``).
    origin: StringProperty(name="Started In")
    #: What the service charged for it, in words (``cost.charge_words``).
    cost: StringProperty(name="Cost")
    #: Unix seconds; ints because a FloatProperty (32-bit) would round them to minutes.
    created_at: IntProperty(name="Created")
    updated_at: IntProperty(name="Updated")


class ConjureRuntime(bpy.types.PropertyGroup):
    jobs: CollectionProperty(type=ConjureJobItem)
    active_index: IntProperty(name="Active Job")
    #: Bumped whenever the pump changed something, so panels know when to redraw.
    revision: IntProperty()
    #: Whether the Jobs and Selected Model panels show their *Details* (ids, codes).
    job_details_open: BoolProperty(name="Job Details")
    model_details_open: BoolProperty(name="Model Details")


classes = (ConjureJobItem, ConjureRuntime)


def register() -> None:
    bpy.types.WindowManager.conjure = bpy.props.PointerProperty(type=ConjureRuntime)  # type: ignore[attr-defined]


def unregister() -> None:
    del bpy.types.WindowManager.conjure  # type: ignore[attr-defined]


def runtime() -> Any:
    return bpy.context.window_manager.conjure


def _fill(item: Any, job: Job) -> None:
    item.job_id = job.id
    item.service = job.service
    item.operation = job.operation
    item.state = str(job.state)
    item.progress = -1.0 if job.progress is None else job.progress
    item.eta_s = -1.0 if job.eta_s is None else job.eta_s
    item.eta_at = int(job.updated_at)
    item.message = job.message
    item.remote_id = job.remote_id or ""
    item.prompt = formspec.job_prompt(job.service, job.operation, job.params)
    item.error_code = job.error_code or ""
    item.parent_id = job.parent_id or ""
    item.origin = job.origin
    item.cost = cost.charge_words(job)
    item.created_at = int(job.created_at)
    item.updated_at = int(job.updated_at)


def rebuild(jobs: Iterable[Job], index: dict[str, int]) -> None:
    """Fill the job list with ``jobs`` (oldest first); ``index`` maps job id → row."""
    items = runtime().jobs
    items.clear()
    index.clear()
    for job in jobs:
        index[job.id] = len(items)
        _fill(items.add(), job)


def update(jobs: Iterable[Job], index: dict[str, int]) -> None:
    """Copy changed jobs into their rows (new jobs get a row at the end) and redraw."""
    state = runtime()
    for job in jobs:
        row = index.get(job.id)
        if row is None or row >= len(state.jobs):
            index[job.id] = len(state.jobs)
            item = state.jobs.add()
        else:
            item = state.jobs[row]
        _fill(item, job)
    state.revision += 1
    redraw(preferences=False)


def any_active() -> bool:
    """Whether a job in the list is still running (its times move on)."""
    return any(status.is_active(item.state) for item in runtime().jobs)


def redraw(*, preferences: bool) -> None:
    """Redraw the sidebars (only their region: the viewport itself has not changed) and, with
    ``preferences``, the preferences window."""
    wm = bpy.context.window_manager
    for window in wm.windows if wm else ():
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                for region in area.regions:
                    if region.type == "UI":
                        region.tag_redraw()
            elif preferences and area.type == "PREFERENCES":
                area.tag_redraw()
