"""What Conjure's operators share: telling the user what went wrong in words they can act on,
and the split between the blocking ``execute()`` (console, ``blender -b``: wait, then report)
and the interactive ``invoke()`` in a window (submit, return at once; the pump carries on)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bpy

from ..blender import forms, session, settings
from ..blender.pump import ensure_running
from ..blender.steps import SceneSteps
from ..jobs.model import Job
from ..workflow import requests, sequence


def fail(op: bpy.types.Operator, exc: BaseException | str) -> set[str]:
    op.report({"ERROR"}, exc if isinstance(exc, str) else sequence.message(exc))
    return {"CANCELLED"}


def interactive(context: bpy.types.Context) -> bool:
    """True when a window's event loop will run the pump (so ``invoke`` may return at once);
    in ``blender -b`` and the bpy module ``INVOKE_DEFAULT`` must block like ``execute``."""
    return not bpy.app.background and getattr(context, "window", None) is not None


def panel_values(context: bpy.types.Context, service_id: str, operation: str, *,
                 draft: bool = False) -> dict[str, Any]:
    """The panel form's values for an operation (``from_panel=True``); ``draft`` leaves the
    pictures unwritten (enough to price the request)."""
    if draft:
        return forms.draft_values(context, service_id, operation)
    # Refused in the form's words (the field the user typed into); the request is validated
    # again, by parameter names, when it is submitted.
    return dict(forms.checked_values(context, service_id, operation))


def ask_before_spending(op: bpy.types.Operator, context: bpy.types.Context,
                        event: bpy.types.Event,
                        request: Callable[[], requests.Request]) -> set[str] | None:
    """The interactive path's question before a paid job: when its estimate is above the
    service's threshold (preferences) or the balance is known to be short, a confirmation
    whose "Send" runs ``execute``. None: send at once. Only ``invoke`` in a window asks;
    ``execute`` (scripts, ``blender -b``) never does."""
    if not settings.asks_before_spending():
        return None
    try:
        said = session.before_sending(request())
    except sequence.USER_ERRORS:
        return None  # execute() reports what is wrong with the request
    if said.question is None:
        return None
    return confirm(op, context, event, said.text, said.question, "Send")


def confirm(op: bpy.types.Operator, context: bpy.types.Context, event: bpy.types.Event,
            title: str, question: str, confirm_text: str) -> set[str]:
    """Ask ``question`` in a confirmation popup whose ``confirm_text`` button runs ``op``'s
    ``execute``; only for ``invoke`` in a window (without one Blender confirms at once)."""
    wm: Any = context.window_manager
    return set(wm.invoke_confirm(op, event, title=title, message=question,
                                 confirm_text=confirm_text, icon="WARNING"))


def run(op: bpy.types.Operator, context: bpy.types.Context, job: Job,
        plan: sequence.Plan | None = None, *, background: bool) -> set[str]:
    """Carry ``job`` through the workflow: in the background (the pump imports it when it is
    ready) or here, blocking until the model is in the scene."""
    plan = plan or sequence.Plan()
    if background:
        return _start(op, context, job, plan)
    outcome = sequence.run_to_end(job, plan, SceneSteps(context))
    if not outcome.ok:
        return fail(op, outcome.message)
    op.report({"INFO"}, outcome.message)
    return {"FINISHED"}


def _start(op: bpy.types.Operator, context: bpy.types.Context, job: Job,
           plan: sequence.Plan) -> set[str]:
    auto = settings.auto_import()
    # An upload's result is objects already in the file: tagging them is not an import.
    if auto or plan.uploaded:
        session.follow(job.id, plan)
    ensure_running(context)
    label = sequence.service_label(job.service)
    if plan.uploaded:
        op.report({"INFO"}, f"Uploading {len(plan.uploaded)} objects as job {job.id}")
    else:
        op.report({"INFO"}, f"{label} job {job.id} started; it appears in the Jobs list and "
                            f"is {'imported when ready' if auto else 'ready to import when done'}")
    return {"FINISHED"}
