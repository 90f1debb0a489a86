"""Operators the panels and preferences use for themselves: picture inputs, key tests, the cache
folder and the clipboard. Generation, follow-ups and job actions live with the job operators."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import bpy
from bpy.props import EnumProperty, IntProperty, StringProperty

from .. import engine, forms, preferences, uistatus
from ..jobs.model import State
from ..providers.services import BY_ID, SERVICES

#: How long ``execute()`` (scripts, ``blender -b``) waits for a key test before reporting that
#: the answer will appear in the preferences; the interactive path never waits.
TEST_WAIT_S = 15.0

#: Key-test answers and balances, fetched on worker threads; the UI reads them on redraws.
key_tests = uistatus.Background(max_age=float("inf"))
balances = uistatus.Background(max_age=300.0)


_SERVICE_ITEMS = [(s.id, s.label, "") for s in SERVICES]


def _client(service_id: str) -> Any:
    """The service's client as the engine would build it now (key, URL, network, online guard);
    None when this Conjure version has no client for it."""
    engine.refresh_online()
    return engine.build_providers().get(service_id)


def answer_key(service_id: str) -> str:
    """Cache key of a service's answers: changes when its key or base URL changes, so an old
    balance never shows for a new key. Only a hash of the key is kept."""
    import hashlib

    prefs = preferences.get()
    service = BY_ID[service_id]
    secret = prefs.key(service)[0]
    digest = hashlib.sha256(f"{prefs.base_url(service)}\0{secret}".encode()).hexdigest()[:16]
    return f"{service_id}:{digest}"


def _key_test(service_id: str) -> Any:
    client = _client(service_id)

    def fetch() -> str:
        if client is None:
            raise NotImplementedError(f"{BY_ID[service_id].label} is not supported by this "
                                      "Conjure version yet")
        return str(client.check_key())
    return fetch


def balance(service_id: str) -> uistatus.Answer | None:
    """The service's balance line as known now; starts a fetch when there is none or it is old.
    None when nothing can be asked (offline, no key)."""
    service = BY_ID[service_id]
    if not bpy.app.online_access or not preferences.get().key(service)[0]:
        return None
    client = _client(service_id)
    if client is None:
        return None

    def fetch() -> str:
        return client.balance() or ""
    answer = balances.get(answer_key(service_id), fetch)
    if answer.pending:
        _watch()
    return answer


def _watch() -> None:
    """Redraw the sidebar and preferences once background answers arrive (timers run only in the
    application; elsewhere the next redraw shows them)."""
    if not bpy.app.timers.is_registered(_redraw_when_answered):
        bpy.app.timers.register(_redraw_when_answered, first_interval=0.3)


def _redraw_when_answered() -> float | None:
    if balances.pending() or key_tests.pending():
        return 0.3
    wm = bpy.context.window_manager
    for window in wm.windows if wm else ():
        for area in window.screen.areas:
            if area.type in ("VIEW_3D", "PREFERENCES"):
                area.tag_redraw()
    return None


def stop_watching() -> None:
    if bpy.app.timers.is_registered(_redraw_when_answered):
        bpy.app.timers.unregister(_redraw_when_answered)


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
        if not preferences.get().key(service)[0]:
            return (f"No {service.label} key to test: paste one in the field above or set "
                    f"${service.key_env[0]}")
        if not bpy.app.online_access:
            return engine.offline_message()
        key_tests.get(answer_key(self.service), _key_test(self.service), refresh=True)
        return None

    def _finish(self) -> set[str]:
        answer = key_tests.peek(answer_key(self.service))
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
            answer = key_tests.peek(answer_key(self.service))
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
        answer = key_tests.peek(answer_key(self.service))
        if answer is not None and answer.pending and time.monotonic() - self._started < 60:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        for area in context.screen.areas if context.screen else ():
            area.tag_redraw()
        return self._finish()


# -- picture inputs ------------------------------------------------------------------------------

def _load_snapshot(path: Path, name: str) -> bpy.types.Image:
    image = bpy.data.images.load(str(path), check_existing=False)
    image.name = name
    return image


class _TargetOperator:
    target: StringProperty(name="Input", description="The image input to fill",
                           options={"SKIP_SAVE", "HIDDEN"})

    def _assign(self, context: bpy.types.Context, image: bpy.types.Image) -> bool:
        try:
            forms.assign_image(context, self.target, image)
        except KeyError:
            self.report({"ERROR"}, "That image input no longer exists; redraw the panel and "  # type: ignore[attr-defined]
                                   "try again")
            return False
        return True


class CONJURE_OT_use_render_result(_TargetOperator, bpy.types.Operator):
    """Use a copy of the current Render Result as the picture"""

    bl_idname = "conjure.use_render_result"
    bl_label = "Use Render Result"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        result = next((i for i in bpy.data.images if i.type == "RENDER_RESULT"), None)
        if result is None:
            self.report({"ERROR"}, "There is no render yet: render an image (F12) first")
            return {"CANCELLED"}
        path = forms.inputs_dir() / f"render-{time.strftime('%Y%m%d-%H%M%S')}.png"
        try:
            forms.save_render_png(result, path)
        except Exception as exc:
            self.report({"ERROR"}, f"Could not save the Render Result: {exc}")
            return {"CANCELLED"}
        if not self._assign(context, _load_snapshot(path, "Conjure Render")):
            return {"CANCELLED"}
        return {"FINISHED"}


def _view3d(context: bpy.types.Context) -> tuple[Any, Any] | None:
    """The 3D view to capture (the one the button is in, else the largest) and its main region."""
    areas = [context.area] if context.area and context.area.type == "VIEW_3D" else []
    if not areas and context.screen:
        areas = sorted((a for a in context.screen.areas if a.type == "VIEW_3D"),
                       key=lambda a: a.width * a.height, reverse=True)
    for area in areas:
        region = next((r for r in area.regions if r.type == "WINDOW"), None)
        if region is not None:
            return area, region
    return None


#: Longest side of a viewport capture, enough for every service's minimum and quick to send.
CAPTURE_PX = 1024


def _capture_size(region: Any) -> tuple[int, int]:
    w, h = max(region.width, 1), max(region.height, 1)
    scale = min(1.0, CAPTURE_PX / max(w, h))
    return max(64, int(w * scale)), max(64, int(h * scale))


def capture_offscreen(context: bpy.types.Context, area: Any, region: Any, path: Path) -> None:
    """Draw the 3D view into an off-screen buffer (what the user sees, without overlays)."""
    import gpu
    import numpy as np

    width, height = _capture_size(region)
    space = area.spaces.active
    r3d = space.region_3d
    gpu_types: Any = gpu.types  # the stubs lack GPUOffScreen's size arguments
    offscreen = gpu_types.GPUOffScreen(width, height)
    try:
        # The capture keeps the region's aspect, so the view's own projection still fits.
        offscreen.draw_view3d(context.scene, context.view_layer, space, region,
                              r3d.view_matrix, r3d.window_matrix, do_color_management=True)
        buffer = offscreen.texture_color.read()
    finally:
        offscreen.free()
    buffer.dimensions = width * height * 4
    pixels = np.asarray(buffer, dtype=np.float32) / 255.0
    image: Any = bpy.data.images.new("Conjure Viewport Capture", width, height, alpha=True)
    try:
        image.pixels.foreach_set(pixels)
        image.file_format = "PNG"
        image.save(filepath=str(path))
    finally:
        bpy.data.images.remove(image)


def capture_render(context: bpy.types.Context, area: Any, region: Any, path: Path) -> None:
    """Render the 3D view's point of view with Workbench: works without a display (``-b``)."""
    scene = context.scene
    space = area.spaces.active
    r3d = space.region_3d
    render = scene.render
    width, height = _capture_size(region)
    saved = (scene.camera, render.engine, render.resolution_x, render.resolution_y,
             render.resolution_percentage, render.film_transparent)
    camera_data = bpy.data.cameras.new("Conjure Capture")
    camera = bpy.data.objects.new("Conjure Capture", camera_data)
    scene.collection.objects.link(camera)
    try:
        camera.matrix_world = r3d.view_matrix.inverted()
        if r3d.view_perspective == "CAMERA" and scene.camera is not None:
            camera.matrix_world = scene.camera.matrix_world
            camera_data.lens = getattr(scene.camera.data, "lens", 50.0)
        elif not r3d.is_perspective:
            camera_data.type = "ORTHO"
            camera_data.ortho_scale = r3d.view_distance * 2.0
        else:
            # The viewport's lens is on a 72 mm sensor; a camera's default sensor is 36 mm.
            camera_data.lens = space.lens / 2.0
        camera_data.sensor_fit = "AUTO"
        camera_data.clip_start, camera_data.clip_end = space.clip_start, space.clip_end
        scene.camera = camera
        render.engine = "BLENDER_WORKBENCH"
        render.resolution_x, render.resolution_y = width, height
        render.resolution_percentage = 100
        render.film_transparent = False
        bpy.ops.render.render()
        result = next(i for i in bpy.data.images if i.type == "RENDER_RESULT")
        forms.save_render_png(result, path)
    finally:
        (scene.camera, render.engine, render.resolution_x, render.resolution_y,
         render.resolution_percentage, render.film_transparent) = saved
        bpy.data.objects.remove(camera)
        bpy.data.cameras.remove(camera_data)


