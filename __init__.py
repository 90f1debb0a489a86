"""Conjure: generate 3D models with remote services and import them into the open scene.

Registration only. Enabling, disabling and enabling again leaves no stray classes, handlers,
timers or threads.
"""

from __future__ import annotations

import bpy

from . import engine, forms, panels, preferences, props
from .cli import blender as cli_blender
from .importers.vox import blender as vox_blender
from .operators import follow_up, generate, jobs, pump, ui, upload

_CLASSES = (*preferences.classes, *props.classes, *pump.classes, *generate.classes,
            *follow_up.classes, *jobs.classes, *upload.classes, *ui.classes)
#: The ``blender -c conjure`` handle, kept to unregister it.
_cli_handle = None


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
    global _cli_handle
    _cli_handle = bpy.utils.register_cli_command("conjure", cli_blender.main)


def unregister() -> None:
    global _cli_handle
    if _cli_handle is not None:
        bpy.utils.unregister_cli_command(_cli_handle)
        _cli_handle = None
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
