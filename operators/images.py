"""The picture inputs of the panel forms: the Render Result, a capture of the 3D view, a file,
and removing a picture from a list. Each operator fills the input its ``target`` names."""

from __future__ import annotations

import time
from pathlib import Path

import bpy
from bpy.props import IntProperty, StringProperty

from ..blender import forms, paths, pictures


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
        path = pictures.inputs_dir() / f"render-{time.strftime('%Y%m%d-%H%M%S')}.png"
        try:
            pictures.save_render_png(result, path)
        except Exception as exc:
            self.report({"ERROR"}, f"Could not save the Render Result: {exc}")
            return {"CANCELLED"}
        if not self._assign(context, pictures.load_snapshot(path, "Conjure Render")):
            return {"CANCELLED"}
        return {"FINISHED"}


class CONJURE_OT_capture_viewport(_TargetOperator, bpy.types.Operator):
    """Use a picture of the 3D view as the input (drawn off-screen, or rendered with Workbench
    where there is no display)"""

    bl_idname = "conjure.capture_viewport"
    bl_label = "Capture Viewport"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        found = pictures.view3d(context)
        if found is None:
            self.report({"ERROR"}, "No 3D view to capture: open a 3D Viewport in this window")
            return {"CANCELLED"}
        area, region = found
        path = pictures.inputs_dir() / f"viewport-{time.strftime('%Y%m%d-%H%M%S')}.png"
        try:
            if bpy.app.background:
                raise RuntimeError("no display")
            pictures.capture_offscreen(context, area, region, path)
        except Exception:
            # No GPU context (``blender -b``, the bpy module) or the off-screen draw failed:
            # render the same view instead, slower but never blank.
            try:
                pictures.capture_render(context, area, region, path)
            except Exception as exc:
                self.report({"ERROR"}, f"Could not capture the viewport: {exc}")
                return {"CANCELLED"}
        if not self._assign(context, pictures.load_snapshot(path, "Conjure Viewport")):
            return {"CANCELLED"}
        self.report({"INFO"}, "Viewport captured")
        return {"FINISHED"}


class CONJURE_OT_load_image(_TargetOperator, bpy.types.Operator):
    """Load a picture file (PNG, JPEG or WebP) as the input"""

    bl_idname = "conjure.load_image"
    bl_label = "Load Picture"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    filepath: StringProperty(subtype="FILE_PATH", options={"SKIP_SAVE", *paths.RELATIVE})
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
    """Take this picture out of the input"""

    bl_idname = "conjure.remove_image"
    bl_label = "Remove Picture"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    index: IntProperty(min=0, options={"SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            holder, attr = forms.resolve_target(context, self.target)
        except KeyError:
            return {"CANCELLED"}
        if holder.bl_rna.properties[attr].type != "COLLECTION":
            setattr(holder, attr, None)  # the input of one picture: emptied
            return {"FINISHED"}
        slots = getattr(holder, attr)
        if self.index >= len(slots):
            return {"CANCELLED"}
        slots.remove(self.index)
        return {"FINISHED"}


classes = (CONJURE_OT_use_render_result, CONJURE_OT_capture_viewport, CONJURE_OT_load_image,
           CONJURE_OT_remove_image)
