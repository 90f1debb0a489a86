"""``conjure.upload_selection``: send the selected objects to a service as your own model (Thrixel
Phase 5), so they can be refined, edited or detailed there like a generated one.

The selection is exported to a .glb in the extension's user folder (kept: the job reads it when
it is sent, possibly after a restart). When the upload is done, the selected objects are tagged
with the new job, exactly as an imported model would be, so follow-ups find it from them.
"""

from __future__ import annotations

import time
from typing import Any, cast

import bpy
from bpy.props import BoolProperty, StringProperty

from .. import engine
from ..importers.scene import accepted_options
from ..jobs.model import Job, State
from ..providers import registry
from ..providers.errors import InvalidRequestError
from ..providers.services import BY_OP_ID
from . import common


def upload_operation(service_id: str) -> str:
    for op in registry.operations(service_id):
        if op.mode == "upload":
            return op.name
    raise InvalidRequestError(f"{service_id}: this service takes no model uploads",
                              field="provider")


def export_selection(context: bpy.types.Context) -> str:
    selected = list(getattr(context, "selected_objects", []) or [])
    if not selected:
        raise ValueError("Select the objects to upload first")
    folder = engine.user_dir() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"selection-{time.strftime('%Y%m%d-%H%M%S')}-{len(selected)}.glb"
    exporter = cast(Any, bpy.ops).export_scene.gltf
    options = accepted_options(exporter, {"export_format": "GLB", "use_selection": True,
                                          "export_apply": True, "export_extras": True})
    if "FINISHED" not in exporter(filepath=str(path), **options):
        raise ValueError("Blender's glTF exporter could not export the selection")
    return str(path)


def tag(objects: list[bpy.types.Object], job: Job) -> None:
    for ob in objects:
        ob["conjure_provider"] = job.provider
        ob["conjure_job_id"] = job.id
        ob["conjure_remote_id"] = job.remote_id or ""
        # The exporter names each node after its object, so that is the part name there.
        ob["conjure_node_name"] = ob.name


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
            service = BY_OP_ID.get(self.provider.upper())
            if service is None:
                raise InvalidRequestError(f"provider: unknown service {self.provider!r}",
                                          field="provider")
            operation = upload_operation(service.id)
            selected = list(context.selected_objects)
            path = export_selection(context)
            params: dict[str, Any] = {"glb_file": path}
            if self.label.strip():
                params["task"] = self.label.strip()
            job = engine.submit(service.id, operation, params)
            names = [ob.name for ob in selected]
            if self.background_job:
                from . import pump

                # The result is the selection itself: tag it when done, import nothing.
                engine.want_import(job.id)
                pump.tag_when_ready(job.id, names)
                pump.ensure_running(context)
                self.report({"INFO"}, f"Uploading {len(names)} objects as job {job.id}")
                return {"FINISHED"}
            [job] = common.wait([job.id])
            problem = common.finished_problem(job)
            if problem:
                return common.fail(self, problem)
            tag([bpy.data.objects[n] for n in names if n in bpy.data.objects], job)
            if job.state == State.READY:
                engine.mark_imported(job)
        except Exception as exc:
            return common.fail(self, exc)
        self.report({"INFO"}, f"Uploaded {len(names)} objects as {service.label} job {job.id} "
                              f"({job.remote_id})")
        return {"FINISHED"}

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        self.background_job = common.interactive(context)
        return self.execute(context)


classes = (CONJURE_OT_upload_selection,)
