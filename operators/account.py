"""``conjure.test_key``: ask a service whether its key works (from the preferences). The answer
arrives on a worker thread; ``execute()`` waits for it a while, ``invoke()`` never blocks."""

from __future__ import annotations

import time
from typing import Any

import bpy
from bpy.props import EnumProperty

from ..blender import session, settings
from ..providers.services import BY_ID, SERVICES

#: How long ``execute()`` (scripts, ``blender -b``) waits for a key test before reporting that
#: the answer will appear in the preferences; the interactive path never waits.
TEST_WAIT_S = 15.0

_SERVICE_ITEMS = [(s.id, s.label, "") for s in SERVICES]


class CONJURE_OT_test_key(bpy.types.Operator):
    """Ask the service whether the key works (a cheap authenticated request)"""

    bl_idname = "conjure.test_key"
    bl_label = "Test Key"
    bl_options = {"INTERNAL"}

    service: EnumProperty(name="Service", items=_SERVICE_ITEMS)

    _timer: Any = None
    _started = 0.0

    def _start(self) -> str | None:
        service = BY_ID[self.service]
        if not settings.key(service)[0]:
            return (f"No {service.label} key to test: paste one in the field above or set "
                    f"${service.key_env[0]}")
        if not bpy.app.online_access:
            return session.offline_message()
        session.test_key(self.service)
        return None

    def _finish(self) -> set[str]:
        answer = session.key_tests.peek(session.answer_key(self.service))
        if answer is None or answer.pending:
            self.report({"INFO"}, f"Still waiting for {BY_ID[self.service].label}; the answer "
                                  "will show under its key")
            return {"FINISHED"}
        self.report({"INFO"} if answer.ok else {"ERROR"}, answer.text)
        return {"FINISHED"} if answer.ok else {"CANCELLED"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        refused = self._start()
        if refused:
            self.report({"ERROR"}, refused)
            return {"CANCELLED"}
        deadline = time.monotonic() + TEST_WAIT_S
        while time.monotonic() < deadline:
            answer = session.key_tests.peek(session.answer_key(self.service))
            if answer is not None and not answer.pending:
                break
            time.sleep(0.05)
        return self._finish()

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        refused = self._start()
        if refused:
            self.report({"ERROR"}, refused)
            return {"CANCELLED"}
        self._started = time.monotonic()
        self._timer = context.window_manager.event_timer_add(0.2, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        answer = session.key_tests.peek(session.answer_key(self.service))
        if answer is not None and answer.pending and time.monotonic() - self._started < 60:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        for area in context.screen.areas if context.screen else ():
            area.tag_redraw()
        return self._finish()


classes = (CONJURE_OT_test_key,)
