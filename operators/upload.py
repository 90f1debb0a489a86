"""``conjure.upload_selection``: send the selected objects to a service as your own model (Thrixel
Phase 5), so they can be refined, edited or detailed there like a generated one.

The selection is exported to a .glb in the extension's user folder. When the upload is done,
the selected objects are tagged with the new job, exactly as an imported model would be, so
follow-ups find it from them.
"""

from __future__ import annotations

from typing import Any

import bpy
from bpy.props import BoolProperty, StringProperty

from ..blender import selection, session
from ..providers import registry, services
from ..providers.errors import InvalidRequestError
from ..workflow import sequence
from ..workflow.requests import Request
from . import base


def upload_operation(service_id: str) -> str:
    for op in registry.operations(service_id):
        if op.mode == "upload":
            return op.name
    raise InvalidRequestError(f"{service_id}: this service takes no model uploads",
                              field="provider")


class CONJURE_OT_upload_selection(bpy.types.Operator):
    """Upload the selected objects as a model to the service (Thrixel), to refine, edit or
    detail them there"""

    bl_idname = "conjure.upload_selection"
    bl_label = "Upload Selection"
    bl_options = {"REGISTER", "UNDO"}

    provider: StringProperty(name="Service", default="THRIXEL")
    label: StringProperty(name="Label", description="What the model is (helps the service)")
    background_job: BoolProperty(options={"HIDDEN", "SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            service = services.find(self.provider)
            if service is None:
                raise InvalidRequestError(f"provider: unknown service {self.provider!r}",
                                          field="provider")
            operation = upload_operation(service.id)
            names = tuple(ob.name for ob in context.selected_objects)
            params: dict[str, Any] = {"glb_file": selection.export_selection(context)}
            if self.label.strip():
                params["task"] = self.label.strip()
            job = session.submit_request(Request(service.id, operation, params))
            return base.run(self, context, job, sequence.Plan(uploaded=names),
                            background=self.background_job)
        except Exception as exc:
            return base.fail(self, exc)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        self.background_job = base.interactive(context)
        return self.execute(context)


classes = (CONJURE_OT_upload_selection,)
