"""The "Conjure" tab of the 3D viewport's sidebar: Generate, Jobs, Selected model, Candidates.

Panels only read properties and the journal and put operator buttons in the layout; nothing here
waits on the network (balances come from a background cache, see ``operators.ui``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bpy

from .. import engine, forms, formspec, preferences, uistatus
from ..jobs.model import Job, State
from ..operators import ui
from ..providers import registry
from ..providers.params import Operation
from ..providers.services import BY_ID

CATEGORY = "Conjure"
#: Voxel-AI's free step that makes candidate pictures, and the paid one that voxelizes one.
CANDIDATES_SERVICE = "voxelai"
_PICTURES = (".png", ".jpg", ".jpeg", ".webp")


def _button(layout: Any, idname: str, text: str = "", icon: str = "NONE", /,
            **props: Any) -> Any:
    """An operator button with its properties set; tolerant of an operator that is not
    registered yet or lacks one of the properties (it belongs to another part of Conjure)."""
    op = layout.operator(idname, text=text, icon=icon) if text else \
        layout.operator(idname, icon=icon)
    if op is not None:
        for name, value in props.items():
            try:
                setattr(op, name, value)
            except (AttributeError, TypeError):
                pass
    return op


#: Sidebar pixels a label line does not get: panel and box margins and the icon column.
_LABEL_MARGIN_PX = 80


def _wrap_width(text: str, default: int = 40) -> int:
    """Characters per label line so that ``text`` fits the sidebar as wide as it is now
    (Blender cuts a label that is too long with "…"); ``default`` outside a drawn region."""
    region = getattr(bpy.context, "region", None)
    if region is None or region.type != "UI" or region.width <= 1:
        return default
    return chars_per_line(text, region.width, bpy.context.preferences.system.ui_scale, default)


def chars_per_line(text: str, region_px: int, scale: float, default: int = 40) -> int:
    """How many characters of ``text``, at its average letter width in the UI font, fit on a
    label of a sidebar ``region_px`` wide."""
    if not text.strip():
        return default
    import blf

    scale = scale or 1.0  # 0 where Blender has no display (background)
    blf.size(0, bpy.context.preferences.ui_styles[0].widget.points * scale)
    width: Any = blf.dimensions(0, text)  # typed as None by the stubs; a (width, height) pair
    average = float(width[0]) / len(text)
    if average <= 0:
        return default
    # A tenth to spare: a line of wide letters is wider than the text's average.
    return max(12, int((region_px - _LABEL_MARGIN_PX * scale) / (average * 1.1)))


def _lines(layout: Any, text: str, icon: str = "NONE", width: int | None = None) -> None:
    for line in uistatus.wrap(text, width or _wrap_width(text)):
        layout.label(text=line, icon=icon)
        icon = "BLANK1" if icon != "NONE" else "NONE"


def has_progress_bar() -> bool:
    rna: Any = bpy.types.UILayout.bl_rna
    return "progress" in rna.functions


def _progress(layout: Any, factor: float, text: str) -> None:
    if has_progress_bar():
        layout.progress(factor=max(0.0, min(1.0, factor)), type="BAR", text=text)
    else:
        layout.label(text=text)


def _service_ready(layout: Any, service_id: str) -> bool:
    """Say why nothing can be sent (offline, no key); True when both are fine."""
    service = BY_ID[service_id]
    ok = True
    if not bpy.app.online_access:
        _lines(layout, engine.offline_message(), "ERROR")
        ok = False
    if not preferences.get().key(service)[0]:
        _lines(layout, f"No {service.label} {service.key_label.lower()}: add it in the "
                       f"preferences or set ${service.key_env[0]}", "ERROR")
        _button(layout, "preferences.addon_show", "Open Preferences", "PREFERENCES",
                module=__package__.rpartition(".")[0])
        ok = False
    return ok


def _balance(layout: Any, service_id: str) -> None:
    answer = ui.balance(service_id)
    if answer is None:
        return
    if answer.text:
        layout.label(text=answer.text if answer.ok else f"Balance unavailable: {answer.text}",
                     icon="FUND" if answer.ok else "INFO")
    elif answer.pending:
        layout.label(text="Balance: asking…", icon="SORTTIME")


class _Sidebar:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = CATEGORY


# -- Generate ------------------------------------------------------------------------------------

def _chosen(context: Any) -> tuple[str, Operation | None]:
    service_id, name = forms.selected(context)
    if not name:
        return service_id, None
    try:
        return service_id, registry.operation(service_id, name)
    except Exception:
        return service_id, None


class CONJURE_PT_generate(_Sidebar, bpy.types.Panel):
    bl_label = "Generate"
    bl_idname = "CONJURE_PT_generate"

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        state = forms.state(context)
        layout.prop(state, "service")
        service_id, op = _chosen(context)
        if op is None:
            layout.label(text=f"{forms.service_label(service_id)} is not available in this "
                              "version", icon="INFO")
            return
        layout.prop(state, f"mode_{service_id}")
        if op.description:
            _lines(layout.column(align=True), op.description)
        for role in ("prompt", "negative_prompt"):
            param = op.param_for(role)
            if param is not None:
                layout.prop(state, role, text=param.title)
        shared = {f.shared for f in formspec.fields(op) if f.shared}
        for role in ("image", "images"):
            param = op.param_for(role)
            if param is not None and role in shared:
                field = formspec.field_for(param, op)
                forms.draw_field(layout, context, op, field)
        if op.mode == "upload":
            _button(layout, "conjure.upload_selection", "Upload Selected Objects", "EXPORT")
        forms.draw_fields(layout.column(), context, op, formspec.common(op))
        draw_submit(layout, context, service_id, op)


def draw_submit(layout: Any, context: Any, service_id: str, op: Operation) -> None:
    ready = _service_ready(layout, service_id)
    _balance(layout, service_id)
    problem = forms.problem(context, service_id, op.name)
    if problem:
        _lines(layout, problem, "ERROR")
    row = layout.row()
    row.scale_y = 1.5
    row.enabled = ready and problem is None
    _button(row, "conjure.generate", f"Generate{'' if op.paid else ' (free)'}", "PLAY",
            provider=BY_ID[service_id].op_id, mode=op.name, from_panel=True)


class CONJURE_PT_generate_advanced(_Sidebar, bpy.types.Panel):
    bl_label = "Advanced"
    bl_idname = "CONJURE_PT_generate_advanced"
    bl_parent_id = "CONJURE_PT_generate"
    bl_options = {"DEFAULT_CLOSED"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        _, op = _chosen(context)
        return op is not None and bool(formspec.advanced(op))

    def draw(self, context: bpy.types.Context) -> None:
        _, op = _chosen(context)
        if op is not None:
            forms.draw_fields(self.layout.column(), context, op, formspec.advanced(op))


# -- Jobs ----------------------------------------------------------------------------------------

class CONJURE_UL_jobs(bpy.types.UIList):
    """Conjure's jobs, newest first."""

    def draw_item(self, context: Any, layout: Any, data: Any, item: Any, icon: int,
                  active_data: Any, active_propname: str, index: int = 0) -> None:
        row = layout.row(align=True)
        row.label(text=uistatus.label(item.prompt, item.operation, item.job_id),
                  icon=uistatus.SERVICE_ICONS.get(item.provider, "QUESTION"))
        sub = row.row(align=True)
        sub.ui_units_x = 5
        if uistatus.is_active(item.state) and item.progress >= 0:
            _progress(sub, item.progress, f"{item.progress * 100:.0f}%")
        else:
            sub.label(text=uistatus.timing(item.state, item.created_at, item.updated_at,
                                           item.eta_s))
        row.label(text="", icon=uistatus.state_icon(item.state))

    def filter_items(self, context: Any, data: Any, propname: str) -> tuple[list[int], list[int]]:
        items = getattr(data, propname)
        flags = [self.bitflag_filter_item] * len(items)
        if self.filter_name:
            needle = self.filter_name.lower()
            flags = [self.bitflag_filter_item if needle in f"{i.prompt} {i.job_id} "
                     f"{i.provider} {i.state}".lower() else 0 for i in items]
        # The mirror is oldest first (journal order); the list shows the newest on top.
        order = list(range(len(items) - 1, -1, -1))
        return flags, order


