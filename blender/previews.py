"""Pictures of finished jobs (main thread): making each job's preview, and the one collection
of loaded pictures the panels draw from.

A job's preview is ``jobs.results.PREVIEW_FILE`` in its result folder; where it comes from is
decided in ``workflow.previews``. The service's own picture arrives from a worker thread; what
is left to do here is turning a picture already on disk into the preview, or rendering one
from the imported objects at ``PREVIEW_PX`` pixels: with Workbench in the application (about
0.15 s a picture with software OpenGL, 1 s for the first, which compiles shaders), with Cycles
on the CPU in ``blender -b`` and the ``bpy`` module (0.5-1.5 s; there Workbench needs EGL, and
Blender aborts where it is missing; EEVEE took 2-30 s). The pump makes at most one preview
per tick, after the import it follows.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import bpy
import bpy.utils.previews
from mathutils import Vector

from ..jobs.model import Job
from ..jobs.results import preview_path, sniff, waiting_preview
from ..providers.redaction import log
from ..workflow.previews import source_picture
from . import mirror, session

#: Width and height of a preview rendered here.
PREVIEW_PX = 256
#: Samples of a Cycles render (without a display): enough for an icon without a denoiser.
CYCLES_SAMPLES = 16
#: Longest the blocking path waits for the service's own picture before drawing one.
PICTURE_WAIT_S = 5.0
#: New pictures loaded into the collection per ``LOAD_WINDOW_S``; more wait for a redraw.
LOADS_PER_WINDOW = 3
LOAD_WINDOW_S = 0.1
#: Where the preview's camera looks from: front right, a little above (-Y is the front).
VIEW_FROM = Vector((1.0, -1.6, 0.9)).normalized()

_collection: Any = None
_loads: list[float] = []


# -- loading (drawing) -------------------------------------------------------------------------

def loaded(path: Path) -> Any:
    """The picture at ``path`` loaded through ``bpy.utils.previews`` (an ``ImagePreview``),
    once per file and modification time; None when there is none, or while it waits for a
    later redraw (at most ``LOADS_PER_WINDOW`` new pictures are loaded at a time)."""
    global _collection
    try:
        key = f"{path}:{path.stat().st_mtime_ns}"
    except OSError:
        return None
    if _collection is None:
        _collection = bpy.utils.previews.new()
    found = _collection.get(key)
    if found is None:
        now = time.monotonic()
        _loads[:] = [t for t in _loads if now - t < LOAD_WINDOW_S]
        if len(_loads) >= LOADS_PER_WINDOW:
            _redraw_soon()
            return None
        _loads.append(now)
        found = _collection.load(key, str(path), "IMAGE")
    return found


def icon(path: Path) -> int:
    """The icon id of the picture at ``path`` (``loaded``); 0 while there is none. Blender
    gives icons only where it draws: 0 in ``blender -b`` and the ``bpy`` module too."""
    found = loaded(path)
    return int(found.icon_id) if found is not None else 0


def job_icon(service: str, job_id: str) -> int:
    """The icon id of a job's preview, or 0 while it has none."""
    root = session.root()
    return icon(preview_path(root, service, job_id)) if root is not None and job_id else 0


def _redraw_soon() -> None:
    if not bpy.app.timers.is_registered(_redraw):
        bpy.app.timers.register(_redraw, first_interval=LOAD_WINDOW_S)


def _redraw() -> None:
    mirror.redraw(preferences=False)


def unregister() -> None:
    global _collection
    if bpy.app.timers.is_registered(_redraw):
        bpy.app.timers.unregister(_redraw)
    if _collection is not None:
        bpy.utils.previews.remove(_collection)
        _collection = None


# -- making ------------------------------------------------------------------------------------

def step() -> bool:
    """The pump's step: make the preview of one job that wants one (``session.want_preview``).
    True when a job was dealt with; jobs whose service picture is still coming wait."""
    for job_id in session.previews_wanted():
        found = session.find(job_id)
        if found is None or make(found):
            session.preview_made(job_id)
            return True
    return False


