"""The Generate panel: service, mode, prompt, pictures and the operation's options (the rarer ones
in its Advanced sub-panel), why nothing can be sent yet, the balance, and Generate."""

from __future__ import annotations

from typing import Any

import bpy

from ..blender import forms
from ..providers import registry
from ..providers.params import Operation
from ..providers.services import BY_ID
from ..workflow import formspec
from ..workflow.requests import Request
from . import widgets


def _chosen(context: Any) -> tuple[str, Operation]:
    service_id, name = forms.selected(context)
    return service_id, registry.operation(service_id, name)


class CONJURE_PT_generate(widgets.Sidebar, bpy.types.Panel):
    bl_label = "Generate"
    bl_idname = "CONJURE_PT_generate"

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        state = forms.state(context)
        layout.prop(state, "service")
        service_id, op = _chosen(context)
        layout.prop(state, f"mode_{service_id}")
        if op.description:
            widgets.lines(layout.column(align=True), op.description)
        for role in ("prompt", "negative_prompt"):
            param = op.param_for(role)
            if param is not None:
                layout.prop(state, role, text=param.title)
        shared = {f.shared for f in formspec.fields(op) if f.shared}
        for role in ("image", "images"):
            param = op.param_for(role)
            if param is not None and role in shared:
                field = formspec.field_for(param, op)
                forms.draw_field(layout, context, op, field)
        if op.mode == "upload":
            widgets.button(layout, "conjure.upload_selection", "Upload Selected Objects", "EXPORT")
        forms.draw_fields(layout.column(), context, op, formspec.common(op))
        draw_submit(layout, context, service_id, op)


def draw_submit(layout: Any, context: Any, service_id: str, op: Operation) -> None:
    ready = widgets.service_ready(layout, service_id)
    widgets.balance(layout, service_id)
    widgets.before_sending(layout, Request(service_id, op.name,
                                           forms.draft_values(context, service_id, op.name)))
    problem = forms.problem(context, service_id, op.name)
    if problem:
        widgets.lines(layout, problem, "ERROR")
    row = layout.row()
    row.scale_y = 1.5
    row.enabled = ready and problem is None
    widgets.button(row, "conjure.generate", f"Generate{'' if op.paid else ' (free)'}", "PLAY",
                   provider=BY_ID[service_id].public_name, mode=op.name, from_panel=True)


class CONJURE_PT_generate_advanced(widgets.AdvancedOptions, bpy.types.Panel):
    bl_idname = "CONJURE_PT_generate_advanced"
    bl_parent_id = "CONJURE_PT_generate"

    @classmethod
    def operation(cls, context: Any) -> Operation | None:
        return _chosen(context)[1]


classes = (CONJURE_PT_generate, CONJURE_PT_generate_advanced)
