"""Operators on jobs in the list: cancel, import (or re-import from the local cache), download a
result again after its download failed, send a failed job again, remove from the list, open the
result folder, pick a Voxel-AI candidate, copy ids."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, IntProperty, StringProperty

from ..blender import session
from ..blender.steps import SceneSteps, land
from ..jobs.model import Job
from ..workflow import cost, requests, sequence, status
from . import base

_JOB_ID = StringProperty(name="Job", description="The job's id in Conjure's job list")


class CONJURE_OT_cancel_job(bpy.types.Operator):
    """Stop a job; asks the service to cancel it where the service allows that"""

    bl_idname = "conjure.cancel_job"
    bl_label = "Cancel Job"
    bl_options = {"REGISTER"}

    job_id: _JOB_ID

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            job = session.job(self.job_id)
            if job.finished:
                return base.fail(self, f"Job {job.id} already ended "
                                       f"({status.state_words(job.state).lower()}); nothing to "
                                       "cancel")
            job = session.cancel(job.id)
            session.tick()
        except Exception as exc:
            return base.fail(self, exc)
        self.report({"INFO"}, f"Cancelling job {job.id}")
        return {"FINISHED"}


class CONJURE_OT_import_result(bpy.types.Operator):
    """Import a finished job's model into the scene from the local copy (again, if it was
    imported before); needs no network, so it works after the service's links expired"""

    bl_idname = "conjure.import_result"
    bl_label = "Import Result"
    bl_options = {"REGISTER", "UNDO"}

    job_id: _JOB_ID

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            landed = land(context, session.job(self.job_id))
            session.tick()
        except Exception as exc:
            return base.fail(self, exc)
        self.report({"INFO"}, landed.summary or f"Imported {landed.count} objects into "
                                                f"{landed.collection}")
        return {"FINISHED"}


class _JobAgain(bpy.types.Operator):
    """Does a job's work again (``again``) and carries the job on as Generate does: blocking
    from a script, in the background from the sidebar."""

    job_id: _JOB_ID
    background_job: BoolProperty(options={"HIDDEN", "SKIP_SAVE"})

    def again(self, job_id: str) -> Job:
        raise NotImplementedError

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            job = self.again(self.job_id)
            session.tick()
            return base.run(self, context, job, background=self.background_job)
        except Exception as exc:
            return base.fail(self, exc)


class CONJURE_OT_download_again(_JobAgain):
    """Fetch a job's result from the service again after its download failed (for example
    once a download limit was raised), then import it like a new result"""

    bl_idname = "conjure.download_again"
    bl_label = "Download Again"
    bl_options = {"REGISTER", "UNDO"}

    def again(self, job_id: str) -> Job:
        return session.download_again(job_id)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        self.background_job = base.interactive(context)
        return self.execute(context)


class CONJURE_OT_retry_job(_JobAgain):
    """Send a job that failed again, as a new job with the same inputs. Asks first when the
    failed one reached the service, saying whether it was charged"""

    bl_idname = "conjure.retry_job"
    bl_label = "Retry"
    bl_options = {"REGISTER", "UNDO"}

    def again(self, job_id: str) -> Job:
        return session.retry(job_id)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        self.background_job = base.interactive(context)
        if not self.background_job:
            return self.execute(context)  # scripts and blender -b never ask
        try:
            failed = session.job(self.job_id)
        except LookupError as exc:
            return base.fail(self, exc)
        question = status.retry_question(failed.service, failed.state, failed.remote_id or "",
                                         cost.charge_words(failed))
        if question is not None:
            return base.confirm(self, context, event, "Send this job again?", question,
                                "Send Again")
        # Never sent: nothing to charge twice, so only the price may ask (as Generate does).
        asked = base.ask_before_spending(self, context, event, lambda: requests.Request(
            failed.service, failed.operation, dict(failed.params), failed.parent_id))
        return asked if asked is not None else self.execute(context)