def active_item(context: Any) -> Any:
    runtime = context.window_manager.conjure
    if 0 <= runtime.active_index < len(runtime.jobs):
        return runtime.jobs[runtime.active_index]
    return None


class CONJURE_PT_jobs(_Sidebar, bpy.types.Panel):
    bl_label = "Jobs"
    bl_idname = "CONJURE_PT_jobs"

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        runtime = context.window_manager.conjure
        if not runtime.jobs:
            _lines(layout, "No jobs yet: generate something above", icon="INFO")
            return
        layout.template_list("CONJURE_UL_jobs", "", runtime, "jobs", runtime, "active_index",
                             rows=4)
        item = active_item(context)
        if item is not None:
            draw_job(layout.box(), item)


def draw_job(box: Any, item: Any) -> None:
    service = forms.service_label(item.provider)
    box.label(text=f"{service} · {item.operation} · {item.state}",
              icon=uistatus.state_icon(item.state))
    if item.prompt:
        _lines(box.column(align=True), item.prompt)
    timing = uistatus.timing(item.state, item.created_at, item.updated_at, item.eta_s)
    if uistatus.is_active(item.state) and item.progress >= 0:
        _progress(box, item.progress, f"{item.progress * 100:.0f}%  {timing}".strip())
    elif timing:
        box.label(text=timing, icon="TIME")
    if item.message:
        failed = item.state in (State.FAILED, State.UNKNOWN)
        _lines(box.column(align=True), item.message, "ERROR" if failed else "INFO")
    if item.error_code:
        box.label(text=f"Error code: {item.error_code}")
    for text, value in (("Job", item.job_id), ("Remote", item.remote_id),
                        ("Parent", item.parent_id)):
        if value:
            row = box.row(align=True)
            row.label(text=f"{text}: {value}")
            _button(row, "conjure.copy_text", "", "COPYDOWN", text=value)
    col = box.column(align=True)
    state = item.state
    if uistatus.is_active(state):
        _button(col, "conjure.cancel_job", "Cancel", "CANCEL", job_id=item.job_id)
    if state == State.READY and is_candidates_item(item):
        # Pictures to choose from, not a model: Import would only be refused; the pick is
        # made in the Candidates panel.
        col.label(text="Pick one in the Candidates panel", icon="IMAGE_DATA")
    elif state == State.READY:
        _button(col, "conjure.import_result", "Import", "IMPORT", job_id=item.job_id)
    elif state == State.IMPORTED:
        _button(col, "conjure.import_result", "Re-import", "FILE_REFRESH", job_id=item.job_id)
    if state in (State.READY, State.IMPORTED):
        _button(col, "conjure.open_result_folder", "Open Result Folder", "FILEBROWSER",
                job_id=item.job_id)
    if not uistatus.is_active(state):
        _button(col, "conjure.remove_job", "Remove from List", "X", job_id=item.job_id)


