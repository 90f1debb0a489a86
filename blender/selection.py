"""What the user selected, as Conjure sees it: the job a selected model came from, the parts of
it that are selected, and the selection written out as a model to upload."""

from __future__ import annotations

import time
from typing import Any, cast

import bpy

from ..jobs.model import Job, State
from ..providers.services import BY_ID, current_id
from . import parts, scene_import, session


def job_of_object(ob: bpy.types.Object | None) -> Job:
    """The journal job an imported object came from (its ``conjure_job_id``)."""
    if ob is None:
        raise LookupError("Select a model that Conjure imported (or pass job_id)")
    job_id = ob.get("conjure_job_id")
    if not job_id:
        raise LookupError(f"{ob.name} did not come from Conjure; select a model Conjure "
                          "imported (or pass job_id)")
    try:
        return session.job(str(job_id))
    except LookupError:
        # The job was removed from the list; the object still knows the service's id.
        remote = str(ob.get("conjure_remote_id", ""))
        service = current_id(str(ob.get("conjure_provider", "")))
        if not remote or service not in BY_ID:
            raise
        return Job(service=service, operation="", id=str(job_id), remote_id=remote,
                   state=State.IMPORTED)


def source_job(context: bpy.types.Context, job_id: str) -> Job:
    """``job_id`` when given, else the job of the active (or first selected) object."""
    if job_id.strip():
        return session.job(job_id)
    ob = context.active_object
    if ob is None or not ob.get("conjure_job_id"):
        ob = next((o for o in getattr(context, "selected_objects", []) or []
                   if o.get("conjure_job_id")), ob)
    return job_of_object(ob)


def selected_parts(context: bpy.types.Context, job_id: str | None = None) -> list[str]:
    """Original part names of the selected objects of one Conjure model (``job_id``'s, when
    given), when the user selected some of its parts rather than the whole model."""
    selected = [ob for ob in getattr(context, "selected_objects", []) or []
                if ob.get("conjure_node_name") and parts.is_live(ob)]
    jobs = {ob.get("conjure_job_id") for ob in selected}
    if len(jobs) != 1 or (job_id is not None and jobs != {job_id}):
        return []
    model = parts.model_objects(str(jobs.pop()), context.scene)
    names = list(dict.fromkeys(str(ob["conjure_node_name"]) for ob in selected))
    if len(names) >= len({str(ob["conjure_node_name"]) for ob in model}):
        return []
    return names


def export_selection(context: bpy.types.Context) -> str:
    """The selected objects as a .glb in the user folder (kept: the upload job reads it when it
    is sent, possibly after a restart)."""
    selected = list(getattr(context, "selected_objects", []) or [])
    if not selected:
        raise ValueError("Select the objects to upload first")
    folder = session.user_dir() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"selection-{time.strftime('%Y%m%d-%H%M%S')}-{len(selected)}.glb"
    exporter = cast(Any, bpy.ops).export_scene.gltf
    options = scene_import.accepted_options(exporter, {
        "export_format": "GLB", "use_selection": True, "export_apply": True,
        "export_extras": True})
    if "FINISHED" not in exporter(filepath=str(path), **options):
        raise ValueError("Blender's glTF exporter could not export the selection")
    return str(path)