class CONJURE_OT_remove_job(bpy.types.Operator):
    """Remove a finished job from the list. Its downloaded files stay in the result folder"""

    bl_idname = "conjure.remove_job"
    bl_label = "Remove from List"
    bl_options = {"REGISTER"}

    job_id: _JOB_ID

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            session.remove(self.job_id)
        except Exception as exc:
            return base.fail(self, exc)
        self.report({"INFO"}, f"Removed job {self.job_id} from the list; its files are kept")
        return {"FINISHED"}


class CONJURE_OT_open_result_folder(bpy.types.Operator):
    """Show the job's downloaded files in the system's file browser"""

    bl_idname = "conjure.open_result_folder"
    bl_label = "Open Result Folder"
    bl_options = {"REGISTER"}

    job_id: _JOB_ID
    # Scripts and tests want the path, not a file browser window.
    dry_run: BoolProperty(options={"HIDDEN", "SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            job = session.job(self.job_id)
            paths = session.result_paths(job)
            folder = paths[0].parent if paths else None
            if folder is None or not folder.is_dir():
                return base.fail(self, f"Job {job.id} has no downloaded files yet "
                                         f"({status.state_words(job.state).lower()})")
        except Exception as exc:
            return base.fail(self, exc)
        self.report({"INFO"}, str(folder))
        if not self.dry_run and not bpy.app.background:
            bpy.ops.wm.path_open(filepath=str(folder))
        elif not self.dry_run:
            print(folder)
        return {"FINISHED"}


class CONJURE_OT_pick_candidate(bpy.types.Operator):
    """Turn one candidate picture into a model (Voxel-AI: voxelize it) and import it"""

    bl_idname = "conjure.pick_candidate"
    bl_label = "Use This Candidate"
    bl_options = {"REGISTER", "UNDO"}

    job_id: _JOB_ID
    index: IntProperty(name="Candidate", min=0, max=2)
    options: StringProperty(name="Options", description="Further parameters as a JSON object")
    from_panel: BoolProperty(options={"HIDDEN", "SKIP_SAVE"},
                             description="Read the options from the panel's form")
    background_job: BoolProperty(options={"HIDDEN", "SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            source = session.job(self.job_id)
            options: str | dict = self.options
            if self.from_panel:
                step = requests.candidate_operation(source.service, source.operation)
                if step is not None:
                    values = base.panel_values(context, source.service, step.name)
                    image = step.param_for("image")
                    values.pop(image.name if image else "", None)
                    options = values
            job = sequence.pick(source, self.index, options, SceneSteps(context))
            return base.run(self, context, job, background=self.background_job)
        except Exception as exc:
            return base.fail(self, exc)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        self.background_job = base.interactive(context)
        if self.background_job:
            asked = base.ask_before_spending(self, context, event, lambda: self.priced(context))
            if asked is not None:
                return asked
        return self.execute(context)

    def priced(self, context: bpy.types.Context) -> requests.Request:
        """The model job the pick becomes, as far as its price goes (the picture left out)."""
        source = session.job(self.job_id)
        step = requests.candidate_operation(source.service, source.operation)
        if step is None:
            raise LookupError(f"{source.service} turns no picture into a model")
        options = base.panel_values(context, source.service, step.name, draft=True) \
            if self.from_panel else requests.parse_options(self.options)
        return requests.Request(source.service, step.name, options)


class CONJURE_OT_copy_text(bpy.types.Operator):
    """Copy to the clipboard"""

    bl_idname = "conjure.copy_text"
    bl_label = "Copy"
    bl_options = {"INTERNAL"}

    text: StringProperty(options={"SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        context.window_manager.clipboard = self.text
        self.report({"INFO"}, f"Copied {' · '.join(self.text.splitlines())}")
        return {"FINISHED"}


classes = (CONJURE_OT_cancel_job, CONJURE_OT_import_result, CONJURE_OT_download_again,
           CONJURE_OT_retry_job, CONJURE_OT_remove_job, CONJURE_OT_open_result_folder,
           CONJURE_OT_pick_candidate, CONJURE_OT_copy_text)
