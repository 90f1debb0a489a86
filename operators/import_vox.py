"""Blender entry points for ``.vox`` import: operator, File > Import entry, drag-and-drop."""

from __future__ import annotations

import os

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    StringProperty,
)
from bpy_extras.io_utils import ImportHelper

from ..blender import paths
from ..blender.vox_import import import_vox
from ..formats.vox.format import DEFAULT_MAX_FACES, VoxFormatError

_COLOR_MODE_ITEMS = (
    ("PALETTE_IMAGE", "Palette Image", "One material with a 256x1 palette image and UVs into it"),
    ("VERTEX_COLOR", "Color Attribute", "A face-corner color attribute read by one material"),
    ("MATERIAL_PER_COLOR", "Material per Color", "One material for each palette color used"),
)
_ORIGIN_ITEMS = (
    ("BOTTOM_CENTER", "Bottom Center", "Each object's origin at the bottom center of its model"),
    ("FILE", "As in File", "Each object's origin at MagicaVoxel's own pivot"),
)


class CONJURE_OT_import_vox(bpy.types.Operator, ImportHelper):
    """Import MagicaVoxel .vox files as meshes with palette colours and the file's scene graph"""

    bl_idname = "conjure.import_vox"
    bl_label = "Import MagicaVoxel"
    bl_options = {"REGISTER", "UNDO", "PRESET"}

    filename_ext = ".vox"
    filter_glob: StringProperty(default="*.vox", options={"HIDDEN"})
    files: CollectionProperty(
        type=bpy.types.OperatorFileListElement, options={"HIDDEN", "SKIP_SAVE"}
    )
    directory: StringProperty(subtype="DIR_PATH",
                              options={"HIDDEN", "SKIP_SAVE", *paths.RELATIVE})

    voxel_size: FloatProperty(
        name="Voxel Size",
        description="Edge length of one voxel",
        default=0.1,
        min=1e-4,
        soft_max=10.0,
        subtype="DISTANCE",
        unit="LENGTH",
    )
    color_mode: EnumProperty(
        name="Colors", items=_COLOR_MODE_ITEMS, default="PALETTE_IMAGE"
    )
    origin: EnumProperty(name="Origin", items=_ORIGIN_ITEMS, default="BOTTOM_CENTER")
    greedy: BoolProperty(
        name="Merge Faces",
        description="Merge neighbouring faces of one colour into rectangles (far fewer faces)",
        default=True,
    )
    watertight: BoolProperty(
        name="Watertight",
        description="Split merged faces' edges where neighbours meet them, so closed models "
        "stay manifold (for printing, booleans and remeshing)",
        default=False,
    )
    max_faces: IntProperty(
        name="Max Faces",
        description="Refuse files whose meshes would have more faces than this, before "
        "building anything (a million faces needs a few hundred MB of memory)",
        default=DEFAULT_MAX_FACES,
        min=1,
    )

    def _paths(self) -> list[str]:
        if self.files and self.directory:
            # "//" paths (a script's) are the open .blend's folder, as in Blender's own fields.
            folder = bpy.path.abspath(self.directory)
            return [os.path.join(folder, f.name) for f in self.files if f.name]
        return [bpy.path.abspath(self.filepath)]  # type: ignore[attr-defined]  # ImportHelper's

    def execute(self, context: bpy.types.Context) -> set[str]:
        imported = 0
        for path in self._paths():
            try:
                import_vox(
                    context,
                    path,
                    voxel_size=self.voxel_size,
                    greedy=self.greedy,
                    watertight=self.watertight,
                    color_mode=self.color_mode,
                    origin=self.origin,
                    max_faces=self.max_faces,
                )
            except (VoxFormatError, OSError) as error:
                self.report({"ERROR"}, f"{os.path.basename(path)}: {error}")
                continue
            imported += 1
        return {"FINISHED"} if imported else {"CANCELLED"}

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        # A drop from the file handler arrives with the files already chosen: offer the options
        # in a popup (4.2+) instead of opening a file browser.
        if self.directory and self.files:
            popup = getattr(self, "invoke_popup", None)
            return popup(context) if popup is not None else self.execute(context)
        return ImportHelper.invoke(self, context, event)  # type: ignore[return-value]


class CONJURE_FH_import_vox(bpy.types.FileHandler):
    bl_idname = "CONJURE_FH_import_vox"
    bl_label = "MagicaVoxel (.vox)"
    bl_import_operator = "conjure.import_vox"
    bl_file_extensions = ".vox"

    @classmethod
    def poll_drop(cls, context: bpy.types.Context) -> bool:
        return context.area is not None and context.area.type == "VIEW_3D"


def _menu_import(self, _context: bpy.types.Context) -> None:
    self.layout.operator(CONJURE_OT_import_vox.bl_idname, text="MagicaVoxel (.vox)")


_CLASSES = (CONJURE_OT_import_vox, CONJURE_FH_import_vox)


def register() -> None:
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.TOPBAR_MT_file_import.append(_menu_import)


def unregister() -> None:
    bpy.types.TOPBAR_MT_file_import.remove(_menu_import)
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