# -- Selected model ------------------------------------------------------------------------------

def _journal_job(job_id: str) -> Job | None:
    try:
        return engine.get().journal.get(job_id)
    except Exception:  # a locked or missing journal must not break the sidebar
        return None


def _selected_service(context: Any) -> tuple[Any, str]:
    ob = context.active_object
    job_id = str(ob.get("conjure_job_id", "")) if ob is not None else ""
    return ob, job_id


def follow_up(context: Any, service_id: str) -> Operation | None:
    name = getattr(forms.state(context), f"follow_up_{service_id}", "")
    return next((op for op in forms.follow_up_ops(service_id) if op.name == name), None)


class CONJURE_PT_selected(_Sidebar, bpy.types.Panel):
    bl_label = "Selected Model"
    bl_idname = "CONJURE_PT_selected"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return bool(_selected_service(context)[1])

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        ob, job_id = _selected_service(context)
        job = _journal_job(job_id)
        service_id = job.provider if job else str(ob.get("conjure_provider", ""))
        remote_id = (job.remote_id if job else None) or str(ob.get("conjure_remote_id", ""))
        box = layout.box()
        box.label(text=forms.service_label(service_id),
                  icon=uistatus.SERVICE_ICONS.get(service_id, "QUESTION"))
        if job is not None:
            box.label(text=f"{job.operation} · {job.state}", icon=uistatus.state_icon(job.state))
            prompt = formspec.job_prompt(job.provider, job.operation, job.params)
            if prompt:
                _lines(box.column(align=True), prompt)
        else:
            box.label(text="This job is not in this computer's journal", icon="INFO")
        for text, value in (("Job", job_id), ("Remote", remote_id),
                            ("Node", str(ob.get("conjure_node_name", "")))):
            if value:
                row = box.row(align=True)
                row.label(text=f"{text}: {value}")
                _button(row, "conjure.copy_text", "", "COPYDOWN", text=value)
        parent = _journal_job(job.parent_id) if job is not None and job.parent_id else None
        if job is not None and job.parent_id:
            what = formspec.job_prompt(parent.provider, parent.operation, parent.params) \
                if parent else ""
            label = f"{parent.operation}: {what}" if parent and what else job.parent_id
            box.label(text=f"From {uistatus.label(label, '', '', 36)}", icon="LINKED")

        ops = forms.follow_up_ops(service_id)
        if not ops:
            return
        layout.label(text="Follow-up")
        layout.prop(forms.state(context), f"follow_up_{service_id}", expand=True)
        op = follow_up(context, service_id)
        if op is None:
            return
        if op.description:
            _lines(layout.column(align=True), op.description)
        forms.draw_fields(layout.column(), context, op, formspec.common(op))
        ready = _service_ready(layout, service_id)
        if not remote_id:
            layout.label(text="The service has no id for this model yet", icon="ERROR")
        problem = forms.problem(context, service_id, op.name)
        if problem:
            _lines(layout, problem, "ERROR")
        row = layout.row()
        row.scale_y = 1.3
        row.enabled = ready and bool(remote_id) and problem is None
        _button(row, "conjure.follow_up", f"{op.label}{'' if op.paid else ' (free)'}",
                "PLAY", job_id=job_id, operation=op.name, from_panel=True)


