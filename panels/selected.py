"""The Selected Model panel: where the active object came from (service, job, prompt, parent) and
the follow-ups its service offers, pre-filled with the right job."""

from __future__ import annotations

from typing import Any

import bpy

from ..blender import forms, hierarchies, parts, session
from ..jobs.model import Job
from ..providers.params import Operation
from ..providers.services import BY_ID, current_id
from ..workflow import formspec, lineage, sequence, status
from ..workflow.requests import Request
from . import library, widgets


def _selected_service(context: Any) -> tuple[Any, str]:
    ob = context.active_object
    job_id = str(ob.get("conjure_job_id", "")) if ob is not None else ""
    return ob, job_id


def follow_up(context: Any, service_id: str) -> Operation | None:
    name = getattr(forms.state(context), f"follow_up_{service_id}", "")
    return next((op for op in forms.follow_up_ops(service_id) if op.name == name), None)


def _fields(layout: Any, job: Job | None, op: Operation) -> list[formspec.Field]:
    """The follow-up's common fields; for a model with parts, the Parts panel below chooses
    them (a text field here would disagree with its checks), so they are only named here."""
    fields = formspec.common(op)
    if job is None or "focus_on_node_names" not in op.by_name or \
            not hierarchies.offers_parts(job):
        return fields
    focus = parts.focus(job, hierarchies.known(job))
    layout.label(text=f"Parts: {', '.join(focus) if focus else 'the whole model'}",
                 icon="MESH_DATA")
    return [f for f in fields if f.param.name != "focus_on_node_names"]


def _draw_origin(box: Any, service_id: str, job: Job | None) -> None:
    """Where the model came from: the service, the operation and its state, the prompt in
    full and the model it was made from (the ids are in *Details*)."""
    icon = status.SERVICE_ICONS.get(service_id, "QUESTION")
    if job is None:
        box.label(text=sequence.service_label(service_id), icon=icon)
        widgets.lines(box.column(align=True), "This job is not in this computer's journal",
                      "INFO")
        return
    widgets.lines(box.column(align=True), status.headline(job.service, job.operation), icon)
    widgets.lines(box.column(align=True), status.state_words(job.state),
                  status.state_icon(job.state))
    prompt = formspec.job_prompt(job.service, job.operation, job.params)
    if prompt:
        widgets.lines(box.column(align=True), prompt)
    if job.parent_id:
        parent = session.find(job.parent_id)
        if parent is None:
            said = "Made from an earlier model that is no longer in the list"
        else:
            what = formspec.job_prompt(parent.service, parent.operation, parent.params)
            said = f"Made from: {status.operation_title(parent.service, parent.operation)}" + (
                f" of “{what}”" if what else "")
        widgets.lines(box.column(align=True), said, "LINKED")


class CONJURE_PT_selected(widgets.Sidebar, bpy.types.Panel):
    bl_label = "Selected Model"
    bl_idname = "CONJURE_PT_selected"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return bool(_selected_service(context)[1])

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        ob, job_id = _selected_service(context)
        job = session.find(job_id)
        service_id = job.service if job else current_id(str(ob.get("conjure_provider", "")))
        remote_id = (job.remote_id if job else None) or str(ob.get("conjure_remote_id", ""))
        box = layout.box()
        widgets.preview(box, service_id, job_id, 8.0)
        _draw_origin(box, service_id, job)
        library.draw_selected(box, job)
        widgets.details(layout, context.window_manager.conjure, "model_details_open",
                        status.details([("Job", job_id), ("Remote", remote_id),
                                        ("Parent", (job.parent_id or "") if job else ""),
                                        ("Node", str(ob.get("conjure_node_name", "")))]))
        ops = forms.follow_up_ops(service_id)
        if not ops:
            return
        layout.label(text="Follow-up")
        # A menu, not a row of tabs: the titles are read whole, however many the service has.
        layout.prop(forms.state(context), f"follow_up_{service_id}", text="")
        op = follow_up(context, service_id)
        if op is None:
            return
        if op.description:
            widgets.lines(layout.column(align=True), op.description)
        forms.draw_fields(layout.column(), context, op, _fields(layout, job, op))
        ready = widgets.service_ready(layout, service_id)
        widgets.before_sending(layout, Request(service_id, op.name,
                                               forms.draft_values(context, service_id, op.name)))
        if not remote_id:
            layout.label(text="The service has no id for this model yet", icon="ERROR")
        refused = lineage.refusal(job, op.name, session.find) if job is not None else None
        problem = refused or forms.problem(context, service_id, op.name)
        if problem:
            widgets.lines(layout, problem, "ERROR")
        row = layout.row()
        row.scale_y = 1.3
        row.enabled = ready and bool(remote_id) and problem is None
        widgets.button(row, "conjure.follow_up", f"{op.label}{'' if op.paid else ' (free)'}",
                       "PLAY", job_id=job_id, operation=op.name, from_panel=True)


class CONJURE_PT_selected_advanced(widgets.AdvancedOptions, bpy.types.Panel):
    bl_idname = "CONJURE_PT_selected_advanced"
    bl_parent_id = "CONJURE_PT_selected"

    @classmethod
    def operation(cls, context: Any) -> Operation | None:
        ob, job_id = _selected_service(context)
        if not job_id:
            return None
        job = session.find(job_id)
        service_id = job.service if job else current_id(str(ob.get("conjure_provider", "")))
        return follow_up(context, service_id) if service_id in BY_ID else None


classes = (CONJURE_PT_selected, CONJURE_PT_selected_advanced)
