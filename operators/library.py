"""Operators on the Conjure asset library: file a job's result there and show it in an Asset
Browser, write the assets that are missing (after the library was moved)."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..blender import library, session
from . import base


class CONJURE_OT_show_in_asset_browser(bpy.types.Operator):
    """Show this result in Blender's Asset Browser, in the Conjure library (filing it there
    first when it is not yet); without a window, say where its asset file is"""

    bl_idname = "conjure.show_in_asset_browser"
    bl_label = "Show in Asset Browser"
    bl_options = {"REGISTER"}

    job_id: StringProperty(name="Job", description="The job's id in Conjure's job list")

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            text = library.show(context, session.job(self.job_id))
        except Exception as exc:
            return base.fail(self, exc)
        self.report({"INFO"}, text)
        return {"FINISHED"}


class CONJURE_OT_file_in_library(bpy.types.Operator):
    """Write this result into the Conjure asset library (again, when it is there already)"""

    bl_idname = "conjure.file_in_library"
    bl_label = "File in Asset Library"
    bl_options = {"REGISTER"}

    job_id: StringProperty(name="Job", description="The job's id in Conjure's job list")

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            path = library.file_job(session.job(self.job_id))
        except Exception as exc:
            return base.fail(self, exc)
        self.report({"INFO"}, f"Filed job {self.job_id} in the Conjure asset library: {path}")
        return {"FINISHED"}


class CONJURE_OT_rebuild_library(bpy.types.Operator):
    """Write again every asset of the Conjure library whose .blend is missing (after the
    library was moved or files were deleted), from the jobs' result folders"""

    bl_idname = "conjure.rebuild_library"
    bl_label = "Write Missing Assets"
    bl_options = {"REGISTER"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        lines: list[str] = []
        try:
            written, failed = library.rebuild(echo=lines.append)
        except Exception as exc:
            return base.fail(self, exc)
        for line in lines:
            print(line)
        if failed:
            return base.fail(self, f"Wrote {written} assets; {failed} could not be written: "
                                   + "; ".join(lines[-3:]))
        self.report({"INFO"}, f"Wrote {written} missing assets into {library.folder()}"
                    if written else "No asset of the Conjure library is missing")
        return {"FINISHED"}


classes = (CONJURE_OT_show_in_asset_browser, CONJURE_OT_file_in_library,
           CONJURE_OT_rebuild_library)
