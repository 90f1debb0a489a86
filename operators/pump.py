"""The main-thread pump: a modal operator on a window-manager timer.

Timers and modal handlers run only in the Blender application with a window. There, one pump is
armed after start-up and after every file load (a load ends running modal operators). In
``blender -b`` and the bpy module, ``execute()`` runs a single tick, and blocking operators call
``engine.run_blocking`` instead.

Each tick mirrors the workers' news onto the WindowManager and then imports at most one job that
became ready and was asked for (auto-import), so a tick stays short even when several finish.
"""

from __future__ import annotations

from typing import Any

import bpy

from .. import engine, inputs
from ..jobs.model import Job
from ..providers.redaction import log

TIMER_INTERVAL_S = 0.1

_pump_alive = False


class CONJURE_OT_pump(bpy.types.Operator):
    """Keep Conjure's job list up to date and hand finished results to the main thread"""

    bl_idname = "conjure.pump"
    bl_label = "Conjure Job Pump"
    bl_options = {"INTERNAL"}

    _timer = None

    def execute(self, context: bpy.types.Context) -> set[str]:
        tick()
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
            tick()
        return {"PASS_THROUGH"}

    def cancel(self, context: bpy.types.Context) -> None:
        self._finish(context)

    def _finish(self, context: bpy.types.Context) -> None:
        global _pump_alive
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
        _pump_alive = False


#: Candidates jobs whose pick was decided at submit (``candidate_index``): job id → (index,
#: options). Kept in memory: after a restart the candidates are offered in the panel instead.
_picks: dict[str, tuple[int, str | dict[str, Any] | None]] = {}


def pick_when_ready(job_id: str, index: int, options: str | dict[str, Any] | None = None) -> None:
    _picks[job_id] = (index, options)


#: Upload jobs whose result is objects already in the file: job id → their names, tagged when
#: the upload is done instead of importing a copy.
_uploads: dict[str, list[str]] = {}


def tag_when_ready(job_id: str, names: list[str]) -> None:
    _uploads[job_id] = names


def tick() -> int:
    """One pump step (what the modal timer calls; tests call it by hand): mirror events, then
    import one job that is due. Returns how many jobs changed."""
    changed = engine.tick()
    due = engine.due_imports()
    if due:
        _handle_ready(due[0])
    return changed


def _handle_ready(job: Job) -> None:
    from . import common

    running = engine.get()
    running.autoimport.discard(job.id)
    if job.id in _uploads:
        from .upload import tag

        names = _uploads.pop(job.id)
        tag([bpy.data.objects[n] for n in names if n in bpy.data.objects], job)
        engine.mark_imported(job)
        return
    if inputs.is_candidates(job.result_files):
        choice = _picks.pop(job.id, None)
        if choice is None:
            return  # offered in the Candidates panel: someone picks one there
        try:
            child = common.pick(job, choice[0], choice[1])
        except Exception as exc:
            log.error("could not voxelize candidate %d of job %s: %s", choice[0], job.id,
                      common.message(exc))
            return
        engine.want_import(child.id)
        return
    # Through the operator, so the import is one undo step of its own.
    result = bpy.ops.conjure.import_result(job_id=job.id)  # type: ignore[attr-defined]
    if "FINISHED" not in result:
        log.error("auto-import of job %s failed; it stays ready to import by hand", job.id)


def ensure_running(context: bpy.types.Context) -> None:
    """Start the pump now if it is not running (a file load ends modal operators)."""
    if _pump_alive or bpy.app.background or context.window is None:
        return
    bpy.ops.conjure.pump("INVOKE_DEFAULT")  # type: ignore[attr-defined]


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