class CONJURE_OT_capture_viewport(_TargetOperator, bpy.types.Operator):
    """Use a picture of the 3D view as the input (drawn off-screen, or rendered with Workbench
    where there is no display)"""

    bl_idname = "conjure.capture_viewport"
    bl_label = "Capture Viewport"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        found = _view3d(context)
        if found is None:
            self.report({"ERROR"}, "No 3D view to capture: open a 3D Viewport in this window")
            return {"CANCELLED"}
        area, region = found
        path = forms.inputs_dir() / f"viewport-{time.strftime('%Y%m%d-%H%M%S')}.png"
        try:
            if bpy.app.background:
                raise RuntimeError("no display")
            capture_offscreen(context, area, region, path)
        except Exception:
            # No GPU context (``blender -b``, the bpy module) or the off-screen draw failed:
            # render the same view instead, slower but never blank.
            try:
                capture_render(context, area, region, path)
            except Exception as exc:
                self.report({"ERROR"}, f"Could not capture the viewport: {exc}")
                return {"CANCELLED"}
        if not self._assign(context, _load_snapshot(path, "Conjure Viewport")):
            return {"CANCELLED"}
        self.report({"INFO"}, "Viewport captured")
        return {"FINISHED"}


class CONJURE_OT_load_image(_TargetOperator, bpy.types.Operator):
    """Load a picture file (PNG, JPEG or WebP) as the input"""

    bl_idname = "conjure.load_image"
    bl_label = "Load Picture"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    filepath: StringProperty(subtype="FILE_PATH", options={"SKIP_SAVE"})
    filter_image: bpy.props.BoolProperty(default=True, options={"HIDDEN", "SKIP_SAVE"})
    filter_folder: bpy.props.BoolProperty(default=True, options={"HIDDEN", "SKIP_SAVE"})

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        path = bpy.path.abspath(self.filepath)
        if not path or not Path(path).is_file():
            self.report({"ERROR"}, f"No picture file at {self.filepath!r}: choose a PNG, JPEG "
                                   "or WebP file")
            return {"CANCELLED"}
        try:
            image = bpy.data.images.load(path, check_existing=True)
        except RuntimeError as exc:
            self.report({"ERROR"}, f"Blender cannot read {Path(path).name} as a picture ({exc})")
            return {"CANCELLED"}
        if not self._assign(context, image):
            return {"CANCELLED"}
        return {"FINISHED"}


