"""The Blender side of the workflow's steps (``workflow.sequence.Steps``): sending through the
session, waiting with progress lines, importing a result into the scene, tagging uploaded
objects. Main thread only; no HTTP here (the session's workers do that)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import bpy

from ..jobs.model import Job, State
from ..workflow import sequence
from ..workflow.requests import Request
from . import scene_import, session, settings


def import_job(context: bpy.types.Context, job: Job) -> list[bpy.types.Object]:
    """Import a ready (or earlier imported) job from its local files and mark it imported;
    where its lite model is in this file, the result replaces it. A job still being finished
    brings its lite model in (``sequence.has_preview``). Works offline and after the service's
    links expired: only the result folder is read."""
    paths = session.result_paths(job)
    sequence.check_importable(job, paths)
    name, prefs, remote_id = (sequence.collection_name(job), settings.import_settings(),
                              job.remote_id or "")
    if sequence.has_preview(job):
        objects = scene_import.import_result(
            context, service=job.service, job_id=job.id, remote_id=remote_id, paths=paths,
            name=name, settings=prefs, lite=True)
        session.showing(job.id, session.LITE)
        return objects
    lite = scene_import.lite_objects(job.id) if job.state == State.READY else []
    if lite:
        objects = scene_import.replace_result(
            context, lite, service=job.service, job_id=job.id, remote_id=remote_id,
            paths=paths, settings=prefs)
        session.showing(job.id, session.FULL)
    else:
        objects = scene_import.import_result(
            context, service=job.service, job_id=job.id, remote_id=remote_id, paths=paths,
            name=name, settings=prefs)
    session.mark_imported(job)
    return objects


def tag_uploaded(job: Job, names: tuple[str, ...]) -> int:
    """The objects an upload sent become the job's model, exactly as if it had been imported
    (the exporter names each node after its object, so that is the part name there)."""
    objects = [bpy.data.objects[name] for name in names if name in bpy.data.objects]
    for ob in objects:
        scene_import.tag(ob, job.service, job.id, job.remote_id or "", ob.name)
    if job.state == State.READY:
        session.mark_imported(job)
    return len(objects)


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
        objects = import_job(self.context, job)
        return sequence.Imported(len(objects), objects[0].users_collection[0].name)

    def tag(self, job: Job, names: tuple[str, ...]) -> int:
        return tag_uploaded(job, names)
