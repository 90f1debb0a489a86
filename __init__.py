"""Conjure: generate 3D models with remote services and import them into the open scene.

Registration only. Enabling, disabling and enabling again leaves no stray classes, handlers,
timers or threads.
"""

from __future__ import annotations

import bpy

from . import engine, forms, panels, preferences, props
from .importers.vox import blender as vox_blender
from .operators import pump, ui

_CLASSES = (*preferences.classes, *props.classes, *pump.classes, *ui.classes)


def register() -> None:
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    props.register()
    # Forms are generated from the operation declarations; panels draw them.
    forms.register()
    for panel in panels.classes:
        bpy.utils.register_class(panel)
    vox_blender.register()
    for handler_list, handler in pump.handlers:
        if handler not in handler_list:
            handler_list.append(handler)
    engine.pump_stop_requested = False
    pump.arm()


def unregister() -> None:
    engine.pump_stop_requested = True
    pump.disarm()
    engine.shutdown()
    for handler_list, handler in pump.handlers:
        while handler in handler_list:
            handler_list.remove(handler)
    vox_blender.unregister()
    for panel in reversed(panels.classes):
        bpy.utils.unregister_class(panel)
    panels.unregister()
    forms.unregister()
    props.unregister()
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
