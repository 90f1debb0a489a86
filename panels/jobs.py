"""The Jobs panel: every job of the journal (newest first) and, for the active one, its state,
progress, message and what can be done with it."""

from __future__ import annotations

from typing import Any

import bpy

from ..blender import session
from ..jobs.model import State, can_download_again
from ..workflow import status
from . import library, widgets
from .candidates import is_candidates_item, jobs_list_active


class CONJURE_UL_jobs(bpy.types.UIList):
    """Conjure's jobs, newest first: each by its operation's title, its progress while it
    runs and an icon for its state (the prompt and the times are in the box below)."""

    def draw_item(self, context: Any, layout: Any, data: Any, item: Any, icon: int,
                  active_data: Any, active_propname: str, index: int = 0) -> None:
        row = layout.row(align=True)
        # The result's picture, once there is one, stands in the service icon's place.
        widgets.preview_label(row, item.service, item.job_id,
                              status.operation_title(item.service, item.operation),
                              status.SERVICE_ICONS.get(item.service, "QUESTION"))
        if status.is_active(item.state) and item.progress >= 0:
            sub = row.row(align=True)
            sub.ui_units_x = 3
            widgets.progress(sub, item.progress, f"{item.progress * 100:.0f}%")
        row.label(text="", icon=status.state_icon(item.state))

    def filter_items(self, context: Any, data: Any, propname: str) -> tuple[list[int], list[int]]:
        items = getattr(data, propname)
        flags = [self.bitflag_filter_item] * len(items)
        if self.filter_name:
            needle = self.filter_name.lower()
            flags = [self.bitflag_filter_item if needle in " ".join((
                i.prompt, i.job_id, status.headline(i.service, i.operation, i.state)
            )).lower() else 0 for i in items]
        # The mirror is oldest first (journal order); the list shows the newest on top.
        order = list(range(len(items) - 1, -1, -1))
        return flags, order


class CONJURE_PT_jobs(widgets.Sidebar, bpy.types.Panel):
    bl_label = "Jobs"
    bl_idname = "CONJURE_PT_jobs"

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        runtime = context.window_manager.conjure
        if not runtime.jobs:
            widgets.lines(layout, "No jobs yet: generate something above", icon="INFO")
            return
        layout.template_list("CONJURE_UL_jobs", "", runtime, "jobs", runtime, "active_index",
                             rows=4)
        item = jobs_list_active(context)
        if item is not None:
            draw_job(layout.box(), item)
            widgets.details(layout, runtime, "job_details_open", status.details(
                [("Job", item.job_id), ("Remote", item.remote_id), ("Parent", item.parent_id)],
                item.error_code, item.message))


def _draw_time(box: Any, item: Any) -> None:
    """How long the job has run, labelled, and the time left where it is known (on the
    progress bar when there is one)."""
    estimate = status.time_left(item.state, item.eta_s, item.eta_at)
    bar = status.is_active(item.state) and item.progress >= 0
    if bar:
        widgets.progress(box, item.progress, f"{item.progress * 100:.0f}%" + (
            f" · {status.about(estimate)}" if estimate is not None else ""))
    timing = status.timing(item.state, item.created_at, item.updated_at,
                           None if bar else estimate)
    if timing:
        widgets.lines(box.column(align=True), timing, "TIME")


def draw_job(box: Any, item: Any) -> None:
    widgets.lines(box.column(align=True),
                  status.headline(item.service, item.operation, item.state),
                  status.state_icon(item.state))
    if item.prompt:
        widgets.lines(box.column(align=True), item.prompt)
    _draw_time(box, item)
    said = status.explain(item.service, item.state, item.message, item.remote_id, item.cost,
                          item.error_code)
    if said:
        failed = item.state in (State.FAILED, State.UNKNOWN)
        widgets.lines(box.column(align=True), "\n".join(said), "ERROR" if failed else "INFO")
    in_scene = session.shown(item.job_id)
    if in_scene == session.LITE:
        widgets.lines(box.column(align=True), "In the scene: the lite model; the full-quality "
                      "one replaces it when it is baked", "SHADING_SOLID")
    elif in_scene == session.FULL:
        widgets.lines(box.column(align=True), "In the scene: the full-quality model",
                      "SHADING_TEXTURE")
    _draw_actions(box.column(align=True), item)


def _draw_actions(col: Any, item: Any) -> None:
    state = item.state
    if status.is_active(state):
        widgets.button(col, "conjure.cancel_job", "Cancel", "CANCEL", job_id=item.job_id)
    if state == State.READY and is_candidates_item(item):
        # Pictures to choose from, not a model: Import would only be refused; the pick is
        # made in the Candidates panel.
        col.label(text="Pick one in the Candidates panel", icon="IMAGE_DATA")
    elif state == State.READY:
        # Only the file that asked imports a result on its own; elsewhere it waits here.
        elsewhere = status.started_elsewhere(item.origin, session.origin())
        if elsewhere:
            widgets.lines(col, elsewhere, "FILE_BLEND")
        widgets.button(col, "conjure.import_result", "Import Here" if elsewhere else "Import",
                       "IMPORT", job_id=item.job_id)
    elif state == State.IMPORTED:
        widgets.button(col, "conjure.import_result", "Re-import", "FILE_REFRESH",
                       job_id=item.job_id)
    elif can_download_again(state, item.remote_id, item.error_code):
        widgets.button(col, "conjure.download_again", "Download Again", "IMPORT",
                       job_id=item.job_id)
    if state in (State.READY, State.IMPORTED):
        widgets.button(col, "conjure.open_result_folder", "Open Result Folder", "FILEBROWSER",
                       job_id=item.job_id)
    library.draw_job(col, item)
    if status.is_active(state):
        return
    # One above the other: side by side, a default sidebar cuts "Remove from List".
    if status.can_retry(state, item.remote_id, item.error_code):
        widgets.button(col, "conjure.retry_job", "Retry", "FILE_REFRESH", job_id=item.job_id)
    widgets.button(col, "conjure.remove_job", "Remove from List", "X", job_id=item.job_id)


classes = (CONJURE_UL_jobs, CONJURE_PT_jobs)
