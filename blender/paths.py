"""Paths a user types into Conjure's file fields, read the way Blender's own fields read them."""

from __future__ import annotations

from typing import Any

import bpy


def _relative_option() -> Any:  # the stubs' option sets predate the option
    # Blender 4.5+ warns when a "//" path is written to a file-path property that does not
    # say it takes one; older versions may not know the option at all.
    option: Any = {"PATH_SUPPORTS_BLEND_RELATIVE"}
    try:
        bpy.props.StringProperty(options=option)
    except TypeError:
        return set()
    return option


#: Options of a file-path property whose "//" means the open .blend's folder.
RELATIVE: Any = _relative_option()
