"""Pictures for requests: Blender images saved as files the services accept, the Render Result,
and captures of the 3D view (drawn off-screen, or rendered with Workbench without a display)."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import bpy
import numpy as np

from ..providers.errors import InvalidRequestError
from . import session

_PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def inputs_dir() -> Path:
    """Where pictures made for a request are saved: the cache Clear may empty."""
    try:
        folder = session.user_dir() / "cache" / "inputs"
    except (ValueError, KeyError):  # not loaded as an extension (e.g. a bare register())
        folder = Path(tempfile.gettempdir()) / "conjure-inputs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def image_path(image: bpy.types.Image) -> str:
    """A picture file of ``image`` the services accept: its own file when it is an unchanged
    PNG/JPEG/WebP on disk, else a PNG written to the inputs cache."""
    if image.type == "IMAGE" and image.source == "FILE" and image.packed_file is None \
            and not image.is_dirty:
        path = bpy.path.abspath(image.filepath, library=image.library)
        if path.lower().endswith(_PICTURE_SUFFIXES) and os.path.isfile(path):
            return os.path.normpath(path)
    # A new name per request: a queued job reads its picture later, so an earlier file must
    # not be overwritten by the next request's.
    digest = uuid.uuid4().hex[:12]
    target = inputs_dir() / f"{bpy.path.clean_name(image.name)}-{digest}.png"
    if image.type == "RENDER_RESULT":
        save_render_png(image, target)
    else:
        if not image.has_data and image.source in ("FILE", "SEQUENCE", "MOVIE"):
            image.reload()
        if image.size[0] == 0 or image.size[1] == 0:
            raise InvalidRequestError(f"The image {image.name!r} has no pixels; pick or load "
                                      "another picture")
        copy = image.copy()
        try:
            copy.file_format = "PNG"
            copy.save(filepath=str(target))
        finally:
            bpy.data.images.remove(copy)
    return str(target)


def save_render_png(image: bpy.types.Image, target: Path) -> None:
    """Save the Render Result as PNG whatever the scene's output format is."""
    scene = bpy.context.scene
    settings = scene.render.image_settings
    saved = (settings.file_format, settings.color_mode, settings.color_depth)
    try:
        settings.file_format = "PNG"
        settings.color_mode = "RGBA"
        settings.color_depth = "8"
        try:
            image.save_render(str(target), scene=scene)
        except RuntimeError as exc:  # Blender: "could not acquire buffer from image"
            raise InvalidRequestError(
                "The Render Result is empty: render an image first (F12)") from exc
    finally:
        settings.file_format, settings.color_mode, settings.color_depth = saved


def load_snapshot(path: Path, name: str) -> bpy.types.Image:
    image = bpy.data.images.load(str(path), check_existing=False)
    image.name = name
    return image


def view3d(context: bpy.types.Context) -> tuple[Any, Any] | None:
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
    # gpu: imported here because the module cannot be used without a display (``-b``).
    import gpu  # noqa: PLC0415

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
        save_render_png(result, path)
    finally:
        (scene.camera, render.engine, render.resolution_x, render.resolution_y,
         render.resolution_percentage, render.film_transparent) = saved
        bpy.data.objects.remove(camera)
        bpy.data.cameras.remove(camera_data)
