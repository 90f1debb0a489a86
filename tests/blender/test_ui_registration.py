import addon_utils
import bpy


def test_ui_classes_and_scene_forms_come_and_go_with_the_extension(conjure):
    name = conjure.__name__
    assert hasattr(bpy.types, "CONJURE_PT_generate") and hasattr(bpy.types.Scene, "conjure")
    addon_utils.disable(name, default_set=True)
    try:
        assert not hasattr(bpy.types.Scene, "conjure")
        leftovers = [n for n in dir(bpy.types) if n.startswith(("CONJURE_PT", "CONJURE_PG",
                                                                 "CONJURE_UL"))]
        assert leftovers == []
        assert not hasattr(bpy.types, "CONJURE_OT_test_key")
    finally:
        addon_utils.enable(name, default_set=True)
    forms = bpy.types.Scene.bl_rna.properties["conjure"].fixed_type
    assert "op_tripo_text_to_model" in forms.properties
    assert bpy.context.scene.conjure.service
