"""Follow-ups on an earlier result: ``conjure.follow_up`` for any operation that needs a parent,
and the shortcuts ``conjure.refine``, ``conjure.edit``, ``conjure.detail`` and
``conjure.convert``.

The source is ``job_id`` when given, else the selected model (its ``conjure_job_id``), so nobody
copies ids: the journal job's remote id fills the operation's parent parameter. Blocking
``execute()`` and interactive ``invoke()`` as in ``conjure.generate``.
"""

from __future__ import annotations

from typing import Any

import bpy
from bpy.props import BoolProperty, StringProperty

from ..blender import hierarchies, parts, selection, session
from ..jobs.model import Job
from ..providers import registry
from ..providers.errors import InvalidRequestError
from ..workflow import lineage, requests, sequence
from . import base

#: Per shortcut, the operation name each service uses for it, in order of preference.
SHORTCUTS = {
    "refine": ("refine", "refine_model"),
    "edit": ("edit",),
    "detail": ("detail", "texture_model"),
    "convert": ("convert", "convert_model"),
}


def shortcut_operation(shortcut: str, service_id: str) -> str:
    names = {op.name for op in registry.operations(service_id) if op.needs_parent}
    for name in SHORTCUTS[shortcut]:
        if name in names:
            return name
    raise InvalidRequestError(
        f"{sequence.service_label(service_id)} offers no {shortcut}; its follow-ups are "
        f"{', '.join(sorted(names)) or 'none'} "
        "(use conjure.follow_up(operation=...))", field="operation")


