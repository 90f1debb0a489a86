"""The Generate panel: service, mode, prompt, pictures and the operation's common options, its
rarer ones folded under Advanced, then why nothing can be sent yet, the balance, the estimate
and Generate. Blender's own layout: labels left, values right, no animation decorators."""

from __future__ import annotations

from typing import Any

import bpy

from ..blender import forms, textfit
from ..providers import registry
from ..providers.params import Operation
from ..providers.services import BY_ID
from ..workflow import formspec
from ..workflow.requests import Request
from . import widgets

#: The Advanced fold's id: Blender keeps whether it is open with the panel.
ADVANCED = "CONJURE_generate_advanced"


def _chosen(context: Any) -> tuple[str, Operation]:
    service_id, name = forms.selected(context)
    return service_id, registry.operation(service_id, name)


class CONJURE_PT_generate(widgets.Sidebar, bpy.types.Panel):
    bl_label = "Generate"
    bl_idname = "CONJURE_PT_generate"

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        state = forms.state(context)
        layout.prop(state, "service")
        service_id, op = _chosen(context)
        layout.prop(state, f"mode_{service_id}")
        if op.description:
            widgets.note(layout, op.description)
        param = op.param_for("prompt")
        if param is not None:
            draw_prompt(layout, state, "prompt", param.title)
        forms.draw_pictures(layout, context, op)
        if op.mode == "upload":
            widgets.button(layout, "conjure.upload_selection", "Upload Selected Objects", "EXPORT")
        forms.draw_fields(layout.column(), context, op, formspec.common(op))
        draw_advanced(layout, context, op)
        draw_submit(layout, context, service_id, op)


def draw_prompt(layout: Any, state: Any, role: str, title: str) -> None:
    """The prompt over the panel's whole width, its title above it beside a button that
    opens it in a wide dialog; a prompt longer than the field shows is also written out in
    full below it."""
    column = layout.column(align=True)
    column.use_property_split = False
    row = column.row()
    row.label(text=title)
    row.operator("conjure.edit_prompt", text="", icon="TEXT", emboss=False).role = role
    column.prop(state, role, text="")
    text = getattr(state, role)
    if text and not textfit.fits(text, textfit.content_px()):
        widgets.note(layout, text)


def draw_advanced(layout: Any, context: Any, op: Operation) -> None:
    """The operation's rarer options, folded (closed at first), before the Generate button:
    a negative prompt where the operation takes one as an advanced option, then the rest."""
    negative = op.param_for("negative_prompt")
    fields = formspec.advanced(op)
    if not fields and negative is None:
        return
    header, body = layout.panel(ADVANCED, default_closed=True)
    header.label(text="Advanced")
    if body is None:
        return
    if negative is not None:
        draw_prompt(body, forms.state(context), "negative_prompt", negative.title)
    forms.draw_fields(body.column(), context, op, fields)


def draw_submit(layout: Any, context: Any, service_id: str, op: Operation) -> None:
    column = layout.column()
    column.use_property_split = False
    ready = widgets.service_ready(column, service_id)
    widgets.balance(column, service_id)
    widgets.before_sending(column, Request(service_id, op.name,
                                           forms.draft_values(context, service_id, op.name)))
    problem = forms.problem(context, service_id, op.name)
    if problem:
        widgets.lines(column, problem, "ERROR")
    row = column.row()
    row.scale_y = 1.5
    row.enabled = ready and problem is None
    widgets.button(row, "conjure.generate", f"Generate{'' if op.paid else ' (free)'}", "PLAY",
                   provider=BY_ID[service_id].public_name, mode=op.name, from_panel=True)


classes = (CONJURE_PT_generate,)
