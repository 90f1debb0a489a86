import threading

import addon_utils
import bpy


def test_loaded_as_real_extension(conjure):
    assert conjure.__name__ == "bl_ext.dev.conjure"
    assert conjure.engine.user_dir().is_dir()
    assert bpy.context.preferences.addons[conjure.__package__].preferences is not None


def _our_handlers():
    return [h for h in bpy.app.handlers.load_post if h.__module__.startswith("bl_ext.dev.conjure")]


def test_enable_disable_enable_leaves_nothing_behind(conjure):
    name = conjure.__name__
    conjure.engine.get()  # worker threads running
    addon_utils.disable(name, default_set=True)
    assert [t for t in threading.enumerate() if t.name.startswith("conjure-")] == []
    assert not hasattr(bpy.types, "CONJURE_OT_pump")
    assert not hasattr(bpy.types.WindowManager, "conjure")
    assert _our_handlers() == []
    assert conjure.engine.running() is None
    addon_utils.enable(name, default_set=True)
    addon_utils.enable(name, default_set=True)
    assert hasattr(bpy.types, "CONJURE_OT_pump")
    assert len(_our_handlers()) == 1
    assert hasattr(bpy.context.window_manager, "conjure")