def settle(job: Job, wait_s: float = PICTURE_WAIT_S) -> None:
    """Make the preview now (the blocking path, or before the result is filed in the asset
    library), after waiting up to ``wait_s`` for the service's picture; while that is still
    coming, the pump makes the preview later."""
    running = session.running()
    if running is not None and wait_s > 0:
        running.runner.wait_picture(job.id, wait_s)
    if make(job):
        session.preview_made(job.id)


def make(job: Job) -> bool:
    """Give ``job`` its preview if it has none: from a picture on disk, else rendered from its
    objects in this file. False while the service's picture is still being fetched (then
    nothing is done); True otherwise, also when nothing could be made (it is logged)."""
    root = session.root()
    if root is None:
        return True
    target = preview_path(root, job.service, job.id)
    if target.is_file():
        return True
    if session.get().runner.picture_pending(job.id):
        return False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        source = waiting_preview(target.parent) or _source(job)
        if source is not None:
            _picture_as_png(source, target)
            return True
        objects = job_objects(job.id)
        if objects:
            started = time.perf_counter()
            render(objects, target)
            log.info("job %s: preview rendered in %.2f s", job.id,
                     time.perf_counter() - started)
    # Anything at all: a preview is a nicety, and must never stop an import or the pump.
    except Exception as exc:
        log.warning("job %s: no preview could be made: %s", job.id, exc)
    return True


def _source(job: Job) -> Path | None:
    parent = session.find(job.parent_id) if job.parent_id else None
    parent_paths = session.result_paths(parent) if parent is not None else []
    return source_picture(job, session.result_paths(job), parent, parent_paths)


def job_objects(job_id: str) -> list[bpy.types.Object]:
    """The objects of ``job_id``'s model in this file that a render shows."""
    return [ob for ob in bpy.data.objects
            if ob.get("conjure_job_id") == job_id and not ob.hide_render]


def _picture_as_png(source: Path, target: Path) -> None:
    """Copy a PNG, or save another picture as PNG, under ``target`` (written whole, then
    renamed into place)."""
    part = target.with_name(f".{uuid.uuid4().hex[:8]}.png.part")
    try:
        with open(source, "rb") as handle:
            is_png = sniff(handle.read(16)) == "png"
        if is_png:
            shutil.copyfile(source, part)
        else:
            image = bpy.data.images.load(str(source), check_existing=False)
            try:
                image.file_format = "PNG"
                image.save(filepath=str(part))
            finally:
                bpy.data.images.remove(image)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def render(objects: Iterable[bpy.types.Object], target: Path, size: int = PREVIEW_PX) -> None:
    """Render ``objects`` alone, seen from ``VIEW_FROM`` on a transparent background, into a
    ``size``-pixel PNG at ``target``. A scene of their own is made for it and removed after;
    the user's scene, its settings and its render are left as they were."""
    shown = list(objects)
    scene = bpy.data.scenes.new("Conjure Preview")
    made: list[tuple[Any, Any]] = [(bpy.data.scenes, scene)]
    try:
        for ob in shown:
            scene.collection.objects.link(ob)
        made += _stage(scene, shown)
        made += _settings(scene, shown, size)
        part = target.with_name(f".{uuid.uuid4().hex[:8]}.png.part")
        try:
            _render_alone(scene, part)
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)
    finally:
        for blocks, block in reversed(made):
            blocks.remove(block)


def _stage(scene: bpy.types.Scene,
           objects: list[bpy.types.Object]) -> list[tuple[Any, Any]]:
    """An orthographic camera framing ``objects``; returns what was made, each with the
    ``bpy.data`` collection it is removed from."""
    corners = [ob.matrix_world @ Vector(corner) for ob in objects for corner in ob.bound_box]
    if not corners:
        raise ValueError("the model has nothing to render")
    low = Vector([min(c[i] for c in corners) for i in range(3)])
    high = Vector([max(c[i] for c in corners) for i in range(3)])
    centre, radius = (low + high) / 2, max((high - low).length / 2, 1e-4)
    camera_data = bpy.data.cameras.new("Conjure Preview")
    camera = bpy.data.objects.new("Conjure Preview", camera_data)
    camera_data.type = "ORTHO"
    camera_data.ortho_scale = radius * 2.05
    camera_data.clip_start, camera_data.clip_end = radius * 0.01, radius * 8
    camera.location = centre + VIEW_FROM * radius * 3
    camera.rotation_euler = (-VIEW_FROM).to_track_quat("-Z", "Y").to_euler()
    scene.collection.objects.link(camera)
    scene.camera = camera
    return [(bpy.data.cameras, camera_data), (bpy.data.objects, camera)]


