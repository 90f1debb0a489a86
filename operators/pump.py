"""The main-thread pump: a modal operator on a window-manager timer.

Timers and modal handlers run only in the Blender application with a window. There, one pump is
armed after start-up and after every file load (a load ends running modal operators). In
``blender -b`` and the bpy module, ``execute()`` runs a single tick, and blocking operators call
``engine.run_until`` instead.
"""

from __future__ import annotations

import bpy

from .. import engine

TIMER_INTERVAL_S = 0.1

_pump_alive = False


class CONJURE_OT_pump(bpy.types.Operator):
    """Keep Conjure's job list up to date and hand finished results to the main thread"""

    bl_idname = "conjure.pump"
    bl_label = "Conjure Job Pump"
    bl_options = {"INTERNAL"}

    _timer = None

    def execute(self, context: bpy.types.Context) -> set[str]:
        engine.tick()
        return {"FINISHED"}

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        global _pump_alive
        if _pump_alive or context.window is None:
            return {"CANCELLED"}
        engine.get()
        wm = context.window_manager
        self._timer = wm.event_timer_add(TIMER_INTERVAL_S, window=context.window)
        wm.modal_handler_add(self)
        _pump_alive = True
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if engine.pump_stop_requested:
            self._finish(context)
            return {"CANCELLED"}
        if event.type == "TIMER":
            engine.tick()
        return {"PASS_THROUGH"}

    def cancel(self, context: bpy.types.Context) -> None:
        self._finish(context)

    def _finish(self, context: bpy.types.Context) -> None:
        global _pump_alive
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
        _pump_alive = False


def pump_alive() -> bool:
    return _pump_alive


def arm() -> None:
    """Start the pump in the first window, from a timer (handlers cannot start modals)."""
    if not bpy.app.background and not bpy.app.timers.is_registered(_arm_now):
        bpy.app.timers.register(_arm_now, first_interval=0.2)


def _arm_now() -> float | None:
    wm = bpy.context.window_manager
    if _pump_alive or engine.pump_stop_requested:
        return None
    if wm is None or not wm.windows:
        return 0.5
    window = wm.windows[0]
    with bpy.context.temp_override(window=window, screen=window.screen):
        bpy.ops.conjure.pump("INVOKE_DEFAULT")  # type: ignore[attr-defined]
    return None


@bpy.app.handlers.persistent
def _after_load(*_args: object) -> None:
    engine.rebuild_mirror()
    arm()


def disarm() -> None:
    if bpy.app.timers.is_registered(_arm_now):
        bpy.app.timers.unregister(_arm_now)


classes = (CONJURE_OT_pump,)
handlers = ((bpy.app.handlers.load_post, _after_load),)
