"""The user folder's cache from the preferences: clear what can be re-created (and results already
imported), and open the folder."""

from __future__ import annotations

from typing import Any

import bpy

from ..blender import session
from ..workflow import cache


class CONJURE_OT_clear_cache(bpy.types.Operator):
    """Delete cached pictures and the results of jobs already imported. Results not yet imported
    are kept"""

    bl_idname = "conjure.clear_cache"
    bl_label = "Clear Cache"
    bl_options = {"INTERNAL"}

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        plan = session.clear_plan()
        message = (f"Delete {cache.human_size(plan.size)} (cached pictures and results of "
                   f"imported jobs; they can no longer be re-imported)? {len(plan.keep)} "
                   "result folder(s) of jobs not yet imported are kept.")
        wm: Any = context.window_manager
        try:
            return wm.invoke_confirm(
                self, event, title="Clear Conjure Cache", message=message, confirm_text="Clear",
                icon="WARNING")
        except TypeError:  # older signature without title and message
            return wm.invoke_confirm(self, event)

    def execute(self, context: bpy.types.Context) -> set[str]:
        freed, kept = session.clear_cache()
        self.report({"INFO"}, f"Freed {cache.human_size(freed)}; kept {kept} "
                              "result folder(s) of jobs not yet imported")
        return {"FINISHED"}


class CONJURE_OT_open_cache_folder(bpy.types.Operator):
    """Open Conjure's folder of results and cached pictures in the file browser"""

    bl_idname = "conjure.open_cache_folder"
    bl_label = "Open Cache Folder"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        folder = session.user_dir()
        if bpy.app.background:
            print(f"[conjure] {folder}")
            return {"FINISHED"}
        bpy.ops.wm.path_open(filepath=str(folder))
        return {"FINISHED"}


classes = (CONJURE_OT_clear_cache, CONJURE_OT_open_cache_folder)