def _settings(scene: bpy.types.Scene, objects: list[bpy.types.Object],
              size: int) -> list[tuple[Any, Any]]:
    """Render settings for a ``size``-pixel PNG on a transparent background: Workbench where
    Blender draws (the application), else Cycles on the CPU, which needs no GPU: Workbench
    in ``blender -b`` needs EGL, and Blender aborts where that is missing. Returns what was
    made for it (``_stage``)."""
    render: Any = scene.render  # the stubs type ``engine`` as the default engine only
    render.resolution_x = render.resolution_y = size
    render.resolution_percentage = 100
    render.film_transparent = True
    scene.view_settings.view_transform = "Standard"
    image = render.image_settings
    image.file_format, image.color_mode, image.color_depth = "PNG", "RGBA", "8"
    if bpy.app.background:
        return _cycles(scene)
    render.engine = "BLENDER_WORKBENCH"
    shading = scene.display.shading
    shading.light = "STUDIO"
    shading.color_type = _colour_type(objects)
    return []


def _cycles(scene: bpy.types.Scene) -> list[tuple[Any, Any]]:
    """Cycles on the CPU with few samples and bounces, lit by a sun and a grey sky."""
    render: Any = scene.render
    render.engine = "CYCLES"
    cycles: Any = scene.cycles
    cycles.device = "CPU"
    cycles.samples = CYCLES_SAMPLES
    cycles.use_denoising = False
    cycles.use_adaptive_sampling = False
    cycles.max_bounces, cycles.diffuse_bounces, cycles.glossy_bounces = 2, 1, 1
    cycles.transmission_bounces = cycles.volume_bounces = 0
    sun_data: Any = bpy.data.lights.new("Conjure Preview", "SUN")
    sun_data.energy = 3.0
    sun = bpy.data.objects.new("Conjure Preview Sun", sun_data)
    sun.rotation_euler = (0.7, -0.17, -0.5)  # from above, behind the camera's left
    scene.collection.objects.link(sun)
    world = bpy.data.worlds.new("Conjure Preview")
    world.use_nodes = False
    world.color = (0.6, 0.6, 0.6)
    scene.world = world
    return [(bpy.data.lights, sun_data), (bpy.data.objects, sun), (bpy.data.worlds, world)]


def _colour_type(objects: list[bpy.types.Object]) -> str:
    """Workbench's colours for the model: its colour attributes when every mesh has one and
    no material paints a picture on it (a .vox imported with vertex colours), else its
    textures (which fall back to the materials' colours)."""
    meshes = [ob.data for ob in objects if ob.type == "MESH"]
    painted = any(node.type == "TEX_IMAGE" for mesh in meshes for material in mesh.materials
                  if material is not None and material.node_tree is not None
                  for node in material.node_tree.nodes)
    coloured = bool(meshes) and all(mesh.color_attributes.active_color is not None
                                    for mesh in meshes)
    return "VERTEX" if coloured and not painted else "TEXTURE"


def _render_alone(scene: bpy.types.Scene, path: Path) -> None:
    """Render ``scene`` and save it at ``path``. Blender keeps a render per scene: the Render
    Result shows the user's own scene's render again once this scene is gone."""
    with bpy.context.temp_override(scene=scene):
        bpy.ops.render.render(scene=scene.name)
    result = next(i for i in bpy.data.images if i.type == "RENDER_RESULT")
    result.save_render(str(path), scene=scene)
