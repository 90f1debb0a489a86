"""Conjure: generate 3D models with remote services and import them into the open scene.

Registration only: every module below, in order, registers its ``classes`` and then runs its
own ``register()`` where it has one; disabling runs the same list backwards. Enabling,
disabling and enabling again leaves no stray classes, handlers, timers or threads.
"""

from __future__ import annotations

import bpy

from .blender import command_line, forms, mirror, preferences, pump
from .blender import library as asset_library
from .blender import parts as scene_parts
from .operators import (
    account,
    cache,
    follow_up,
    generate,
    images,
    import_vox,
    jobs,
    prompt,
    upload,
)
from .operators import library as library_operators
from .operators import parts as parts_operators
from .operators import pump as pump_operator
from .panels import candidates, selected
from .panels import generate as generate_panel
from .panels import jobs as jobs_panel
from .panels import parts as parts_panel

_MODULES = (
    preferences, mirror, forms,
    pump_operator, generate, follow_up, jobs, upload, images, prompt, account, cache,
    import_vox, parts_operators, library_operators,
    generate_panel, jobs_panel, selected, parts_panel, candidates,
    pump, scene_parts, asset_library, command_line,
)


def register() -> None:
    for module in _MODULES:
        for cls in getattr(module, "classes", ()):
            bpy.utils.register_class(cls)
        if hasattr(module, "register"):
            module.register()


def unregister() -> None:
    for module in reversed(_MODULES):
        if hasattr(module, "unregister"):
            module.unregister()
        for cls in reversed(getattr(module, "classes", ())):
            bpy.utils.unregister_class(cls)
