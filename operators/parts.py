"""The Parts panel's buttons: check a part (its objects are selected), select the checked parts
in the viewport, check the selected ones, fold a container, read the part tree again."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..blender import hierarchies, in_place, parts, selection
from . import base

_JOB_ID = StringProperty(name="Job", description="The model's job (its objects' conjure_job_id)",
                         options={"SKIP_SAVE"})


class CONJURE_OT_check_part(bpy.types.Operator):
    """Check or uncheck this part; its objects are selected in the viewport when checked"""

    bl_idname = "conjure.check_part"
    bl_label = "Check Part"
    bl_options = {"REGISTER", "UNDO"}

    job_id: _JOB_ID
    name: StringProperty(name="Part", description="The part's node name",
                         options={"SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        parts.toggle(context.view_layer, self.job_id, self.name)
        return {"FINISHED"}


class CONJURE_OT_select_checked_parts(bpy.types.Operator):
    """Select the checked parts in the viewport (and nothing else)"""

    bl_idname = "conjure.select_checked_parts"
    bl_label = "Select in Viewport"
    bl_options = {"REGISTER", "UNDO"}

    job_id: _JOB_ID

    def execute(self, context: bpy.types.Context) -> set[str]:
        count = parts.select(context.view_layer, self.job_id)
        self.report({"INFO"}, f"Selected {count} objects")
        return {"FINISHED"}


class CONJURE_OT_check_selected_parts(bpy.types.Operator):
    """Check exactly the parts selected in the viewport"""

    bl_idname = "conjure.check_selected_parts"
    bl_label = "Check Selected"
    bl_options = {"REGISTER"}

    job_id: _JOB_ID

    def execute(self, context: bpy.types.Context) -> set[str]:
        names = parts.check_selected(context.view_layer, self.job_id)
        self.report({"INFO"}, f"Checked {len(names)} parts")
        return {"FINISHED"}


class CONJURE_OT_fold_part(bpy.types.Operator):
    """Show or hide the parts inside this one"""

    bl_idname = "conjure.fold_part"
    bl_label = "Fold"
    bl_options = {"INTERNAL"}

    job_id: _JOB_ID
    path: StringProperty(options={"SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        parts.toggle_collapsed(self.job_id, self.path)
        return {"FINISHED"}


class CONJURE_OT_refresh_parts(bpy.types.Operator):
    """Read the model's part tree from Thrixel again"""

    bl_idname = "conjure.refresh_parts"
    bl_label = "Refresh Parts"
    bl_options = {"REGISTER"}

    job_id: _JOB_ID

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            job = selection.source_job(context, self.job_id)
            if hierarchies.request(job, refresh=True) is None:
                return base.fail(self, f"Job {job.id} is not a Thrixel model with parts")
        except Exception as exc:
            return base.fail(self, exc)
        self.report({"INFO"}, "Reading the parts from Thrixel")
        return {"FINISHED"}


class CONJURE_OT_swap_version(bpy.types.Operator):
    """Show the version this edit replaced instead of the current one, or back"""

    bl_idname = "conjure.swap_version"
    bl_label = "Before / After"
    bl_options = {"REGISTER", "UNDO"}

    job_id: _JOB_ID

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            job_id = self.job_id or selection.source_job(context, "").id
            before = in_place.swap(job_id)
        except Exception as exc:
            return base.fail(self, exc)
        self.report({"INFO"}, "Showing the earlier version" if before else
                              "Showing the current version")
        return {"FINISHED"}


classes = (CONJURE_OT_check_part, CONJURE_OT_select_checked_parts,
           CONJURE_OT_check_selected_parts, CONJURE_OT_fold_part, CONJURE_OT_refresh_parts,
           CONJURE_OT_swap_version)