class CONJURE_PT_selected_advanced(_Sidebar, bpy.types.Panel):
    bl_label = "Advanced"
    bl_idname = "CONJURE_PT_selected_advanced"
    bl_parent_id = "CONJURE_PT_selected"
    bl_options = {"DEFAULT_CLOSED"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        op = cls._op(context)
        return op is not None and bool(formspec.advanced(op))

    @staticmethod
    def _op(context: Any) -> Operation | None:
        ob, job_id = _selected_service(context)
        if not job_id:
            return None
        job = _journal_job(job_id)
        service_id = job.provider if job else str(ob.get("conjure_provider", ""))
        return follow_up(context, service_id) if service_id in BY_ID else None

    def draw(self, context: bpy.types.Context) -> None:
        op = self._op(context)
        if op is not None:
            forms.draw_fields(self.layout.column(), context, op, formspec.advanced(op))


# -- Candidates (Voxel-AI) -----------------------------------------------------------------------

def candidate_operations() -> tuple[Operation | None, Operation | None]:
    """Voxel-AI's (candidate pictures, voxelize) operations: the one taking a picture
    voxelizes; the other creation operation makes the candidates."""
    ops = forms.creation_ops(CANDIDATES_SERVICE)
    voxelize = next((op for op in ops if op.param_for("image") is not None), None)
    images = next((op for op in ops if op is not voxelize and op.param_for("prompt")), None)
    return images, voxelize


def is_candidates_item(item: Any) -> bool:
    """A job-list row of the operation that makes candidate pictures (not a model)."""
    images, _ = candidate_operations()
    return images is not None and item.provider == CANDIDATES_SERVICE \
        and item.operation == images.name


def candidate_job(context: Any) -> Any:
    """The Voxel-AI candidates job to show: the active one in the Jobs list, else the newest."""
    item = active_item(context)
    if item is not None and is_candidates_item(item):
        return item
    jobs = context.window_manager.conjure.jobs
    return next((j for j in reversed(jobs) if is_candidates_item(j) and j.state in
                 (State.READY, State.IMPORTED)), None)


def candidate_files(job_id: str) -> list[Path]:
    job = _journal_job(job_id)
    if job is None or job.state not in (State.READY, State.IMPORTED):
        return []
    try:
        paths = engine.result_paths(job)
    except Exception:
        return []
    return [p for p in paths if p.suffix.lower() in _PICTURES and p.is_file()]


_previews: Any = None


def preview_icon(path: Path) -> int:
    """A large preview of a candidate picture (loaded once per file and modification time)."""
    global _previews
    if _previews is None:
        import bpy.utils.previews

        _previews = bpy.utils.previews.new()
    key = f"{path}:{path.stat().st_mtime_ns}"
    preview = _previews.get(key) or _previews.load(key, str(path), "IMAGE")
    return int(preview.icon_id)


class CONJURE_PT_candidates(_Sidebar, bpy.types.Panel):
    bl_label = "Candidates"
    bl_idname = "CONJURE_PT_candidates"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return candidate_job(context) is not None

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        item = candidate_job(context)
        if item is None:
            return
        if item.prompt:
            _lines(layout.column(align=True), item.prompt)
        if uistatus.is_active(item.state):
            layout.label(text=f"Making pictures… {item.message}".strip(), icon="SORTTIME")
            return
        files = candidate_files(item.job_id)
        if not files:
            layout.label(text=item.message or "No candidate pictures", icon="INFO")
            return
        _, voxelize = candidate_operations()
        layout.label(text="Pick one to voxelize:")
        grid = layout.grid_flow(columns=0, even_columns=True, align=False)
        for index, path in enumerate(files):
            col = grid.column(align=True)
            col.template_icon(icon_value=preview_icon(path), scale=8.0)
            _button(col, "conjure.pick_candidate", f"Use {index + 1}", "CHECKMARK",
                    job_id=item.job_id, index=index, from_panel=True)
        if voxelize is not None:
            box = layout.box()
            box.label(text=f"{voxelize.label} options")
            fields = [f for f in formspec.fields(voxelize) if f.widget not in ("image", "images")]
            forms.draw_fields(box.column(), context, voxelize, fields)
            _service_ready(box, CANDIDATES_SERVICE)
            _balance(box, CANDIDATES_SERVICE)


classes = (CONJURE_PT_generate, CONJURE_PT_generate_advanced, CONJURE_UL_jobs, CONJURE_PT_jobs,
           CONJURE_PT_selected, CONJURE_PT_selected_advanced, CONJURE_PT_candidates)


def unregister() -> None:
    global _previews
    if _previews is not None:
        import bpy.utils.previews

        bpy.utils.previews.remove(_previews)
        _previews = None
    ui.stop_watching()
    ui.balances.forget()
    ui.key_tests.forget()

