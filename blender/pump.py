"""The main-thread pump: what each tick of the modal timer does, and keeping one pump running.

Timers and modal handlers run only in the Blender application with a window. There, one pump
(the ``conjure.pump`` operator) is armed after start-up and after every file load (a load ends
running modal operators). In ``blender -b`` and the bpy module blocking operators call
``session.run_blocking`` instead.

Each tick mirrors the workers' news onto the WindowManager and then carries on at most one job
that became ready and was asked for (import it, pick its candidate, tag an upload), or else
shows one lite model of a job still being finished (Thrixel's, while its full-quality model
bakes), so a tick stays short even when several finish.
"""

from __future__ import annotations

import bpy

from ..jobs.model import Job
from ..providers.redaction import log
from ..workflow import sequence
from . import session
from .steps import SceneSteps, lite_wanted


def tick() -> int:
    """One pump step (what the modal timer calls; tests call it by hand): mirror events, then
    carry on one job that is due, or else show one lite model. Returns how many jobs changed."""
    changed = session.tick()
    due = session.due()
    if due:
        carry_on(due[0][0])
    else:
        lite = session.lites_due()
        if lite:
            show_lite(lite[0])
    return changed


def show_lite(job: Job) -> None:
    """Put the lite model of a job still being finished into the scene (the result replaces it
    when it is ready); once, even when that fails."""
    session.showing(job.id, session.TRIED)
    if not lite_wanted(bpy.context, job):
        return
    result = bpy.ops.conjure.import_result(job_id=job.id)  # type: ignore[attr-defined]
    if "FINISHED" not in result:
        log.error("the lite model of job %s could not be imported; the full-quality one is "
                  "imported when it is ready", job.id)


def carry_on(job: Job) -> None:
    """The interactive path's next step for a ready job."""
    plan = session.taken(job.id)
    if sequence.decide(job, plan) == sequence.Step.IMPORT:
        # Through the operator, so the import (or an edit applied in place) is one undo step
        # of its own (from Python an operator pushes one only when asked to).
        result = bpy.ops.conjure.import_result(  # type: ignore[attr-defined]
            "EXEC_DEFAULT", True, job_id=job.id)
        if "FINISHED" not in result:
            log.error("auto-import of job %s failed; it stays ready to import by hand", job.id)
        return
    try:
        outcome = sequence.advance(job, plan, SceneSteps(bpy.context))
    except Exception as exc:
        log.error("could not carry on job %s: %s", job.id, sequence.message(exc))
        return
    if outcome is not None and outcome.follow is not None:
        session.follow(outcome.follow.id)


def ensure_running(context: bpy.types.Context) -> None:
    """Start the pump now if it is not running (a file load ends modal operators)."""
    if session.pump.alive or bpy.app.background or context.window is None:
        return
    bpy.ops.conjure.pump("INVOKE_DEFAULT")  # type: ignore[attr-defined]


def arm() -> None:
    """Start the pump in the first window, from a timer (handlers cannot start modals)."""
    if not bpy.app.background and not bpy.app.timers.is_registered(_arm_now):
        bpy.app.timers.register(_arm_now, first_interval=0.2)


def _arm_now() -> float | None:
    wm = bpy.context.window_manager
    if session.pump.alive or session.pump.stop_requested:
        return None
    if wm is None or not wm.windows:
        return 0.5
    window = wm.windows[0]
    with bpy.context.temp_override(window=window, screen=window.screen):
        bpy.ops.conjure.pump("INVOKE_DEFAULT")  # type: ignore[attr-defined]
    return None


@bpy.app.handlers.persistent
def _after_load(*_args: object) -> None:
    session.file_loaded()
    arm()


@bpy.app.handlers.persistent
def _after_save(*_args: object) -> None:
    session.file_saved()


_HANDLERS = ((bpy.app.handlers.load_post, _after_load), (bpy.app.handlers.save_post, _after_save))


def disarm() -> None:
    if bpy.app.timers.is_registered(_arm_now):
        bpy.app.timers.unregister(_arm_now)


def register() -> None:
    session.pump.stop_requested = False
    for handlers, handler in _HANDLERS:
        if handler not in handlers:
            handlers.append(handler)
    arm()


def unregister() -> None:
    session.pump.stop_requested = True
    disarm()
    session.shutdown()
    for handlers, handler in _HANDLERS:
        while handler in handlers:
            handlers.remove(handler)
    session.stop_watching()
    session.forget_answers()