class _FollowUp:
    """Shared body: find the source job, build the request, then block or go to the pump."""

    job_id: str
    options: str
    from_panel: bool
    background_job: bool

    def source(self, context: bpy.types.Context) -> Job:
        return selection.source_job(context, self.job_id)

    def operation_name(self, source: Job) -> str:
        raise NotImplementedError

    def extra(self, context: bpy.types.Context, source: Job) -> dict[str, Any]:
        return {}

    def execute(self, context: bpy.types.Context) -> set[str]:
        return self.run(context)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        self.background_job = base.interactive(context)
        return self.ask_or_run(context, event)

    def ask_or_run(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        """In a window, ask first when the job is dear (``base.ask_before_spending``)."""
        if self.background_job:
            op: Any = self
            asked = base.ask_before_spending(op, context, event,
                                             lambda: self.build_request(context, draft=True))
            if asked is not None:
                return asked
        return self.run(context)

    def build_request(self, context: bpy.types.Context, draft: bool = False) -> requests.Request:
        source = self.source(context)
        name = self.operation_name(source)
        refused = lineage.refusal(source, name, session.find)
        if refused:
            raise InvalidRequestError(refused, field="operation")
        parent_remote_id = lineage.submission_id(source)
        if self.from_panel:
            values = base.panel_values(context, source.service, name, draft=draft)
            op = registry.operation(source.service, name)
            parent = op.param_for("parent")
            if parent is not None:
                values.pop(parent.name, None)  # always the selected source's id, never stale
            if "focus_on_node_names" in op.by_name:
                # The parts checked in the Parts panel, never a stale text field.
                values.pop("focus_on_node_names", None)
                focus = parts.focus(source, hierarchies.known(source))
                if focus:
                    values["focus_on_node_names"] = focus
            return requests.follow_up_request(source.service, name,
                                              parent_remote_id=parent_remote_id,
                                              parent_job_id=source.id, options=values)
        return requests.follow_up_request(source.service, name,
                                          parent_remote_id=parent_remote_id,
                                          parent_job_id=source.id, options=self.options,
                                          resolve_path=bpy.path.abspath,
                                          **self.extra(context, source))

    def checked_request(self, context: bpy.types.Context) -> requests.Request:
        """The request, its part names checked against the model's parts (nothing is sent
        with a name the model does not have)."""
        request = self.build_request(context)
        names = request.params.get("focus_on_node_names") or []
        if names:
            hierarchies.check_parts(self.source(context), names,
                                    blocking=not self.background_job)
        elif "focus_on_node_names" in registry.operation(request.service,
                                                         request.operation).by_name:
            said = "No parts given: Thrixel may change the whole model"
            if self.background_job:
                op: Any = self
                op.report({"INFO"}, said)
            else:  # a report would be printed only once the job is done
                print(f"[conjure] {said}", flush=True)
        return request

    def run(self, context: bpy.types.Context) -> set[str]:
        op: Any = self
        try:
            job = session.submit_request(self.checked_request(context))
            return base.run(op, context, job, background=self.background_job)
        except Exception as exc:
            return base.fail(op, exc)


_JOB_ID = StringProperty(name="Job", description="The job to work on; empty: the selected model")
_OPTIONS = StringProperty(name="Options", description="Further parameters as a JSON object")
_FROM_PANEL = BoolProperty(options={"HIDDEN", "SKIP_SAVE"},
                           description="Read the options from the panel's form")
_BACKGROUND = BoolProperty(options={"HIDDEN", "SKIP_SAVE"})


class CONJURE_OT_follow_up(_FollowUp, bpy.types.Operator):
    """Run a follow-up operation (refine, edit, texture, rig, ...) on the selected model"""

    bl_idname = "conjure.follow_up"
    bl_label = "Follow-up"
    bl_options = {"REGISTER", "UNDO"}

    job_id: _JOB_ID
    operation: StringProperty(name="Operation", description="e.g. refine, edit, texture_model")
    prompt: StringProperty(name="Prompt", description="Goes to the operation's prompt field")
    parts: StringProperty(name="Parts", description="Comma-separated part names (Thrixel)")
    options: _OPTIONS
    from_panel: _FROM_PANEL
    background_job: _BACKGROUND

    def operation_name(self, source: Job) -> str:
        if not self.operation.strip():
            names = [op.name for op in registry.operations(source.service) if op.needs_parent]
            raise InvalidRequestError(f"operation: name one of {', '.join(names)}",
                                      field="operation")
        return self.operation.strip()

    def extra(self, context: bpy.types.Context, source: Job) -> dict[str, Any]:
        return {"prompt": self.prompt, "parts": self.parts}


class CONJURE_OT_refine(_FollowUp, bpy.types.Operator):
    """Refine the selected model (Thrixel auto-refine, Tripo draft refine)"""

    bl_idname = "conjure.refine"
    bl_label = "Refine"
    bl_options = {"REGISTER", "UNDO"}

    job_id: _JOB_ID
    options: _OPTIONS
    from_panel: _FROM_PANEL
    background_job: _BACKGROUND

    def operation_name(self, source: Job) -> str:
        return shortcut_operation("refine", source.service)


class CONJURE_OT_edit(_FollowUp, bpy.types.Operator):
    """Change the selected model in words, optionally only some of its parts (Thrixel)"""

    bl_idname = "conjure.edit"
    bl_label = "Edit"
    bl_options = {"REGISTER", "UNDO"}

    job_id: _JOB_ID
    request: StringProperty(name="Change", description="What to change")
    parts: StringProperty(
        name="Parts", description="Comma-separated part names to change (the selected "
                                  "parts when empty and some are selected); empty: all")
    options: _OPTIONS
    from_panel: _FROM_PANEL
    background_job: _BACKGROUND

    def operation_name(self, source: Job) -> str:
        return shortcut_operation("edit", source.service)

    def extra(self, context: bpy.types.Context, source: Job) -> dict[str, Any]:
        # No parts named: the parts of the model selected in the viewport (none, or all of
        # them: the whole model).
        chosen = self.parts or ", ".join(selection.selected_parts(context, source.id))
        return {"prompt": self.request, "parts": chosen}

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        self.background_job = base.interactive(context)
        if self.background_job and not self.request.strip() and not self.from_panel:
            # Pre-filled: the source and its selected parts; only the change is asked for.
            if not self.parts:
                source = self.source(context)
                self.parts = ", ".join(selection.selected_parts(context, source.id))
            return context.window_manager.invoke_props_dialog(self, width=420)
        return self.ask_or_run(context, event)


class CONJURE_OT_detail(_FollowUp, bpy.types.Operator):
    """High-resolution textured version of the selected model (Thrixel detail, Tripo texture)"""

    bl_idname = "conjure.detail"
    bl_label = "Detail & Texture"
    bl_options = {"REGISTER", "UNDO"}

    job_id: _JOB_ID
    prompt: StringProperty(name="Appearance", description="How the surface should look")
    parts: StringProperty(
        name="Parts", description="Comma-separated part names to detail (Thrixel); empty: "
                                  "the whole model")
    options: _OPTIONS
    from_panel: _FROM_PANEL
    background_job: _BACKGROUND

    def operation_name(self, source: Job) -> str:
        return shortcut_operation("detail", source.service)

    def extra(self, context: bpy.types.Context, source: Job) -> dict[str, Any]:
        return {"prompt": self.prompt, "parts": self.parts}


class CONJURE_OT_convert(_FollowUp, bpy.types.Operator):
    """Get the selected model in another file format and import it"""

    bl_idname = "conjure.convert"
    bl_label = "Convert"
    bl_options = {"REGISTER", "UNDO"}

    job_id: _JOB_ID
    format: StringProperty(name="Format", default="fbx",
                           description="The service's format name, e.g. fbx, usdz, FBX")
    options: _OPTIONS
    from_panel: _FROM_PANEL
    background_job: _BACKGROUND

    def operation_name(self, source: Job) -> str:
        return shortcut_operation("convert", source.service)

    def build_request(self, context: bpy.types.Context, draft: bool = False) -> requests.Request:
        request = super().build_request(context, draft)
        if not self.from_panel and "format" not in requests.parse_options(self.options):
            param = registry.operation(request.service, request.operation).by_name.get("format")
            if param is not None:
                # Services spell formats differently (fbx / FBX): match the declared choice.
                match = next((c for c in param.choices
                              if str(c).lower() == self.format.strip().lower()), self.format)
                request.params["format"] = match
        return request


classes = (CONJURE_OT_follow_up, CONJURE_OT_refine, CONJURE_OT_edit, CONJURE_OT_detail,
           CONJURE_OT_convert)
