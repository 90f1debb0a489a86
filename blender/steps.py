"""The Blender side of the workflow's steps (``workflow.sequence.Steps``): sending through the
session, waiting with progress lines, importing a result into the scene, tagging uploaded
objects. Main thread only; no HTTP here (the session's workers do that)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import bpy

from ..formats import gltf_parts
from ..jobs.model import Job, State
from ..workflow import lineage, sequence
from ..workflow.requests import Request
from . import hierarchies, in_place, library, scene_import, session, settings


def land(context: bpy.types.Context, job: Job, *, filing: bool = True) -> sequence.Imported:
    """Bring a ready (or earlier imported) job's result into the scene from its local files
    and mark it imported: in place of its parent's parts when it is an edit (or focused
    detail) of a model in this scene, in place of its own lite model when that is here, else
    as a model of its own. A job still being finished brings its lite model in
    (``sequence.has_lite``). Works offline and after the service's links expired: only the
    result folder is read. With the File Results in the Library preference (and ``filing``)
    the result is also filed in the asset library."""
    paths = session.result_paths(job)
    sequence.check_importable(job, paths)
    if sequence.has_lite(job):
        objects = _import(context, job, paths, lite=True)
        session.showing(job.id, session.LITE)
        return sequence.Imported(len(objects), objects[0].users_collection[0].name, objects)
    files = scene_import.model_files(paths)
    path = files[0] if files else None
    prefs = settings.import_settings()
    found = in_place.target(context, job, path)
    lite = in_place.lite_target(job, path) if found is None else None
    if found is not None:
        applied = in_place.apply(context, job, files[0], found, prefs)
        landed = sequence.Imported(
            len(applied.objects), applied.collection, applied.objects,
            f"Applied job {job.id} in place in {applied.collection}: {applied.changed} "
            f"parts changed, {applied.unchanged} kept, {applied.added} new, "
            f"{applied.gone} gone")
    elif lite is not None:
        applied = in_place.apply(context, job, files[0], lite,
                                 dataclasses.replace(prefs, keep_history=False), every_mesh=True)
        for ob in applied.objects:
            ob[scene_import.LITE_TAG] = "full"
        session.showing(job.id, session.FULL)
        landed = sequence.Imported(len(applied.objects), applied.collection, applied.objects)
    else:
        scene_import.remove_objects(scene_import.lite_objects(job.id))  # none that fits
        objects = _import(context, job, paths)
        landed = sequence.Imported(len(objects), objects[0].users_collection[0].name, objects)
    session.mark_imported(job)
    if filing and settings.file_results():
        library.file_quietly(job)
    # Asked for once now, on a worker thread, so the Parts panel and part-name checks have it.
    hierarchies.request(job)
    return landed


def _import(context: bpy.types.Context, job: Job, paths: list[Path],
            lite: bool = False) -> list[bpy.types.Object]:
    return scene_import.import_result(
        context, service=job.service, job_id=job.id, remote_id=lineage.submission_id(job),
        paths=paths, name=sequence.collection_name(job), settings=settings.import_settings(),
        lite=lite)


def lite_wanted(context: bpy.types.Context, job: Job) -> bool:
    """Whether a job's lite model is shown while its full one bakes: not for an edit applied in
    place of its parent's parts (a copy beside them would only be in the way)."""
    files = scene_import.model_files(session.result_paths(job))
    return bool(files) and in_place.target(context, job, files[0]) is None


def import_job(context: bpy.types.Context, job: Job) -> list[bpy.types.Object]:
    """``land``, returning the model's objects (root first)."""
    return list(land(context, job).objects)


def tag_uploaded(job: Job, names: tuple[str, ...]) -> int:
    """The objects an upload sent become the job's model, exactly as if it had been imported
    (the exporter names each node after its object, so that is the part name there, and the
    uploaded file gives each part's mesh digest)."""
    objects = [bpy.data.objects[name] for name in names if name in bpy.data.objects]
    digests = _uploaded_parts(job)
    for ob in objects:
        scene_import.tag(ob, job.service, job.id, job.remote_id or "", ob.name)
        part = digests.get(ob.name)
        if part is not None:
            ob[gltf_parts.NODE_INDEX] = part.index
            if part.digest is not None:
                ob[gltf_parts.MESH_DIGEST] = part.digest
    if job.state == State.READY:
        session.mark_imported(job)
    hierarchies.request(job)
    return len(objects)


def _uploaded_parts(job: Job) -> dict[str, gltf_parts.NodePart]:
    """The uploaded file's nodes by name (the file the upload sent, else its download)."""
    candidates = [Path(str(job.params.get("glb_file") or ""))]
    candidates += scene_import.model_files(session.result_paths(job))
    for path in candidates:
        try:
            return {part.name: part for part in gltf_parts.node_parts(path)}
        except (gltf_parts.GltfPartsError, OSError):
            continue
    return {}


class SceneSteps:
    """Carries out the workflow in the open file: results are imported into ``context``'s
    scene. ``wait`` blocks with progress lines (``echo``); Ctrl-C stops the waiting, not the
    job, which the pump then carries on."""

    def __init__(self, context: bpy.types.Context, echo: Callable[[str], None] = print,
                 timeout: float | None = None) -> None:
        self.context = context
        self.echo = echo
        self.timeout = timeout

    def submit(self, request: Request) -> Job:
        return session.submit_request(request)

    def wait(self, job_ids: list[str]) -> list[Job]:
        try:
            return session.run_blocking(job_ids, echo=self.echo, timeout=self.timeout)
        except KeyboardInterrupt:
            if settings.auto_import():
                for job_id in job_ids:
                    session.follow(job_id)
            raise sequence.StoppedWaiting(
                f"Stopped waiting for job {', '.join(job_ids)}; it continues in the background "
                "and appears in the Jobs list (import it from there when it is ready)") from None

    def result_paths(self, job: Job) -> list[Path]:
        return session.result_paths(job)

    def import_job(self, job: Job) -> sequence.Imported:
        return land(self.context, job)

    def tag(self, job: Job, names: tuple[str, ...]) -> int:
        return tag_uploaded(job, names)
