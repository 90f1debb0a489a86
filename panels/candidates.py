"""The Candidates panel (Voxel-AI): the pictures a candidates job made, each with a button that
turns it into a model, and the options of that step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bpy

from ..blender import forms, previews, session
from ..jobs.model import State
from ..providers.params import Operation
from ..workflow import formspec, requests, status
from . import widgets

#: Voxel-AI's free step that makes candidate pictures, and the paid one that voxelizes one.
CANDIDATES_SERVICE = "voxelai"


def jobs_list_active(context: Any) -> Any:
    """The job-list row selected in the Jobs panel, or None."""
    runtime = context.window_manager.conjure
    if 0 <= runtime.active_index < len(runtime.jobs):
        return runtime.jobs[runtime.active_index]
    return None


def candidate_operations() -> tuple[Operation | None, Operation | None]:
    """Voxel-AI's (candidate pictures, voxelize) operations: the one taking a picture
    voxelizes; the other creation operation makes the candidates."""
    ops = forms.creation_ops(CANDIDATES_SERVICE)
    voxelize = next((op for op in ops if op.param_for("image") is not None), None)
    images = next((op for op in ops if op is not voxelize and op.param_for("prompt")), None)
    return images, voxelize


def is_candidates_item(item: Any) -> bool:
    """A job-list row of the operation that makes candidate pictures (not a model)."""
    images, _ = candidate_operations()
    return images is not None and item.service == CANDIDATES_SERVICE \
        and item.operation == images.name


def candidate_job(context: Any) -> Any:
    """The Voxel-AI candidates job to show: the active one in the Jobs list, else the newest."""
    item = jobs_list_active(context)
    if item is not None and is_candidates_item(item):
        return item
    jobs = context.window_manager.conjure.jobs
    return next((j for j in reversed(jobs) if is_candidates_item(j) and j.state in
                 (State.READY, State.IMPORTED)), None)


def candidate_files(job_id: str) -> list[Path]:
    job = session.find(job_id)
    if job is None or job.state not in (State.READY, State.IMPORTED):
        return []
    try:
        paths = session.result_paths(job)
    except Exception:
        return []
    return [p for p in paths if p.suffix.lower() in requests.IMAGE_SUFFIXES and p.is_file()]


class CONJURE_PT_candidates(widgets.Sidebar, bpy.types.Panel):
    bl_label = "Candidates"
    bl_idname = "CONJURE_PT_candidates"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return candidate_job(context) is not None

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        item = candidate_job(context)
        if item is None:
            return
        if item.prompt:
            widgets.lines(layout.column(align=True), item.prompt)
        if status.is_active(item.state):
            layout.label(text=f"Making pictures… {item.message}".strip(), icon="SORTTIME")
            return
        files = candidate_files(item.job_id)
        if not files:
            layout.label(text=item.message or "No candidate pictures", icon="INFO")
            return
        _, voxelize = candidate_operations()
        layout.label(text="Pick one to voxelize:")
        grid = layout.grid_flow(columns=0, even_columns=True, align=False)
        for index, path in enumerate(files):
            col = grid.column(align=True)
            col.template_icon(icon_value=previews.icon(path), scale=8.0)
            widgets.button(col, "conjure.pick_candidate", f"Use {index + 1}", "CHECKMARK",
                           job_id=item.job_id, index=index, from_panel=True)
        if voxelize is not None:
            box = layout.box()
            box.label(text=f"{voxelize.label} options")
            fields = [f for f in formspec.fields(voxelize) if f.widget not in ("image", "images")]
            forms.draw_fields(box.column(), context, voxelize, fields)
            widgets.service_ready(box, CANDIDATES_SERVICE)
            widgets.balance(box, CANDIDATES_SERVICE)
            draft = forms.draft_values(context, CANDIDATES_SERVICE, voxelize.name)
            widgets.before_sending(box, requests.Request(CANDIDATES_SERVICE, voxelize.name,
                                                         draft))


classes = (CONJURE_PT_candidates,)

