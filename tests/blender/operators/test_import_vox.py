"""File > Import > MagicaVoxel and drag-and-drop of .vox files, as the extension registers them."""

import importlib

import bpy


def test_menu_entry_and_file_handler_are_registered(conjure):
    assert bpy.types.FileHandler.bl_rna is not None
    handler = bpy.types.CONJURE_FH_import_vox
    assert handler.bl_import_operator == "conjure.import_vox"
    assert ".vox" in handler.bl_file_extensions
    draw_funcs = bpy.types.TOPBAR_MT_file_import._dyn_ui_initialize()
    operator_module = importlib.import_module(f"{conjure.__name__}.operators.import_vox")
    assert operator_module._menu_import in draw_funcs
