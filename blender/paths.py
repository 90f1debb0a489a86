"""Paths a user types into Conjure's file fields, read the way Blender's own fields read them."""

from __future__ import annotations

from typing import Any

import bpy

_OPTION: Any = {"PATH_SUPPORTS_BLEND_RELATIVE"}  # the stubs' option sets predate it


def _relative_option() -> Any:
    """Blender 4.5+ warns when a "//" path is written to a file-path property that does not
    say it takes one; older versions refuse the option when the property is registered (not
    when it is made), so a throwaway property group is registered to ask."""
    probe = type("CONJURE_PG_path_probe", (bpy.types.PropertyGroup,), {"__annotations__": {
        "path": bpy.props.StringProperty(subtype="FILE_PATH", options=_OPTION)}})
    try:
        bpy.utils.register_class(probe)
    except (ValueError, TypeError, RuntimeError):
        return set()
    bpy.utils.unregister_class(probe)
    return _OPTION


#: Options of a file-path property whose "//" means the open .blend's folder.
RELATIVE: Any = _relative_option()
