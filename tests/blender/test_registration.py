import bpy


def test_loaded_as_real_extension(conjure):
    assert conjure.__name__ == "bl_ext.dev.conjure"
    path = bpy.utils.extension_path_user(conjure.__package__, create=True)
    assert path and bpy.app.tempdir is not None
