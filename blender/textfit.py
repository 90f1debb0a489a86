"""How wide text is drawn in the sidebar, so the panels can choose a layout in which nothing
is cut off with "…" (Blender shortens a label or button text that does not fit its slot).

Widths are in pixels at the UI's scale, measured in the UI font at the UI style's size (the
way Blender measures a button's text). Outside a drawn sidebar (scripts, tests without a
window) the sidebar's default width stands in.
"""

from __future__ import annotations

from typing import Any

import blf
import bpy

#: Width of the 3D view's sidebar when it first opens, at UI scale 1 (tabs included).
DEFAULT_SIDEBAR_PX = 292
#: Sidebar pixels that are not a panel's content: the tab column, the panel's frame and its
#: inner margins (measured on Blender 4.3 and 5.2 screenshots), at UI scale 1.
SIDEBAR_INSET_PX = 56
#: A box's inner margins, both sides, at UI scale 1.
BOX_INSET_PX = 10
#: Blender's UI unit (``U.widget_unit``) at UI scale 1: an icon's width, a row's height.
UNIT_PX = 20
#: Share of a row ``use_property_split`` gives the label (Blender's UI_ITEM_PROP_SEP_DIVIDE).
SPLIT_FACTOR = 0.4
#: Text margins inside a button or label, both sides together, in UI units: what a
#: property's label gets in its column is decided with these, to spare.
TEXT_MARGIN_UNITS = 0.8
#: A label's own text margin, in UI units (Blender's UI_TEXT_MARGIN_X).
LABEL_MARGIN_UNITS = 0.4


def scale() -> float:
    return bpy.context.preferences.system.ui_scale or 1.0  # 0 without a display


def text_px(text: str) -> float:
    """``text`` drawn in the UI font at the UI style's size."""
    if not text:
        return 0.0
    blf.size(0, bpy.context.preferences.ui_styles[0].widget.points * scale())
    width: Any = blf.dimensions(0, text)  # typed as None by the stubs; a (width, height) pair
    return float(width[0])


def needed_px(text: str, icon: bool = False) -> float:
    """The slot a label or button needs to show ``text`` whole (with an icon before it)."""
    return text_px(text) + (TEXT_MARGIN_UNITS + (1 if icon else 0)) * UNIT_PX * scale()


def content_px(boxes: int = 0) -> float:
    """The width a panel's layout has in the sidebar as wide as it is now, inside ``boxes``
    nested boxes."""
    region = getattr(bpy.context, "region", None)
    s = scale()
    width = region.width if region is not None and region.type == "UI" and region.width > 1 \
        else DEFAULT_SIDEBAR_PX * s
    return width - (SIDEBAR_INSET_PX + BOX_INSET_PX * boxes) * s


def fits_label_column(text: str, boxes: int = 0) -> bool:
    """True when ``text`` shows whole as a property's label in a ``use_property_split``
    layout (its left column)."""
    return needed_px(text) <= content_px(boxes) * SPLIT_FACTOR


def fits(text: str, width_px: float, icon: bool = False) -> bool:
    return needed_px(text, icon) <= width_px
