"""``conjure.pump``: the modal operator that runs the pump's tick on a window-manager timer
(see ``blender.pump``). ``execute()`` runs a single tick (for scripts and tests)."""

from __future__ import annotations

import bpy

from ..blender import pump, session

TIMER_INTERVAL_S = 0.1


class CONJURE_OT_pump(bpy.types.Operator):
    """Keep Conjure's job list up to date and hand finished results to the main thread"""

    bl_idname = "conjure.pump"
    bl_label = "Conjure Job Pump"
    bl_options = {"INTERNAL"}

    _timer = None

    def execute(self, context: bpy.types.Context) -> set[str]:
        pump.tick()
        return {"FINISHED"}

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if session.pump.alive or context.window is None:
            return {"CANCELLED"}
        session.get()
        wm = context.window_manager
        self._timer = wm.event_timer_add(TIMER_INTERVAL_S, window=context.window)
        wm.modal_handler_add(self)
        session.pump.alive = True
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if session.pump.stop_requested:
            self._finish(context)
            return {"CANCELLED"}
        if event.type == "TIMER":
            pump.tick()
        return {"PASS_THROUGH"}

    def cancel(self, context: bpy.types.Context) -> None:
        self._finish(context)

    def _finish(self, context: bpy.types.Context) -> None:
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
        session.pump.alive = False


classes = (CONJURE_OT_pump,)