class CONJURE_OT_remove_image(_TargetOperator, bpy.types.Operator):
    """Remove this picture from the list"""

    bl_idname = "conjure.remove_image"
    bl_label = "Remove Picture"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    index: IntProperty(min=0, options={"SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            holder, attr = forms.resolve_target(context, self.target)
        except KeyError:
            return {"CANCELLED"}
        slots = getattr(holder, attr)
        if holder.bl_rna.properties[attr].type != "COLLECTION" or self.index >= len(slots):
            return {"CANCELLED"}
        slots.remove(self.index)
        return {"FINISHED"}


# -- cache folder --------------------------------------------------------------------------------

def clear_plan() -> uistatus.ClearPlan:
    journal = engine.get().journal
    imported = [(job.provider, job.id) for job in journal.jobs(states=[State.IMPORTED])]
    return uistatus.clear_plan(engine.user_dir(), imported)


_size_cache: dict[str, Any] = {"at": -1e9, "size": 0}


def cache_size(max_age: float = 10.0) -> int:
    """The user folder's results and cache in bytes, recounted at most every ``max_age`` s
    (the preferences redraw often; walking a large folder each time would stutter)."""
    if time.monotonic() - _size_cache["at"] > max_age:
        root = engine.user_dir()
        _size_cache["size"] = sum(uistatus.folder_size(root / name)
                                  for name in ("results", *uistatus.CACHE_DIRS))
        _size_cache["at"] = time.monotonic()
    return int(_size_cache["size"])


class CONJURE_OT_clear_cache(bpy.types.Operator):
    """Delete cached pictures and the results of jobs already imported. Results not yet imported
    are kept"""

    bl_idname = "conjure.clear_cache"
    bl_label = "Clear Cache"
    bl_options = {"INTERNAL"}

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        plan = clear_plan()
        message = (f"Delete {uistatus.human_size(plan.size)} (cached pictures and results of "
                   f"imported jobs; they can no longer be re-imported)? {len(plan.keep)} "
                   "result folder(s) of jobs not yet imported are kept.")
        wm: Any = context.window_manager
        try:
            return wm.invoke_confirm(
                self, event, title="Clear Conjure Cache", message=message, confirm_text="Clear",
                icon="WARNING")
        except TypeError:  # older signature without title and message
            return wm.invoke_confirm(self, event)

    def execute(self, context: bpy.types.Context) -> set[str]:
        plan = clear_plan()
        freed = uistatus.clear(plan)
        _size_cache["at"] = -1e9
        self.report({"INFO"}, f"Freed {uistatus.human_size(freed)}; kept {len(plan.keep)} "
                              "result folder(s) of jobs not yet imported")
        return {"FINISHED"}


class CONJURE_OT_open_cache_folder(bpy.types.Operator):
    """Open Conjure's folder of results and cached pictures in the file browser"""

    bl_idname = "conjure.open_cache_folder"
    bl_label = "Open Cache Folder"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        folder = engine.user_dir()
        if bpy.app.background:
            print(f"[conjure] {folder}")
            return {"FINISHED"}
        bpy.ops.wm.path_open(filepath=str(folder))
        return {"FINISHED"}


class CONJURE_OT_copy_text(bpy.types.Operator):
    """Copy to the clipboard"""

    bl_idname = "conjure.copy_text"
    bl_label = "Copy"
    bl_options = {"INTERNAL"}

    text: StringProperty(options={"SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        context.window_manager.clipboard = self.text
        self.report({"INFO"}, f"Copied {self.text}")
        return {"FINISHED"}


classes = (CONJURE_OT_test_key, CONJURE_OT_use_render_result, CONJURE_OT_capture_viewport,
           CONJURE_OT_load_image, CONJURE_OT_remove_image, CONJURE_OT_clear_cache,
           CONJURE_OT_open_cache_folder, CONJURE_OT_copy_text)
