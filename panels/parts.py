"""The Parts panel (inside Selected Model, for Thrixel models): the model's part tree with face
counts, a checkbox per part kept in step with the viewport selection, and the focused edit and
detail of the checked parts."""

from __future__ import annotations

from typing import Any

import bpy

from ..blender import forms, hierarchies, in_place, parts, selection
from ..jobs.model import Job
from ..providers import registry
from ..providers.thrixel.hierarchy import Hierarchy
from ..workflow import formspec
from ..workflow import parts as part_rows
from . import widgets

#: Indentation of one tree level, in separator units.
INDENT = 1.2


def model_job(context: Any) -> Job | None:
    """The job of the active object's model, when it is a Thrixel model with parts."""
    ob = context.active_object
    if ob is None or not ob.get("conjure_job_id"):
        return None
    try:
        job = selection.job_of_object(ob)
    except LookupError:
        return None
    return job if hierarchies.offers_parts(job) else None


def _tree(layout: Any, job: Job) -> Hierarchy | None:
    """The part tree if it is in; otherwise says why not (reading, failed)."""
    answer = hierarchies.request(job)
    tree = hierarchies.known(job)
    row = layout.row(align=True)
    if tree is not None:
        count = len([r for r in part_rows.rows(tree) if not r.container])
        row.label(text=f"{count} parts · {tree.total_faces:,} faces", icon="MESH_DATA")
    elif answer is not None and answer.pending:
        row.label(text="Reading the parts from Thrixel…", icon="SORTTIME")
    else:
        row.label(text="Parts unavailable", icon="ERROR")
    row.operator("conjure.refresh_parts", text="", icon="FILE_REFRESH").job_id = job.id
    if tree is None and answer is not None and not answer.pending and answer.text:
        widgets.lines(layout, answer.text, "ERROR")
    return tree


def _rows(layout: Any, job: Job, tree: Hierarchy) -> None:
    checked = parts.checked(job.id)
    folded_paths = parts.collapsed(job.id)
    in_scene = parts.objects_by_part(job.id)
    column = layout.column(align=True)
    for row in part_rows.rows(tree, folded_paths):
        line = column.row(align=True)
        for _ in range(row.depth):
            line.separator(factor=INDENT)
        if row.container:
            folded = row.path in folded_paths
            fold = line.operator("conjure.fold_part", text="", emboss=False,
                                 icon="DISCLOSURE_TRI_RIGHT" if folded else "DISCLOSURE_TRI_DOWN")
            fold.job_id, fold.path = job.id, row.path
        else:
            line.label(text="", icon="BLANK1")
        split = line.split(factor=0.75, align=True)
        # Dimmed: a part with no object in this scene (the user deleted it).
        split.active = row.name in in_scene
        left = split.row(align=True)
        left.alignment = "LEFT"
        name = row.name + (f" ({row.same_name}×)" if row.same_name > 1 else "")
        check = left.operator("conjure.check_part", text=name, emboss=False,
                              icon="CHECKBOX_HLT" if row.name in checked else "CHECKBOX_DEHLT")
        check.job_id, check.name = job.id, row.name
        right = split.row(align=True)
        right.alignment = "RIGHT"
        right.label(text=f"{row.faces:,}")


def focus_summary(job: Job, tree: Hierarchy | None) -> str:
    """What an edit or detail from the panel will change and hold, in words."""
    names = parts.focus(job, tree)
    if not names:
        which = "Every part is checked" if parts.checked(job.id) else "No parts checked"
        return f"{which}: an edit or detail may change the whole model"
    held = [n for n in (tree.part_names() if tree else []) if n not in names]
    text = f"Changes {', '.join(names)}"
    if held:
        text += f"; holds {', '.join(held)} identical"
    return text


def _focused(layout: Any, context: Any, job: Job, tree: Hierarchy | None) -> None:
    box = layout.box()
    widgets.lines(box.column(align=True), focus_summary(job, tree), "INFO")
    edit = registry.operation("thrixel", "edit")
    request = next(f for f in formspec.fields(edit) if f.param.name == "modification_request")
    forms.draw_field(box, context, edit, request)
    count = len(parts.focus(job, tree))
    what = f"{count} Part{'s' if count != 1 else ''}" if count else "Whole Model"
    buttons = box.column(align=True)
    buttons.enabled = widgets.service_ready(box, "thrixel")
    widgets.button(buttons, "conjure.edit", f"Edit {what}", "GREASEPENCIL", job_id=job.id,
                   from_panel=True)
    widgets.button(buttons, "conjure.detail", f"Detail {what}", "SHADING_TEXTURE",
                   job_id=job.id, from_panel=True)


class CONJURE_PT_parts(widgets.Sidebar, bpy.types.Panel):
    bl_label = "Parts"
    bl_idname = "CONJURE_PT_parts"
    bl_parent_id = "CONJURE_PT_selected"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return model_job(context) is not None

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        job = model_job(context)
        if job is None:
            return
        tree = _tree(layout, job)
        if tree is not None:
            _rows(layout, job, tree)
            pair = layout.column(align=True)
            widgets.button(pair, "conjure.select_checked_parts", "Select in Viewport",
                           "RESTRICT_SELECT_OFF", job_id=job.id)
            widgets.button(pair, "conjure.check_selected_parts", "Check Selected",
                           "CHECKMARK", job_id=job.id)
        _focused(layout, context, job, tree)
        if in_place.latest_version(job.id) is not None:
            before = in_place.showing_before(job.id)
            widgets.button(layout, "conjure.swap_version",
                           "Show Current Version" if before else "Show Version Before This Edit",
                           "LOOP_BACK" if not before else "LOOP_FORWARDS", job_id=job.id)


classes = (CONJURE_PT_parts,)
